package dev.ibex.replicate;

import dev.ibex.pg.DbPools;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import dev.ibex.repository.SyncStates;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of a sync with several sources (Bucardo's swap and multi-master): every source's batch
 * is opened first, each in its own snapshot; the keys two or more of them changed are settled by
 * the sync's conflict strategy ({@link Conflicts}); then each source's changes go to the other
 * sources and to the targets, but the keys it lost. Nothing ibex applies is captured again (it
 * applies with session_replication_role = replica, see TriggerSuppression), so no change comes
 * back to where it started. While a one-time copy is pending, only the first source runs: the
 * other dbs take its copy, and their own changes follow from the next run on.
 */
final class SeveralSources {

    /** What a source's failure does to the run: see SyncRunner. */
    interface Failure {
        void failed(Db source, Exception e);
    }

    private final Repository repo;
    private final DbPools pools;
    private final SourceBatch.Pace pace;
    private final SyncPlan plan;
    private final RunRecord run;
    private final RunCache cache;
    private final Failure failure;

    SeveralSources(Repository repo, DbPools pools, SourceBatch.Pace pace, SyncPlan plan, RunRecord run, RunCache cache,
                   Failure failure) {
        this.repo = repo;
        this.pools = pools;
        this.pace = pace;
        this.plan = plan;
        this.run = run;
        this.cache = cache;
        this.failure = failure;
    }

    void run(RunStart start) {
        List<SourceBatch> open = new ArrayList<>();
        try {
            Map<Db, String> restart = plan.sync().onetimecopy().copies() ? othersNow() : Map.of();
            for (Db source : running()) {
                SourceBatch b = new SourceBatch(repo, pools, pace, plan, source, run, cache);
                if (begun(b, start)) {
                    open.add(b);
                }
            }
            // every snapshot first, then the reads: the windows end as close together as they can, so
            // that "latest" does not favour the source whose snapshot came last
            Map<Db, Changes.Latest> changed = new LinkedHashMap<>();
            for (SourceBatch b : List.copyOf(open)) {
                try {
                    changed.put(b.source(), b.changedKeys());
                } catch (SQLException | RuntimeException e) {
                    open.remove(b);
                    b.close();
                    failure.failed(b.source(), e);
                }
            }
            Conflicts conflicts = Conflicts.settle(plan, changed);
            run.conflicts(conflicts.count());
            conflicts.log();
            if (conflicts.abort() != null) {
                run.error(conflicts.abort());
                return;
            }
            for (SourceBatch b : open) {
                applyOne(b, conflicts);
            }
            if (!run.failed()) {
                restart.forEach(this::startAfresh);
            }
        } finally {
            open.forEach(SourceBatch::close);
        }
    }

    /** Opens the batch; false when it has nothing to do or failed (then the failure is the run's). */
    private boolean begun(SourceBatch b, RunStart start) {
        try {
            if (b.begin(start.snapshots(b.source().name()), start.tables(b.source().name()))) {
                return true;
            }
            b.close();
        } catch (SQLException | RuntimeException e) {
            b.close();
            failure.failed(b.source(), e);
        }
        return false;
    }

    private void applyOne(SourceBatch b, Conflicts conflicts) {
        try {
            b.apply(new ChangeSteps.Rules(conflicts.lostBy(b.source()), conflicts.wonBy(b.source()),
                    conflicts.truncatesLostBy(b.source()), plan.makedelta(), true));
        } catch (SQLException | RuntimeException e) {
            failure.failed(b.source(), e);
        }
    }

    /**
     * While the first source's one-time copy runs, a snapshot of each other source taken before it:
     * what those sources changed before the copy, the copy replaces (a truncate among it must not
     * come back later and win over the copy), so once the copy is through they start from there.
     */
    private Map<Db, String> othersNow() {
        Map<Db, String> out = new LinkedHashMap<>();
        for (Db other : plan.sources().subList(1, plan.sources().size())) {
            if (!other.active()) {
                continue;
            }
            try (Connection c = pools.connection(other)) {
                out.put(other, SourceSnapshot.now(c));
            } catch (SQLException | RuntimeException e) {
                failure.failed(other, e);
            }
        }
        return out;
    }

    /** A source that took the first one's copy reads its changes from {@code snapshot} on. */
    private void startAfresh(Db source, String snapshot) {
        SyncStates states = new SyncStates(repo);
        for (Db to : plan.targetsOf(source)) {
            states.record(plan.sync().name(), source.name(), to.name(), snapshot, null, SourceBatch.tableNames(plan));
        }
    }

    /** The active sources, only the first one while a one-time copy is pending. */
    private List<Db> running() {
        List<Db> sources = plan.sources().stream().filter(Db::active).toList();
        if (plan.sync().onetimecopy().copies()) {
            boolean firstRuns = !sources.isEmpty() && sources.get(0).equals(plan.sources().get(0));
            return firstRuns ? List.of(sources.get(0)) : List.of();
        }
        return sources;
    }
}
