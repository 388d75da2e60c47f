package dev.ibex.replicate;

import dev.ibex.IbexException;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.ColumnDiff;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SessionSettings;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One target while a batch is applied to it: its connection, its trigger suppression, what it
 * applied, and whether it failed (a failed target drops out; the others go on).
 */
final class TargetSession {

    private static final Logger LOG = LoggerFactory.getLogger(TargetSession.class);

    final Db db;
    private Connection c;
    private TriggerSuppression suppression;
    private static final int BATCH = 64 * 1024;

    private CopyIn copy;
    private final byte[] buffer = new byte[BATCH];
    private int buffered;
    private boolean inTransaction;
    /** Shapes this target has every column of: the run cache's, or the session's own. */
    private final Set<TableCopy> checked;
    private long deletes;
    private long inserts;
    private String error;
    /** The SQLSTATE of the failure, if it was a database error. */
    private String failState;
    private MakeDelta makeDelta;

    TargetSession(Db db) {
        this(db, new HashSet<>());
    }

    TargetSession(Db db, Set<TableCopy> checked) {
        this.db = db;
        this.checked = checked;
    }

    boolean alive() {
        return error == null;
    }

    /** Why the target dropped out, or null while it is alive. */
    String error() {
        return error;
    }

    /** The SQLSTATE of the failure or its cause, if it was a database error. */
    String failState() {
        return failState;
    }

    /** The target dropped out on this database error. */
    boolean failedWith(SqlState state) {
        return !alive() && state.code().equals(failState);
    }

    long deletes() {
        return deletes;
    }

    long inserts() {
        return inserts;
    }

    String suppressionWord() {
        return suppression == null ? null : suppression.mode().word;
    }

    /** Connects and probes suppression; on failure the session is failed, not thrown. */
    void open(DbPools pools) {
        open(() -> pools.connection(db));
    }

    /**
     * A connection of its own, outside the pools (a parallel copy may need more than a pool holds),
     * speaking the pools' text dialect; closing the session closes it.
     */
    void openDirect(String applicationName) {
        open(() -> SessionSettings.connect(db.spec(), applicationName));
    }

    /**
     * How each open server connection suppresses triggers: probed once per connection, not once
     * per run (a pooled connection serves many runs). Forgotten when a session on it fails.
     */
    private static final Map<Object, TriggerSuppression> PROBED = Collections.synchronizedMap(new WeakHashMap<>());

    private TriggerSuppression probed(Connection pooled) throws SQLException {
        Object server = pooled.unwrap(PGConnection.class);
        TriggerSuppression known = PROBED.get(server);
        if (known == null) {
            known = TriggerSuppression.probe(pooled, db.name());
            PROBED.put(server, known);
        }
        return known;
    }

    private interface Connector {
        Connection connect() throws SQLException;
    }

    private void open(Connector connector) {
        try {
            c = connector.connect();
            c.setAutoCommit(false);
            suppression = probed(c);
        } catch (IbexException e) {
            failed(e.getMessage(), e);
        } catch (SQLException e) {
            failed("Connecting to target db \"" + db.name() + "\" failed: " + PgErrors.message(e), e);
        }
    }

    /**
     * The target must have every column the source copies; checked once per shape (a cached
     * shape once across runs), tables read together.
     */
    void check(List<TableCopy> tables) throws SQLException {
        check(tables, null);
    }

    /**
     * {@link #check(List)} for the changes of {@code sync}: a table missing on the target then
     * had rows there (it was dropped, maybe to be made anew), which the changes alone never bring
     * back, so the error also says how to copy them in.
     */
    void check(List<TableCopy> tables, String sync) throws SQLException {
        List<TableCopy> unchecked = tables.stream().filter(t -> !checked.contains(t)).distinct().toList();
        if (unchecked.isEmpty()) {
            return;
        }
        Map<String, Catalog.Shape> shapes = TableCopy.shapes(c, db.name(), unchecked.stream().map(t -> t.relation).toList());
        for (TableCopy t : unchecked) {
            Catalog.Shape have = shapes.get(t.display());
            if (have == null) {
                throw SqlState.UNDEFINED_TABLE.refusal("Table " + t.display() + " does not exist on target db \""
                        + db.name() + "\": create it there (same columns as the source)" + (sync == null ? ""
                        : ", then copy in the rows it had: ibex compare " + sync + " --repair (the changes alone "
                        + "bring only the rows written from now on)"));
            }
            // types may differ (COPY converts the text); a missing or generated column cannot take the rows,
            // nor can one only the target has that is NOT NULL without a default (the source dropped it, say)
            List<ColumnDiff.Finding> diff = ColumnDiff.of(t.shape, TableCopy.copied(have));
            Optional<ColumnDiff.Finding> gap = diff.stream().filter(f -> f.kind() == ColumnDiff.Kind.MISSING).findFirst();
            if (gap.isPresent()) {
                throw SqlState.UNDEFINED_COLUMN.refusal("Table " + t.display() + " on target db \"" + db.name()
                        + "\" has no column \"" + gap.get().column() + "\" (or it is generated there): add it as on "
                        + "the source");
            }
            Optional<ColumnDiff.Finding> required = diff.stream()
                    .filter(f -> f.kind() == ColumnDiff.Kind.EXTRA_REQUIRED).findFirst();
            if (required.isPresent()) {
                throw SqlState.NOT_NULL_VIOLATION.refusal("Table " + t.display() + " on target db \"" + db.name()
                        + "\" has column \"" + required.get().column() + "\" NOT NULL without a default, which the "
                        + "source does not have (dropped or renamed there?), so no copied row fits: drop it there too, "
                        + "or give it a default");
            }
            checked.add(t);
        }
    }

    /** Logs in the db's own capture what this transaction applies (makedelta). */
    MakeDelta makeDelta(String sync) {
        if (makeDelta == null) {
            makeDelta = new MakeDelta(c, db.name(), sync);
        }
        return makeDelta;
    }

    void begin() throws SQLException {
        if (!inTransaction) {
            suppression.begin(c, SourceBatch.KEY_PLANS);
            inTransaction = true;
        }
    }

    /**
     * Deletes the rows of each table's keys ({@code keys.get(i)} of {@code tables.get(i)}): every
     * DELETE of a step, and the first statements of the transaction when it starts here, in one
     * round trip.
     */
    void deleteKeys(List<TableCopy> tables, List<List<String[]>> keys) throws SQLException {
        List<String> sql = new ArrayList<>();
        if (!inTransaction) {
            sql.add(suppression.beginSql(SourceBatch.KEY_PLANS));
            inTransaction = true;
        }
        tables.forEach(t -> sql.add(t.deleteKeysSql()));
        try (PreparedStatement ps = c.prepareStatement(String.join("; ", sql))) {
            int p = 1;
            for (int t = 0; t < tables.size(); t++) {
                List<String[]> rows = keys.get(t);
                for (int k = 0; k < tables.get(t).relation.keyColumns().size(); k++) {
                    ps.setArray(p++, c.createArrayOf("text", TableCopy.column(rows, k)));
                }
            }
            // the SETs count 0 rows, a suppression function's SELECT gives a result set
            boolean result = ps.execute();
            while (result || ps.getUpdateCount() != -1) {
                if (!result) {
                    deletes += ps.getUpdateCount();
                }
                result = ps.getMoreResults();
            }
        }
    }

    void deleteAll(TableCopy t) throws SQLException {
        begin();
        try (Statement st = c.createStatement()) {
            deletes += st.executeUpdate(t.deleteAllSql());
        }
    }

    /**
     * Empties the table and commits, before a copy in parts. TRUNCATE where the target lets it
     * (no foreign key points at the table, the user may truncate it, its lock comes within 5 s):
     * far cheaper than deleting every row and leaves no dead rows for the copy's index inserts
     * to step over; else DELETE. The rows are counted either way.
     */
    void emptyTable(TableCopy t) throws SQLException {
        begin();
        try (Statement st = c.createStatement()) {
            long rows;
            st.execute("SAVEPOINT ibex_truncate");
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM ONLY " + t.relation.quoted())) {
                rs.next();
                rows = rs.getLong(1);
                st.execute("SET LOCAL lock_timeout = '5s'; TRUNCATE ONLY " + t.relation.quoted());
                st.execute("RELEASE SAVEPOINT ibex_truncate");
            } catch (SQLException e) {
                LOG.debug("TRUNCATE {} on db \"{}\" refused ({}): deleting instead", t.display(), db.name(),
                        PgErrors.message(e));
                st.execute("ROLLBACK TO SAVEPOINT ibex_truncate");
                rows = st.executeUpdate(t.deleteAllSql());
            }
            deletes += rows;
        }
        commit();
    }

    void startCopy(TableCopy t) throws SQLException {
        begin();
        CopyManager api = c.unwrap(PGConnection.class).getCopyAPI();
        copy = api.copyIn(t.copyInSql());
    }

    /**
     * Rows go out in CopyData messages of up to {@link #BATCH} bytes, not one message per row as
     * they arrive from the source: fewer messages for the target to parse and the driver to frame.
     */
    void write(byte[] row) throws SQLException {
        if (row.length >= BATCH) {
            flush();
            copy.writeToCopy(row, 0, row.length);
            return;
        }
        if (buffered + row.length > BATCH) {
            flush();
        }
        System.arraycopy(row, 0, buffer, buffered, row.length);
        buffered += row.length;
    }

    private void flush() throws SQLException {
        if (buffered > 0) {
            copy.writeToCopy(buffer, 0, buffered);
            buffered = 0;
        }
    }

    void endCopy() throws SQLException {
        flush();
        CopyIn done = copy;
        copy = null;
        inserts += done.endCopy();
    }

    /**
     * Streams one COPY out of the source into every session of {@code live} (bytes, no row
     * objects), then ends each session's COPY. A session that fails is handed to
     * {@code onFailure} and left out of the rest; the others go on.
     */
    static void fanOut(CopyOut out, List<TargetSession> live, IntConsumer onRow,
                       BiConsumer<TargetSession, Exception> onFailure) throws SQLException {
        try {
            byte[] row;
            while ((row = out.readFromCopy()) != null) {
                onRow.accept(row.length);
                for (TargetSession ts : live) {
                    if (ts.alive()) {
                        try {
                            ts.write(row);
                        } catch (SQLException | RuntimeException e) {
                            onFailure.accept(ts, e);
                        }
                    }
                }
            }
        } finally {
            if (out.isActive()) {
                out.cancelCopy();
            }
        }
        for (TargetSession ts : live) {
            if (ts.alive()) {
                try {
                    ts.endCopy();
                } catch (SQLException | RuntimeException e) {
                    onFailure.accept(ts, e);
                }
            }
        }
    }

    void commit() throws SQLException {
        if (!inTransaction) {
            return;
        }
        c.commit();
        inTransaction = false;
        suppression.end(c);
    }

    /**
     * Fresh planner statistics after a whole-table copy, in a transaction of its own. A user who
     * may not analyze the table gets a server WARNING, not an error.
     */
    void analyze(TableCopy t) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("ANALYZE " + t.relation.quoted());
        }
        c.commit();
    }

    /** The target failed applying: marked so in the words of {@link #applyingTo}. */
    void failed(Exception e) {
        failed(PgErrors.describe(applyingTo(db), e), e);
    }

    /** Marks the target failed: rolls back its transaction and gives its connection back clean. */
    void failed(String message, Exception e) {
        if (c != null) {
            try {
                PROBED.remove(c.unwrap(PGConnection.class));
            } catch (SQLException ignored) {
                // not a PostgreSQL connection: nothing was remembered
            }
        }
        if (error == null) {
            error = message;
            failState = SqlState.in(e);
            LOG.debug("{}", message, e); // the run's error carries it to the kid's log
        }
        close();
    }

    /** Rolls back whatever is unfinished, resets suppression and returns the connection. */
    void close() {
        if (c == null) {
            return;
        }
        try {
            if (copy != null && copy.isActive()) {
                copy.cancelCopy();
            }
            c.rollback();
            if (suppression != null) {
                suppression.end(c);
            }
        } catch (SQLException ignored) {
            // a broken connection: the pool discards it
        }
        copy = null;
        buffered = 0;
        inTransaction = false;
        try {
            c.close();
        } catch (SQLException ignored) {
            // returned or discarded
        }
        c = null;
    }

    /** What a failure on the target failed at, for {@link PgErrors#describe(String, Throwable)}. */
    static String applyingTo(Db db) {
        return "Applying to target db \"" + db.name() + "\"";
    }
}
