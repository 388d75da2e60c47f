package dev.ibex.replicate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.capture.ChangeLog;
import dev.ibex.capture.LoggedTable;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What changed on a source since one S_prev, read in the batch's snapshot: the truncated tables
 * and the changed keys. First the tables with changes (one query on the shared log, whatever the
 * number of captured tables), then the keys of those among {@code tables} that were not truncated
 * (truncated ones are copied whole). The keys come a step at a time from one open query, so a
 * backlog of any size is applied in bounded memory; reading again in the same snapshot gives the
 * same keys.
 */
final class Changes implements AutoCloseable {

    /** Changed keys of one table, at most a chunk's worth. */
    record Chunk(Relation table, List<String[]> keys) {
    }

    /**
     * A source's changes as a sync with several sources compares them: each changed key with the
     * time of its latest change, and the tables truncated ("schema\0table", copied whole).
     */
    record Latest(Map<Relation, Map<List<String>, Instant>> keys, Set<String> truncated) {
        static final Latest NONE = new Latest(Map.of(), Set.of());
    }

    /** Truncated tables, "schema\0table". */
    final Set<String> truncated = new HashSet<>();
    /** Keys another source won (several sources), by relation id: not read from this one. */
    private final Map<Integer, Set<List<String>>> lost;
    /** The reading sync: rows it wrote itself (makedelta) are not its changes. */
    private final String sync;
    /** The tables whose keys the query reads, by their branch number. */
    private final List<Relation> read = new ArrayList<>();
    private PreparedStatement ps;
    private ResultSet rs;
    /** Key columns in the query: the widest key among the tables read. */
    private int width;
    private long total;
    private long keysRead;
    private boolean more;

    private Changes(String sync, Map<Integer, Set<List<String>>> lost) {
        this.sync = sync;
        this.lost = lost;
    }

    /**
     * Finds the tables changed since S_prev and opens the query of their keys; a run with nothing
     * to do costs one round trip. {@code s} must be in a transaction (the rows come {@code fetch}
     * at a time) and stay free for other statements between steps.
     */
    static Changes since(Connection s, Db source, String prev, String sync, List<Relation> tables, int fetch,
                         Map<Integer, Set<List<String>>> lost) throws SQLException {
        Changes changes = new Changes(sync, lost);
        try {
            List<LoggedTable> changed = changes.touched(s, prev, tables);
            if (!changed.isEmpty()) {
                changes.open(s, prev, changed, fetch, false);
            }
            return changes;
        } catch (SQLException e) {
            throw changes.failed(source, e);
        } catch (RuntimeException e) {
            changes.close();
            throw e;
        }
    }

    /**
     * Every key of {@code tables} changed since S_prev, with the time of its latest change, for
     * telling which keys several sources changed (all at once: a sync with several sources holds
     * them in memory); tables truncated since are left out (they are copied whole).
     */
    static Latest latest(Connection s, Db source, String prev, String sync, List<Relation> tables)
            throws SQLException {
        Map<Relation, Map<List<String>, Instant>> out = new LinkedHashMap<>();
        try (Changes changes = new Changes(sync, Map.of())) {
            try {
                List<LoggedTable> changed = changes.touched(s, prev, tables);
                if (changed.isEmpty()) {
                    return new Latest(out, changes.truncated);
                }
                changes.open(s, prev, changed, 10_000, true);
                int width = changes.width;
                for (; changes.more; changes.more = changes.rs.next()) {
                    Relation r = changes.read.get(changes.rs.getInt(1));
                    OffsetDateTime ts = changes.rs.getObject(width + 2, OffsetDateTime.class);
                    out.computeIfAbsent(r, x -> new HashMap<>()).put(changes.key(r),
                            ts == null ? Instant.EPOCH : ts.toInstant());
                }
                return new Latest(out, changes.truncated);
            } catch (SQLException e) {
                throw changes.failed(source, e);
            }
        }
    }

    private SQLException failed(Db source, SQLException e) throws SQLException {
        close();
        if (SqlState.UNDEFINED_TABLE.is(e)) {
            throw new IbexException(ExitCode.BAD_INPUT, "Capture is not installed on source db \""
                    + source.name() + "\": activate or reload the sync");
        }
        if (SqlState.isDataException(e)) {
            // only the triggers write well-formed keys; any user may insert into ibex.log
            throw new IbexException(ExitCode.BAD_INPUT, "ibex.log on source db \"" + source.name()
                    + "\" holds a key that is not a value of its table's key type (" + PgErrors.firstLine(e.getMessage())
                    + "): a row written there by hand? Find it with SELECT l.*, c.keytypes "
                    + "FROM ibex.log l JOIN ibex.captured c USING (tab) and delete it");
        }
        return e;
    }

    /** Records the truncated tables; returns the changed tables of {@code tables} that were not truncated. */
    private List<LoggedTable> touched(Connection s, String prev, List<Relation> tables) throws SQLException {
        Map<String, Relation> byName = new HashMap<>();
        tables.forEach(r -> byName.put(TableCopy.key(r), r));
        Map<LoggedTable, Relation> changed = new LinkedHashMap<>();
        try (PreparedStatement q = s.prepareStatement(ChangeLog.TOUCHED)) {
            bindNotOwn(q, 1, prev);
            bindNotOwn(q, 4, prev);
            try (ResultSet t = q.executeQuery()) {
                while (t.next()) {
                    String name = TableCopy.key(t.getString(2), t.getString(3));
                    if (t.getObject(1) == null) {
                        truncated.add(name);
                    } else if (byName.containsKey(name)) {
                        changed.put(ChangeLog.loggedTable(t), byName.get(name));
                    }
                }
            }
        }
        List<LoggedTable> out = new ArrayList<>();
        changed.forEach((logged, r) -> {
            if (!truncated.contains(TableCopy.key(r))) {
                requireSameKey(logged, r);
                out.add(logged);
                read.add(r);
            }
        });
        return out;
    }

    private static void requireSameKey(LoggedTable logged, Relation r) {
        if (!logged.keycols().equals(r.keyColumns())) {
            throw new IbexException(ExitCode.BAD_INPUT, "Table " + r.display() + " is captured with key ("
                    + String.join(", ", logged.keycols()) + ") but its relation has key (" + String.join(", ", r.keyColumns())
                    + "): reload the sync to capture it under the new key");
        }
    }

    private void open(Connection s, String prev, List<LoggedTable> changed, int fetch, boolean withTime)
            throws SQLException {
        width = Math.max(1, changed.stream().mapToInt(t -> t.keycols().size()).max().orElse(0));
        List<String> branches = new ArrayList<>();
        for (int i = 0; i < changed.size(); i++) {
            branches.add(ChangeLog.keysSql(i, changed.get(i), width, withTime));
        }
        ps = s.prepareStatement(ChangeLog.keysQuery(branches, withTime));
        int p = bindNotOwn(ps, 1, prev);
        for (LoggedTable t : changed) {
            if (t.ownDelta()) {
                p = bindNotOwn(ps, p, prev);
            }
        }
        ps.setFetchSize(fetch);
        rs = ps.executeQuery();
        more = rs.next();
        total = more ? rs.getLong(width + 3) : 0;
    }

    /** S_prev twice and the sync's name from {@code p} on (see ChangeLog.notOwn); the next index. */
    private int bindNotOwn(PreparedStatement ps, int p, String prev) throws SQLException {
        ps.setString(p, prev);
        ps.setString(p + 1, prev);
        ps.setString(p + 2, sync);
        return p + 3;
    }

    private List<String> key(Relation r) throws SQLException {
        String[] k = new String[r.keyColumns().size()];
        for (int i = 0; i < k.length; i++) {
            k[i] = rs.getString(i + 2);
        }
        return Arrays.asList(k);
    }

    /**
     * The next step: up to {@code stepKeys} keys, cut into chunks of at most {@code chunkKeys}
     * keys of one table; empty when every key has been read.
     */
    List<Chunk> next(int chunkKeys, int stepKeys) throws SQLException {
        Map<Relation, List<String[]>> open = new LinkedHashMap<>();
        List<Chunk> step = new ArrayList<>();
        int keys = 0;
        while (more && keys < stepKeys) {
            Relation r = read.get(rs.getInt(1));
            List<String> k = key(r);
            if (lost.getOrDefault(r.id(), Set.of()).contains(k)) {
                more = rs.next();
                continue;
            }
            List<String[]> chunk = open.computeIfAbsent(r, x -> new ArrayList<>());
            chunk.add(k.toArray(new String[0]));
            keys++;
            keysRead++;
            if (chunk.size() >= chunkKeys) {
                step.add(new Chunk(r, chunk));
                open.remove(r);
            }
            more = rs.next();
        }
        open.forEach((r, chunk) -> step.add(new Chunk(r, chunk)));
        return step;
    }

    /** Every changed key of the batch, including those not read yet. */
    long total() {
        return total;
    }

    /** Keys read so far: what the run applied. */
    long read() {
        return keysRead;
    }

    @Override
    public void close() throws SQLException {
        if (ps != null) {
            ps.close();
        }
    }
}
