package dev.ibex.replicate;

import dev.ibex.pg.Identifiers;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SessionSettings;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One worker of a whole-table copy: its own source connection in the batch's exported snapshot
 * and its own target connections, taking tasks (a table, or a part of a split one) until there are
 * none left, the source fails, or no target is left. It connects once, first, and writes nothing
 * before the copy has checked the claim after every worker connected ({@link WholeTables#awaitCleared}).
 */
final class CopyWorker implements Runnable {

    /** Logged as the copy it is part of. */
    private static final Logger LOG = LoggerFactory.getLogger(WholeTables.class);
    /** Below this size the expected row count is counted in the snapshot; above, pg_class.reltuples. */
    private static final long COUNT_BELOW_BYTES = 8L << 20;
    private static final String SIZE = """
            SELECT c.reltuples::bigint, pg_catalog.pg_relation_size(c.oid) < ? FROM pg_catalog.pg_class c
            WHERE c.oid = ?::regclass""";
    private static final String COUNT = "SELECT count(*) FROM ONLY %s";

    private final WholeTables copy;
    private final List<TargetSession> sessions = new ArrayList<>();
    private Connection src;

    CopyWorker(WholeTables copy) {
        this.copy = copy;
    }

    @Override
    public void run() {
        MDC.put("sync", copy.sync);
        try {
            try {
                src = openSource();
                openTargets();
            } finally {
                copy.connected();
            }
            copy.awaitCleared();
            work();
        } catch (SQLException | RuntimeException e) {
            copy.sourceFailed(e);
        } finally {
            copy.took(sessions);
            closeSource();
            MDC.remove("sync");
        }
    }

    private void work() throws SQLException {
        WholeTables.Task task;
        while ((task = copy.next()) != null) {
            copy.dropFailed(sessions);
            if (sessions.stream().noneMatch(TargetSession::alive)) {
                copy.noMoreTasks();
                return;
            }
            if (task.split() == null) {
                copyTable(task.table());
                copy.tableCopied();
            } else {
                copyPart(task);
            }
        }
    }

    /** The batch's own transaction when no snapshot could be exported, else a connection in the exported one. */
    private Connection openSource() throws SQLException {
        if (copy.snapshotId == null) {
            return copy.batch();
        }
        Connection c = SessionSettings.connect(copy.source.spec(), copy.application);
        try (Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(SessionSettings.snapshotIsolationLevel(ServerVersion.of(c)));
            st.execute("SET TRANSACTION SNAPSHOT " + Identifiers.literal(copy.snapshotId));
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    /** A target another worker has lost already is not connected again. */
    private void openTargets() {
        for (Db t : copy.targets) {
            TargetSession ts = new TargetSession(t);
            if (!copy.lost(t)) {
                ts.openDirect(copy.application);
                copy.noteFailure(ts);
            }
            sessions.add(ts);
        }
    }

    private void closeSource() {
        if (src != null && src != copy.batch()) {
            try {
                src.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
    }

    private void copyTable(TableCopy table) throws SQLException {
        long t0 = System.nanoTime();
        CopyProgress p = new CopyProgress(table.display(), expectedRows(table), t0);
        copy.started(p);
        try {
            List<TargetSession> live = copy(table, table.copyOutAllSql(), true, p);
            if (live.isEmpty()) {
                return;
            }
            long copied = System.nanoTime();
            copy.analyze(table, live);
            LOG.info("Copied {}: {} rows in {} s, ANALYZE {} s", table.display(), p.rows(), seconds(copied - t0),
                    seconds(System.nanoTime() - copied));
        } finally {
            copy.ended(p);
        }
    }

    /** One part of a split table, in one target transaction per target; the table was emptied before any part. */
    private void copyPart(WholeTables.Task task) throws SQLException {
        SplitTable split = task.split();
        TableCopy table = task.table();
        split.prepare(sessions);
        copy.dropFailed(sessions);
        split.partDone(copy(table, table.copyOutPartSql(task.where()), false, split.progress()));
    }

    /**
     * One COPY out of the source into every live target, one target transaction each (emptying the
     * table first when asked), committed; returns the targets that committed it, so a copy that
     * failed on a target is not logged as copied.
     */
    private List<TargetSession> copy(TableCopy table, String copyOutSql, boolean emptyFirst, CopyProgress progress)
            throws SQLException {
        List<TargetSession> live = start(table, emptyFirst);
        if (live.isEmpty()) {
            return live;
        }
        CopyOut out = src.unwrap(PGConnection.class).getCopyAPI().copyOut(copyOutSql);
        TargetSession.fanOut(out, live, progress::row, copy::fail);
        for (TargetSession ts : live) {
            if (ts.alive()) {
                try {
                    // every part says so: a reader that copies the table after one part copies it again after the next
                    if (copy.makedelta.at(ts.db.name(), table.relation)) {
                        ts.makeDelta(copy.sync).copiedWhole(table);
                    }
                    ts.commit();
                } catch (SQLException | RuntimeException e) {
                    copy.fail(ts, e);
                }
            }
        }
        return live.stream().filter(TargetSession::alive).toList();
    }

    /** Starts the COPY into the table on every live target; returns those it started on. */
    private List<TargetSession> start(TableCopy table, boolean emptyFirst) {
        List<TargetSession> live = new ArrayList<>();
        for (TargetSession ts : sessions) {
            if (ts.alive()) {
                try {
                    ts.check(List.of(table));
                    if (emptyFirst) {
                        ts.deleteAll(table);
                    }
                    ts.startCopy(table);
                    live.add(ts);
                } catch (SQLException | RuntimeException e) {
                    copy.fail(ts, e);
                }
            }
        }
        return live;
    }

    /** The rows the source holds in this snapshot: counted when the table is small, else the planner's estimate. */
    private long expectedRows(TableCopy table) throws SQLException {
        long estimate;
        boolean small;
        try (PreparedStatement ps = src.prepareStatement(SIZE)) {
            ps.setLong(1, COUNT_BELOW_BYTES);
            ps.setString(2, table.relation.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                estimate = rs.getLong(1);
                small = rs.getBoolean(2);
            }
        }
        if (!small) {
            return estimate > 0 ? estimate : -1;
        }
        try (Statement st = src.createStatement();
             ResultSet rs = st.executeQuery(COUNT.formatted(table.relation.quoted()))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.2f", nanos / 1e9);
    }
}
