package dev.ibex.replicate;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The changed keys since one S_prev, applied to the targets that last applied up to it in bounded
 * steps, as they are read: one target transaction per step (delete the step's keys, then stream
 * COPY from the source into every target). A target that fails drops out; the others go on.
 */
final class ChangeSteps {

    /** Logged as the runner: the steps are part of a run. */
    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);

    /** What the steps left: the targets that took every step, and the tables truncated on the source. */
    record Applied(List<Db> live, Set<String> truncated) {
    }

    /** A chunk of changed keys of one table. */
    private record Item(TableCopy table, List<String[]> keys) {
    }

    private final Repository repo;
    private final DbPools pools;
    private final SourceBatch.Pace pace;
    /** The batch's source transaction. */
    private final Connection s;
    private final Db source;
    private final TableShapes shapes;
    private final RunRecord run;
    private final RunCache cache;
    /** Where each target's trigger suppression, as probed, is handed back to the batch. */
    private final Map<String, String> suppression;
    private List<TargetSession> sessions = new ArrayList<>();
    private Set<String> truncated = Set.of();

    /**
     * What a sync with several sources or makedelta adds: the keys another source won, by
     * relation id, and the truncated tables ("schema\0table") another source's truncate won, which
     * this source does not apply; where applied keys are logged again.
     */
    record Rules(Map<Integer, Set<List<String>>> lost, Map<Relation, List<String[]>> won, Set<String> truncatesLost,
                 SyncPlan.MakeDelta makedelta, boolean severalSources) {
        static final Rules NONE = new Rules(Map.of(), Map.of(), Set.of(), SyncPlan.MakeDelta.NONE, false);

        static Rules oneSource(SyncPlan.MakeDelta makedelta) {
            return new Rules(Map.of(), Map.of(), Set.of(), makedelta, false);
        }
    }

    private final Rules rules;

    ChangeSteps(Repository repo, DbPools pools, SourceBatch.Pace pace, Connection s, Db source, TableShapes shapes,
                RunRecord run, RunCache cache, Map<String, String> suppression, Rules rules) {
        this.rules = rules;
        this.repo = repo;
        this.pools = pools;
        this.pace = pace;
        this.s = s;
        this.source = source;
        this.shapes = shapes;
        this.run = run;
        this.cache = cache;
        this.suppression = suppression;
    }

    /** Applies the keys changed since {@code prev} of {@code tables} to {@code targets}; once per instance. */
    Applied apply(List<Db> targets, String prev, List<Relation> tables) throws SQLException {
        try {
            if (applyInSteps(targets, prev, tables) > 1 || rules.severalSources()) {
                retryUniqueConflictsInOneStep(prev, tables);
            }
        } finally {
            closeSessions();
        }
        List<Db> live = sessions.isEmpty() ? targets
                : sessions.stream().filter(TargetSession::alive).map(ts -> ts.db).toList();
        return new Applied(live, truncated);
    }

    /**
     * Applies the given keys of each table to the targets, in steps of the usual size: the
     * conflicts this source won, which every db takes, whatever its S_prev has seen.
     */
    List<Db> applyKeys(List<Db> targets, Map<Relation, List<String[]>> keys) throws SQLException {
        try {
            sessions = open(targets);
            Map<Relation, TableCopy> byTable = shapes.of(new ArrayList<>(keys.keySet()));
            List<Item> step = new ArrayList<>();
            for (Map.Entry<Relation, List<String[]>> e : keys.entrySet()) {
                for (int i = 0; i < e.getValue().size(); i += pace.keysPerChunk()) {
                    List<String[]> chunk = e.getValue().subList(i, Math.min(e.getValue().size(), i + pace.keysPerChunk()));
                    step.add(new Item(byTable.get(e.getKey()), chunk));
                    if (step.size() >= pace.chunksPerStep()) {
                        step(step, sessions);
                        step = new ArrayList<>();
                    }
                }
            }
            if (!step.isEmpty()) {
                step(step, sessions);
            }
        } finally {
            closeSessions();
        }
        return sessions.stream().filter(TargetSession::alive).map(ts -> ts.db).toList();
    }

    /** The steps as the keys are read; the targets are connected when the first step has keys. */
    private int applyInSteps(List<Db> targets, String prev, List<Relation> tables) throws SQLException {
        int steps = 0;
        try (Changes changes = Changes.since(s, source, prev, run.sync(), tables, pace.keysPerChunk(), rules.lost())) {
            long started = System.nanoTime();
            for (List<Item> step = next(changes); !step.isEmpty(); step = next(changes)) {
                if (sessions.isEmpty()) {
                    sessions = open(targets);
                } else {
                    // the run's end records the last step
                    run.progress(progress(changes, step, started));
                }
                step(step, sessions);
                steps++;
            }
            run.read(changes.read());
            truncated = changes.truncated;
        }
        return steps;
    }

    /** Hands each target's errors, counts and suppression to the run, and gives its connection back. */
    private void closeSessions() {
        for (TargetSession ts : sessions) {
            if (!ts.alive()) {
                run.targetFailed(ts.db, ts.error(), ts.failState());
            }
            run.applied(ts.deletes(), ts.inserts());
            if (ts.suppressionWord() != null) {
                suppression.put(ts.db.name(), ts.suppressionWord());
            }
            ts.close();
        }
    }

    /** The next step's chunks, each with the shape of its table. */
    private List<Item> next(Changes changes) throws SQLException {
        List<Changes.Chunk> chunks = changes.next(pace.keysPerChunk(), pace.keysPerChunk() * pace.chunksPerStep());
        Map<Relation, TableCopy> byTable = shapes.of(chunks.stream().map(Changes.Chunk::table).toList());
        return chunks.stream().map(c -> new Item(byTable.get(c.table()), c.keys())).toList();
    }

    /**
     * Before {@code step}, what the steps before it applied: e.g. "apply 200000/1000000 keys 52000
     * keys/s ETA 00:15 (public.orders)".
     */
    private static String progress(Changes changes, List<Item> step, long startedNanos) {
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        long done = changes.read() - step.stream().mapToLong(i -> i.keys().size()).sum();
        long total = Math.max(done, changes.total());
        StringBuilder sb = new StringBuilder("apply ").append(done).append('/').append(total).append(" keys");
        if (seconds > 0.5 && done > 0) {
            sb.append(String.format(Locale.ROOT, " %.0f keys/s ETA ", done / seconds))
                    .append(CopyProgress.clock(Math.round((total - done) * seconds / done)));
        }
        return sb.append(" (").append(step.get(0).table().display()).append(')').toString();
    }

    private List<TargetSession> open(List<Db> targets) {
        List<TargetSession> opened = new ArrayList<>();
        for (Db t : targets) {
            TargetSession ts = new TargetSession(t, cache.checked(t.name()));
            opened.add(ts);
            ts.open(pools);
        }
        return opened;
    }

    /**
     * Two rows that swapped the values of a unique column may land in different steps, and the
     * target then refuses the first step for ever. A target that failed so gets the whole batch
     * again in one transaction, where every delete comes before every copy: the keys are read
     * twice, in the batch's snapshot, so memory stays bounded. On a db that is also a source of
     * the sync, an application may have inserted a key between the step's delete and its copy:
     * the retry replaces that row too, and, its change being in that db's log, the next run sends
     * that db's row (now this one) back: every db ends equal.
     */
    private void retryUniqueConflictsInOneStep(String prev, List<Relation> tables) throws SQLException {
        for (int i = 0; i < sessions.size(); i++) {
            TargetSession failed = sessions.get(i);
            if (!failed.failedWith(SqlState.UNIQUE_VIOLATION)) {
                continue;
            }
            LOG.info("Applying the batch to db \"{}\" again in one transaction after a unique conflict "
                    + "between steps", failed.db.name());
            TargetSession again = new TargetSession(failed.db, cache.checked(failed.db.name()));
            sessions.set(i, again);
            failed.close();
            again.open(pools);
            applyInOneStep(List.of(again), prev, tables);
        }
    }

    private void applyInOneStep(List<TargetSession> one, String prev, List<Relation> tables) throws SQLException {
        try (Changes changes = Changes.since(s, source, prev, run.sync(), tables, pace.keysPerChunk(), rules.lost())) {
            for (List<Item> step = next(changes); !step.isEmpty(); step = next(changes)) {
                delete(step, one);
            }
        }
        try (Changes changes = Changes.since(s, source, prev, run.sync(), tables, pace.keysPerChunk(), rules.lost())) {
            for (List<Item> step = next(changes); !step.isEmpty(); step = next(changes)) {
                for (Item item : step) {
                    copy(item, one);
                }
                makeDelta(step, one);
            }
        }
        commit(one);
    }

    /** One target transaction on each live target: delete the step's rows, then copy them in. */
    private void step(List<Item> step, List<TargetSession> live) throws SQLException {
        if (live.stream().noneMatch(TargetSession::alive)) {
            return;
        }
        delete(step, live);
        for (Item item : step) {
            copy(item, live);
        }
        makeDelta(step, live);
        commit(live);
        run.stepsDone(1);
    }

    private void delete(List<Item> step, List<TargetSession> targets) {
        for (TargetSession ts : targets) {
            if (!ts.alive()) {
                continue;
            }
            try {
                List<TableCopy> tables = step.stream().map(Item::table).toList();
                ts.check(tables, run.sync());
                ts.deleteKeys(tables, step.stream().map(Item::keys).toList());
            } catch (SQLException | RuntimeException e) {
                ts.failed(e);
            }
        }
    }

    /** The step's keys, logged again on the targets with makedelta, in the step's transaction. */
    private void makeDelta(List<Item> step, List<TargetSession> targets) {
        for (TargetSession ts : targets) {
            for (Item item : step) {
                if (ts.alive() && rules.makedelta().at(ts.db.name(), item.table().relation)) {
                    try {
                        ts.makeDelta(run.sync()).keys(item.table(), item.keys());
                    } catch (SQLException | RuntimeException e) {
                        ts.failed(e);
                    }
                }
            }
        }
    }

    private void commit(List<TargetSession> targets) {
        // The per-sync lock lives in the repository session: if that session died, another run may
        // hold the lock now and must not see this older step commit after its newer one; and with
        // several controllers, the claim must still be this run's (ClaimFence)
        run.checkFence();
        for (TargetSession ts : targets) {
            if (ts.alive()) {
                try {
                    ts.commit();
                } catch (SQLException e) {
                    ts.failed(e);
                }
            }
        }
    }

    /** Streams one COPY out of the source into every live target: bytes, no row objects. */
    private void copy(Item item, List<TargetSession> targets) throws SQLException {
        List<TargetSession> live = new ArrayList<>();
        for (TargetSession ts : targets) {
            if (!ts.alive()) {
                continue;
            }
            try {
                ts.startCopy(item.table());
                live.add(ts);
            } catch (SQLException | RuntimeException e) {
                ts.failed(e);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        String sql = item.table().copyOutKeysSql(item.keys());
        CopyOut out = s.unwrap(PGConnection.class).getCopyAPI().copyOut(sql);
        TargetSession.fanOut(out, live, bytes -> { }, TargetSession::failed);
    }
}
