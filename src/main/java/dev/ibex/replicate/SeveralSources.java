package dev.ibex.replicate;

import dev.ibex.pg.DbPools;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
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
            Map<Db, Changes.Latest> changed = new LinkedHashMap<>();
            for (Db source : running()) {
                SourceBatch b = new SourceBatch(repo, pools, pace, plan, source, run, cache);
                open.add(b);
                try {
                    if (b.begin(start.snapshots(source.name()))) {
                        changed.put(source, b.changedKeys(start.snapshots(source.name())));
                    }
                } catch (SQLException | RuntimeException e) {
                    open.remove(b);
                    b.close();
                    failure.failed(source, e);
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
        } finally {
            open.forEach(SourceBatch::close);
        }
    }

    private void applyOne(SourceBatch b, Conflicts conflicts) {
        if (!b.begun()) {
            return;
        }
        try {
            b.apply(new ChangeSteps.Rules(conflicts.lostBy(b.source()), conflicts.truncatesLostBy(b.source()),
                    plan.makedelta(), true));
        } catch (SQLException | RuntimeException e) {
            failure.failed(b.source(), e);
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
