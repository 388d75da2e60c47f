package dev.ibex.replicate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.repository.Db;
import dev.ibex.repository.SyncPlan;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * MB/s, ETA per table, parts counted together) is reported every few seconds. No worker writes
 * before the run's claim has been checked once every worker has connected ({@link #clear}).
 */
final class WholeTables {

    static final long PROGRESS_MILLIS = 2_000;
    static final String APPLICATION = "ibex copy";

    private static final Logger LOG = LoggerFactory.getLogger(WholeTables.class);

    /** What the copy did on one target; error is null when every table arrived. */
    static final class Outcome {
        final Db db;
        private long deletes;
        private long inserts;
        private String suppression;
        private String error;
        private String sqlstate;

        Outcome(Db db) {
            this.db = db;
        }

        long deletes() {
            return deletes;
        }

        long inserts() {
            return inserts;
        }

        /** How the target suppressed triggers, or null if no worker reached it. */
        String suppression() {
            return suppression;
        }

        String error() {
            return error;
        }

        /** The SQLSTATE of the error's database cause, null when it had none. */
        String sqlstate() {
            return sqlstate;
        }

        /** What one worker's session on this target did. */
        private void took(TargetSession ts) {
            deletes += ts.deletes();
            inserts += ts.inserts();
            if (ts.suppressionWord() != null) {
                suppression = ts.suppressionWord();
            }
        }
    }

    /** One unit of a worker's work: a whole table, or (split != null) one part of a split table. */
    record Task(TableCopy table, SplitTable split, String where) {
    }

    final String sync;
    final Db source;
    /** pg_export_snapshot() of the batch, or null: then the one worker reads in {@link #batch}. */
    final String snapshotId;
    final List<Db> targets;
    /** The batch's own transaction, the snapshot's exporter. */
    private Connection batch;
    private final int parallel;
    private final Predicate<TableCopy> analyze;
    private final Map<String, Outcome> outcomes = new LinkedHashMap<>();
    /** Per target db, its first failure; its state decides whether the run needs a person. */
    private final Map<String, Failure> failed = new ConcurrentHashMap<>();

    private record Failure(String error, String sqlstate) {
    }
    private final List<CopyProgress> running = new CopyOnWriteArrayList<>();
    private final AtomicInteger copied = new AtomicInteger();
    private final AtomicReference<Exception> sourceError = new AtomicReference<>();
    private final Queue<Task> queue = new ConcurrentLinkedQueue<>();
    private final long progressMillis;
    private final long splitBytes;
    private int total;
    /** Counts the workers down as they have connected, or failed to. */
    private CountDownLatch connected;
    /** Opened once the claim was checked after every worker connected (or the copy failed). */
    private final CountDownLatch cleared = new CountDownLatch(1);
    /** The run's claim check (see {@link #clear}). */
    private Runnable fence = () -> { };
    /** Where a table copied whole is logged as truncated (makedelta). */
    SyncPlan.MakeDelta makedelta = SyncPlan.MakeDelta.NONE;
    /** The application_name of the copy's own connections: the pools' name + " copy" (fencing ends them by it). */
    String application = APPLICATION;

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

    /** The application_name of the copy's connections. */
    WholeTables application(String name) {
        this.application = name;
        return this;
    }

    WholeTables makedelta(SyncPlan.MakeDelta makedelta) {
        this.makedelta = makedelta;
        return this;
    }

    /** The run's claim check, which throws when the claim is gone ({@link ClaimFence}). */
    WholeTables fence(Runnable check) {
        this.fence = check;
        return this;
    }

    /**
     * Copies the tables; {@code progress} gets a detail line every few seconds, on this thread.
     * Throws when the source could not be read (then no target is complete), or the claim is gone.
     *
     * @param batch the batch's source transaction (the snapshot's exporter), for the tables' sizes
     */
    List<Outcome> copy(Connection batch, List<TableCopy> tables, Consumer<String> progress) throws SQLException {
        this.batch = batch;
        queue.addAll(plan(batch, tables));
        total = tables.size();
        List<Thread> workers = startWorkers();
        clear();
        awaitWorkers(workers, progress);
        Exception e = sourceError.get();
        if (e instanceof SQLException se) {
            throw se;
        }
        if (e instanceof RuntimeException re) {
            throw re;
        }
        failed.forEach((db, failure) -> {
            Outcome o = outcomes.get(db);
            if (o.error == null) {
                o.error = failure.error();
                o.sqlstate = failure.sqlstate();
            }
        });
        return List.copyOf(outcomes.values());
    }

    private List<Thread> startWorkers() {
        List<Thread> workers = new ArrayList<>();
        int n = Math.max(1, Math.min(parallel, queue.size()));
        connected = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(new CopyWorker(this), "ibex-copy-" + sync + "-" + (i + 1));
            t.start();
            workers.add(t);
        }
        return workers;
    }

    /**
     * Lets the workers write once the run's claim still holds after every worker has connected.
     * The controller that takes a sync over ends this one's sessions on the sync's dbs before its
     * first run (TargetFence), and those are all a copy commits through: but a worker that stood
     * still (SIGSTOP, a long pause) while it connected would connect after that, with nothing left
     * to end it, and could empty a table split in parts after the new owner had copied it. A claim
     * that holds after the connections were opened was not yet taken when they were: the new
     * owner's cut, which comes after the take, ends them.
     */
    private void clear() {
        try {
            connected.await();
            fence.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sourceFailed(new IbexException(ExitCode.RUN_FAILED, "Copy of sync " + sync + " was interrupted"));
        } catch (RuntimeException e) {
            sourceFailed(e);
        } finally {
            cleared.countDown();
        }
    }

    /** Reports progress while the workers run; an interrupt stops them after their current task. */
    private void awaitWorkers(List<Thread> workers, Consumer<String> progress) {
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
        List<SplitTable> splits = new ArrayList<>();
        List<Task> whole = new ArrayList<>();
        List<TableParts.Size> sizes = TableParts.sizes(batch, tables);
        for (int i = 0; i < tables.size(); i++) {
            TableCopy t = tables.get(i);
            List<String> parts = TableParts.plan(batch, t, sizes.get(i), splitBytes, parallel);
            if (parts.isEmpty()) {
                whole.add(new Task(t, null, null));
            } else {
                splits.add(new SplitTable(this, t, parts, sizes.get(i)));
            }
        }
        splits.sort((a, b) -> Long.compare(b.size.bytes(), a.size.bytes()));
        List<Task> out = new ArrayList<>();
        for (SplitTable sp : splits) {
            sp.parts.forEach(where -> out.add(new Task(sp.table, sp, where)));
        }
        out.addAll(whole);
        return out;
    }

    // ---- what the workers share ------------------------------------------------------------------

    /** The batch's source transaction: the one worker's source when no snapshot could be exported. */
    Connection batch() {
        return batch;
    }

    /** A worker has opened its connections, or failed to. */
    void connected() {
        connected.countDown();
    }

    /** Waits until {@link #clear} lets the workers write; then {@link #next} says whether there is work. */
    void awaitCleared() {
        try {
            cleared.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sourceFailed(new IbexException(ExitCode.RUN_FAILED, "Copy of sync " + sync + " was interrupted"));
        }
    }

    /** The next task, or null when there is none or the source failed. */
    Task next() {
        return sourceError.get() == null ? queue.poll() : null;
    }

    /** No target is left: the other workers take no more tasks either. */
    void noMoreTasks() {
        queue.clear();
    }

    /** The source could not be read: every worker stops, and {@link #copy} throws. */
    void sourceFailed(Exception e) {
        sourceError.compareAndSet(null, e);
        queue.clear();
    }

    void started(CopyProgress p) {
        running.add(p);
    }

    void ended(CopyProgress p) {
        running.remove(p);
    }

    void tableCopied() {
        copied.incrementAndGet();
    }

    /** A worker's sessions end: what they did goes to the outcomes, their connections back. */
    void took(List<TargetSession> sessions) {
        synchronized (outcomes) {
            for (TargetSession ts : sessions) {
                outcomes.get(ts.db.name()).took(ts);
                ts.close();
            }
        }
    }

    /** ANALYZE on the live targets, for the tables that get it. */
    void analyze(TableCopy table, List<TargetSession> live) {
        if (analyze.test(table)) {
            for (TargetSession ts : live) {
                if (ts.alive()) {
                    analyze(ts, table);
                }
            }
        }
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

    void fail(TargetSession ts, Exception e) {
        ts.failed(e);
        noteFailure(ts);
    }

    void noteFailure(TargetSession ts) {
        if (!ts.alive()) {
            failed.putIfAbsent(ts.db.name(), new Failure(ts.error(), ts.failState()));
        }
    }

    /** Whether a worker has lost this target: the others give it up too. */
    boolean lost(Db target) {
        return failed.containsKey(target.name());
    }

    /** A target another worker lost is given up here too. */
    void dropFailed(List<TargetSession> sessions) {
        for (TargetSession ts : sessions) {
            Failure failure = failed.get(ts.db.name());
            if (failure != null && ts.alive()) {
                ts.failed(failure.error(), null);
            }
        }
    }
}
