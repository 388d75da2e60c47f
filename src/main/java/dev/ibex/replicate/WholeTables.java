package dev.ibex.replicate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SessionSettings;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Copies whole tables (one-time copy, fullcopy targets, truncated tables) from one source snapshot
 * into targets, copy_parallel workers at a time. Every worker imports the batch's exported snapshot
 * (SET TRANSACTION SNAPSHOT), so each table is read exactly as of S_cur, and has its own source and
 * target connections. A table is one transaction per target (triggers and FKs suppressed): delete
 * everything, COPY the source's rows in, commit, then ANALYZE. A table of copy_split_mb or more is
 * read in parts ({@link TableParts}) by several workers at once: the first worker to reach it empties
 * it on every target and commits, then each part is one target transaction, and whichever part
 * ends last runs ANALYZE. A target that fails drops out of every worker (the run is bad for it, and
 * a one-time copy stays pending, so it is copied again whole); the others go on. Progress (rows,
 * MB/s, ETA per table, parts counted together) is reported every few seconds.
 */
final class WholeTables {

    static final long PROGRESS_MILLIS = 2_000;
    /** Below this size the expected row count is counted in the snapshot; above, pg_class.reltuples. */
    private static final long COUNT_BELOW_BYTES = 8L << 20;
    private static final String APPLICATION = "ibex copy";

    private static final Logger LOG = LoggerFactory.getLogger(WholeTables.class);

    /** What the copy did on one target; error is null when every table arrived. */
    static final class Outcome {
        final Db db;
        long deletes;
        long inserts;
        String suppression;
        String error;

        Outcome(Db db) {
            this.db = db;
        }
    }

    private final String sync;
    private final Db source;
    private final String snapshotId;
    private final List<Db> targets;
    private final int parallel;
    private final Predicate<TableCopy> analyze;
    private final Map<String, Outcome> outcomes = new LinkedHashMap<>();
    private final Map<String, String> failed = new ConcurrentHashMap<>();
    private final List<CopyProgress> running = new CopyOnWriteArrayList<>();
    private final AtomicInteger copied = new AtomicInteger();
    private final AtomicReference<Exception> sourceError = new AtomicReference<>();
    private final Queue<Task> queue = new ConcurrentLinkedQueue<>();
    /** The batch's own transaction, the one worker's source when no snapshot could be exported. */
    private Connection batch;
    private final long progressMillis;
    private final long splitBytes;
    private int total;

    /** One unit of a worker's work: a whole table, or (split != null) one part of a split table. */
    private record Task(TableCopy table, Split split, String where) {
    }

    /**
     * @param snapshotId pg_export_snapshot() of the batch's source transaction, which stays open
     *                   meanwhile; null for a source before 9.2: one worker then reads in that transaction
     * @param analyze    which tables get ANALYZE on the targets after their copy
     * @param progressMillis how often {@link #copy} reports progress
     * @param splitBytes     tables this large or larger are read in parts by several workers
     */
    WholeTables(String sync, Db source, String snapshotId, List<Db> targets, int parallel, Predicate<TableCopy> analyze,
                long progressMillis, long splitBytes) {
        this.progressMillis = progressMillis;
        this.splitBytes = splitBytes;
        this.sync = sync;
        this.source = source;
        this.snapshotId = snapshotId;
        this.targets = targets;
        this.parallel = snapshotId == null ? 1 : parallel;
        this.analyze = analyze;
        targets.forEach(t -> outcomes.put(t.name(), new Outcome(t)));
    }

    /**
     * Copies the tables; {@code progress} gets a detail line every few seconds, on this thread.
     * Throws when the source could not be read (then no target is complete).
     *
     * @param batch the batch's source transaction (the snapshot's exporter), for the tables' sizes
     */
    List<Outcome> copy(Connection batch, List<TableCopy> tables, Consumer<String> progress) throws SQLException {
        this.batch = batch;
        queue.addAll(plan(batch, tables));
        total = tables.size();
        List<Thread> workers = new ArrayList<>();
        int n = Math.max(1, Math.min(parallel, queue.size()));
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(this::work, "ibex-copy-" + sync + "-" + (i + 1));
            t.start();
            workers.add(t);
        }
        try {
            for (Thread t : workers) {
                while (t.isAlive()) {
                    t.join(progressMillis);
                    if (t.isAlive()) {
                        progress.accept(detail());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sourceError.compareAndSet(null, new IbexException(ExitCode.RUN_FAILED, "Copy of sync " + sync
                    + " was interrupted"));
            queue.clear();
            for (Thread t : workers) {
                try {
                    t.join();
                } catch (InterruptedException again) {
                    break;
                }
            }
        }
        Exception e = sourceError.get();
        if (e instanceof SQLException se) {
            throw se;
        }
        if (e instanceof RuntimeException re) {
            throw re;
        }
        failed.forEach((db, error) -> {
            Outcome o = outcomes.get(db);
            if (o.error == null) {
                o.error = error;
            }
        });
        return List.copyOf(outcomes.values());
    }

    /** e.g. "copy public.a 1200/5000 rows 3.1 MB/s ETA 00:04; copy public.b 10/10 rows (1 of 3 tables copied)". */
    String detail() {
        long now = System.nanoTime();
        String lines = running.stream().map(p -> p.line(now)).collect(Collectors.joining("; "));
        return (lines.isEmpty() ? "copy" : lines) + " (" + copied.get() + " of " + total + " tables copied)";
    }

    /**
     * The tasks: the parts of large tables first, largest table first (so every worker has one to
     * take), then the other tables in their order.
     */
    private List<Task> plan(Connection batch, List<TableCopy> tables) throws SQLException {
        if (parallel < 2 || splitBytes == Long.MAX_VALUE) {
            return tables.stream().map(t -> new Task(t, null, null)).toList();
        }
        List<Split> splits = new ArrayList<>();
        List<Task> whole = new ArrayList<>();
        List<TableParts.Size> sizes = TableParts.sizes(batch, tables);
        for (int i = 0; i < tables.size(); i++) {
            TableCopy t = tables.get(i);
            List<String> parts = TableParts.plan(batch, t, sizes.get(i), splitBytes, parallel);
            if (parts.isEmpty()) {
                whole.add(new Task(t, null, null));
            } else {
                splits.add(new Split(t, parts, sizes.get(i)));
            }
        }
        splits.sort((a, b) -> Long.compare(b.size.bytes(), a.size.bytes()));
        List<Task> out = new ArrayList<>();
        for (Split sp : splits) {
            sp.parts.forEach(where -> out.add(new Task(sp.table, sp, where)));
        }
        out.addAll(whole);
        return out;
    }

    // ---- one worker -----------------------------------------------------------------------------

    private void work() {
        MDC.put("sync", sync);
        Connection src = null;
        List<TargetSession> sessions = new ArrayList<>();
        try {
            src = openSource();
            for (Db t : targets) {
                TargetSession ts = new TargetSession(t);
                if (!failed.containsKey(t.name())) {
                    ts.openDirect(APPLICATION);
                    noteFailure(ts);
                }
                sessions.add(ts);
            }
            Task task;
            while (sourceError.get() == null && (task = queue.poll()) != null) {
                dropFailed(sessions);
                if (sessions.stream().noneMatch(TargetSession::alive)) {
                    queue.clear();
                    break;
                }
                if (task.split() == null) {
                    copyTable(src, task.table(), sessions);
                    copied.incrementAndGet();
                } else {
                    copyPart(src, task, sessions);
                }
            }
        } catch (SQLException | RuntimeException e) {
            sourceError.compareAndSet(null, e);
            queue.clear();
        } finally {
            synchronized (outcomes) {
                for (TargetSession ts : sessions) {
                    Outcome o = outcomes.get(ts.db.name());
                    o.deletes += ts.deletes();
                    o.inserts += ts.inserts();
                    if (ts.suppressionWord() != null) {
                        o.suppression = ts.suppressionWord();
                    }
                    ts.close();
                }
            }
            if (src != null && src != batch) {
                try {
                    src.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
            }
            MDC.remove("sync");
        }
    }

    private Connection openSource() throws SQLException {
        if (snapshotId == null) {
            return batch;
        }
        Connection c = SessionSettings.connect(source.spec(), APPLICATION);
        try (Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(SessionSettings.snapshotIsolationLevel(ServerVersion.of(c)));
            st.execute("SET TRANSACTION SNAPSHOT " + Identifiers.literal(snapshotId));
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    private void copyTable(Connection src, TableCopy table, List<TargetSession> sessions) throws SQLException {
        long t0 = System.nanoTime();
        CopyProgress p = new CopyProgress(table.display(), expectedRows(src, table), t0);
        running.add(p);
        try {
            List<TargetSession> live = copy(src, table, table.copyOutAllSql(), sessions, true, p);
            if (live.isEmpty()) {
                return;
            }
            long copied = System.nanoTime();
            if (analyze.test(table)) {
                for (TargetSession ts : live) {
                    if (ts.alive()) {
                        analyze(ts, table);
                    }
                }
            }
            LOG.info("Copied {}: {} rows in {} s, ANALYZE {} s", table.display(), p.rows(), seconds(copied - t0),
                    seconds(System.nanoTime() - copied));
        } finally {
            running.remove(p);
        }
    }

    /** One part of a split table, in one target transaction per target; the table was emptied before any part. */
    private void copyPart(Connection src, Task task, List<TargetSession> sessions) throws SQLException {
        Split split = task.split();
        TableCopy table = task.table();
        split.prepare(sessions);
        dropFailed(sessions);
        List<TargetSession> live = copy(src, table, table.copyOutPartSql(task.where()), sessions, false,
                split.progress());
        if (!live.isEmpty()) {
            split.partDone(live);
        }
    }

    /**
     * One COPY out of the source into every live target, one target transaction each (emptying the
     * table first when asked), committed; returns the targets it was started on.
     */
    private List<TargetSession> copy(Connection src, TableCopy table, String copyOutSql, List<TargetSession> sessions,
                                     boolean emptyFirst, CopyProgress progress) throws SQLException {
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
                    fail(ts, e);
                }
            }
        }
        if (live.isEmpty()) {
            return live;
        }
        CopyOut out = src.unwrap(PGConnection.class).getCopyAPI().copyOut(copyOutSql);
        TargetSession.fanOut(out, live, progress::row, this::fail);
        for (TargetSession ts : live) {
            if (ts.alive()) {
                try {
                    ts.commit();
                } catch (SQLException | RuntimeException e) {
                    fail(ts, e);
                }
            }
        }
        return live;
    }

    /**
     * A large table read in parts by several workers. It is emptied on every target once, committed
     * before any part is written (a part's insert must not wait on another transaction's delete of
     * the same key); the last part to end logs the copy and runs ANALYZE.
     */
    private final class Split {
        final TableCopy table;
        final List<String> parts;
        final TableParts.Size size;
        private CopyProgress progress;
        private int done;

        Split(TableCopy table, List<String> parts, TableParts.Size size) {
            this.table = table;
            this.parts = parts;
            this.size = size;
        }

        synchronized CopyProgress progress() {
            return progress;
        }

        /** The first worker to reach the table empties it on every live target; the others wait for that. */
        synchronized void prepare(List<TargetSession> sessions) {
            if (progress != null) {
                return;
            }
            progress = new CopyProgress(table.display(), size.estimatedRows() > 0 ? size.estimatedRows() : -1,
                    System.nanoTime());
            running.add(progress);
            for (TargetSession ts : sessions) {
                if (ts.alive()) {
                    try {
                        ts.check(List.of(table));
                        ts.emptyTable(table);
                    } catch (SQLException | RuntimeException e) {
                        fail(ts, e);
                    }
                }
            }
        }

        void partDone(List<TargetSession> live) {
            synchronized (this) {
                if (++done < parts.size()) {
                    return;
                }
            }
            long copiedAt = System.nanoTime();
            if (analyze.test(table)) {
                for (TargetSession ts : live) {
                    if (ts.alive()) {
                        WholeTables.analyze(ts, table);
                    }
                }
            }
            LOG.info("Copied {}: {} rows in {} s, ANALYZE {} s ({} parts)", table.display(), progress.rows(),
                    seconds(copiedAt - progress.started), seconds(System.nanoTime() - copiedAt), parts.size());
            running.remove(progress);
            copied.incrementAndGet();
        }
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.2f", nanos / 1e9);
    }

    /** Statistics are a nicety: a failed ANALYZE is logged, the copied rows stand. */
    private static void analyze(TargetSession ts, TableCopy table) {
        try {
            ts.analyze(table);
        } catch (SQLException e) {
            LOG.warn("ANALYZE {} on db \"{}\" failed: {}", table.display(), ts.db.name(), e.getMessage());
            try {
                ts.commit();
            } catch (SQLException ignored) {
                // the next table's work reports a broken connection
            }
        }
    }

    /** The rows the source holds in this snapshot: counted when the table is small, else the planner's estimate. */
    private static long expectedRows(Connection src, TableCopy table) throws SQLException {
        long estimate;
        boolean small;
        try (PreparedStatement ps = src.prepareStatement(
                "SELECT c.reltuples::bigint, pg_catalog.pg_relation_size(c.oid) < ? FROM pg_catalog.pg_class c "
                        + "WHERE c.oid = ?::regclass")) {
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
             ResultSet rs = st.executeQuery("SELECT count(*) FROM ONLY " + table.relation.quoted())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void fail(TargetSession ts, Exception e) {
        ts.failed(e);
        noteFailure(ts);
    }

    private void noteFailure(TargetSession ts) {
        if (!ts.alive()) {
            failed.putIfAbsent(ts.db.name(), ts.error());
        }
    }

    /** A target another worker lost is given up here too. */
    private void dropFailed(List<TargetSession> sessions) {
        for (TargetSession ts : sessions) {
            String error = failed.get(ts.db.name());
            if (error != null && ts.alive()) {
                ts.failed(error, null);
            }
        }
    }
}
