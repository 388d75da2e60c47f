package dev.ibex.replicate;

import dev.ibex.IbexException;
import dev.ibex.capture.ModelLocks;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import dev.ibex.repository.OneTimeCopy;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.RunState;
import dev.ibex.repository.SyncPlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.MDC;

/**
 * One run of one sync: read the changes since each target's last snapshot, apply them, record the
 * run. Per source, one REPEATABLE READ transaction whose first statement takes S_cur; the changed
 * keys are the delta rows not visible in S_prev; targets that share S_prev are fed from one read.
 * The apply works in bounded steps (one target transaction each): delete the step's keys, then
 * stream COPY from the source into every target. {@link SourceBatch} does the work of one source;
 * {@link RunRecord} keeps the run row.
 */
public final class SyncRunner implements AutoCloseable {

    /**
     * What a run did; the run row in ibex.run holds the same.
     *
     * @param sqlstate        of the first database error of a failed run, null when none had one
     * @param onlyTargetsDown the run failed only for targets that are down (see {@link DownTargets}):
     *                        it applied to every other target
     */
    public record Result(long runId, RunState outcome, long deletes, long inserts, String error, String sqlstate,
                         boolean onlyTargetsDown) {

        /** The outcome as ibex.run.state spells it: good, empty or bad. */
        public String state() {
            return outcome.sql();
        }
    }

    public static final int KEYS_PER_CHUNK = 10_000;
    public static final int CHUNKS_PER_STEP = 10;

    private final Repository repo;
    private final DbPools pools;
    private final boolean ownPools;
    private int keysPerChunk = KEYS_PER_CHUNK;
    private int chunksPerStep = CHUNKS_PER_STEP;
    private long progressMillis = WholeTables.PROGRESS_MILLIS;
    private RunCache cache = new RunCache();
    private String announceChannel;
    private ClaimFence fence;
    private DownTargets down;

    private static final String END_ONE_TIME_COPY = "UPDATE ibex.sync SET onetimecopy = ? WHERE name = ? AND onetimecopy = ?";
    private static final String UNLOCK = "SELECT pg_advisory_unlock(?, hashtext(?))";


    /** @param repo a repository connection the runner may commit on (run rows, sync_state) */
    public SyncRunner(Repository repo) {
        this(repo, new DbPools(), true);
    }

    public SyncRunner(Repository repo, DbPools pools) {
        this(repo, pools, false);
    }

    private SyncRunner(Repository repo, DbPools pools, boolean ownPools) {
        this.repo = repo;
        this.pools = pools;
        this.ownPools = ownPools;
    }

    /** How much one target transaction applies: {@code chunksPerStep} chunks of {@code keysPerChunk} keys. */
    public SyncRunner stepSize(int keysPerChunk, int chunksPerStep) {
        this.keysPerChunk = Math.max(1, keysPerChunk);
        this.chunksPerStep = Math.max(1, chunksPerStep);
        return this;
    }

    /** How often a whole-table copy writes its progress to ibex.run.detail (default every 2 s). */
    public SyncRunner progressEvery(long millis) {
        this.progressMillis = Math.max(10, millis);
        return this;
    }

    /**
     * Keeps what the runs would read again every time in {@code cache}, which outlives this runner
     * (the kid's runners share one); a failed run clears it.
     */
    public SyncRunner cache(RunCache cache) {
        this.cache = cache;
        return this;
    }

    /** Sends NOTIFY {@code channel} with the sync's name when a run ends, in the transaction that records the end. */
    public SyncRunner announceRunEnd(String channel) {
        this.announceChannel = channel;
        return this;
    }

    /**
     * Runs only while this controller's claim on the sync holds (several controllers on one
     * repository): see {@link ClaimFence}. A run that finds it gone throws {@link ClaimFence.Lost}
     * with everything it did in the repository rolled back.
     */
    public SyncRunner fence(ClaimFence fence) {
        this.fence = fence;
        return this;
    }

    /**
     * Leaves the targets in {@code down} out of the runs until their own back-off elapses, and
     * keeps there the ones the runs find down; {@code down} outlives this runner (the kid's). A
     * runner without one tries every target in every run.
     */
    public SyncRunner downTargets(DownTargets down) {
        this.down = down;
        return this;
    }

    @Override
    public void close() {
        if (ownPools) {
            pools.closeAll();
        }
    }

    /**
     * Runs the sync once. Writes an ibex.run row (state running, then good/empty/bad) and commits it;
     * never throws for a failed run (the Result says bad and why), only for programming errors
     * and an unknown sync or unreachable repository.
     */
    public Result runOnce(String sync) {
        try {
            RunStart start = RunStart.lockAndStart(repo, sync, ModelLocks.SYNC_RUN);
            if (start.runId() == null) {
                throw IbexException.badInput("No sync named \"" + sync + "\": see 'ibex list syncs'");
            }
            if (fence != null) {
                fence.check(repo);
            }
            SyncPlan plan = cache.plan(start.planFingerprint());
            if (plan == null) {
                plan = repo.plan(sync);
                cache.plan(start.planFingerprint(), plan);
            }
            // the run row shows while the run works
            repo.commit();
            return runLocked(plan, start);
        } catch (RuntimeException | Error e) {
            cache.clear();
            throw e;
        } finally {
            unlock(sync);
        }
    }

    /**
     * One run of a sync at a time, whoever starts it (the controller's kid, compare, cutover): two
     * runs applying overlapping batches could leave an older row version behind a newer snapshot.
     * The lock is taken by {@link RunStart}; it is the session's and outlives the run's commits.
     * It is given back in autocommit, which saves a COMMIT round trip after it.
     */
    private void unlock(String sync) {
        repo.rollback();
        Connection c = repo.connection();
        try {
            c.setAutoCommit(true);
            try (PreparedStatement ps = c.prepareStatement(UNLOCK)) {
                ps.setInt(1, ModelLocks.SYNC_RUN);
                ps.setString(2, sync);
                ps.executeQuery().close();
            } finally {
                c.setAutoCommit(false);
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Unlocking sync \"" + sync + "\" in the repository", e);
        }
    }

    private Result runLocked(SyncPlan plan, RunStart start) {
        String sync = plan.sync().name();
        if (down != null) {
            down.keepOnly(plan.members().stream().map(m -> m.db().name()).toList());
        }
        RunRecord run = new RunRecord(repo, sync, start.runId(), fence,
                down != null ? down : new DownTargets(Duration.ZERO, Duration.ZERO));
        String previous = MDC.get("sync");
        MDC.put("sync", sync);
        try {
            SourceBatch.Pace pace = new SourceBatch.Pace(keysPerChunk, chunksPerStep, progressMillis);
            if (plan.severalSources()) {
                new SeveralSources(repo, pools, pace, plan, run, cache, (source, e) -> sourceFailed(run, source, e))
                        .run(start);
            } else {
                for (Db source : plan.sources()) {
                    if (source.active()) {
                        runSource(plan, source, start, pace, run);
                    }
                }
            }
            endOneTimeCopy(plan, run);
            if (run.failed() && !run.onlyTargetsDown()) {
                // whatever failed may have been a schema change: the next run reads everything afresh
                cache.clear();
            }
            run.checkFence();
            return run.finish(announceChannel);
        } catch (ClaimFence.Lost e) {
            abandon(start.runId(), e.getMessage());
            throw e;
        } finally {
            if (previous == null) {
                MDC.remove("sync");
            } else {
                MDC.put("sync", previous);
            }
        }
    }

    /** A run that lost its claim: nothing of it is recorded but the end of its own row. */
    private void abandon(long runId, String why) {
        repo.rollback();
        try {
            new RunLog(repo).endIfOpen(runId, why);
            repo.commit();
        } catch (RuntimeException e) {
            repo.rollback();
        }
    }

    /** One source's batch; its failure is the run's error, and the other sources go on. */
    private void runSource(SyncPlan plan, Db source, RunStart start, SourceBatch.Pace pace, RunRecord run) {
        try {
            new SourceBatch(repo, pools, pace, plan, source, run, cache).run(start.snapshots(source.name()), start.tables(source.name()));
        } catch (SQLException | RuntimeException e) {
            sourceFailed(run, source, e);
        }
    }

    /** A source's batch failed: its error is the run's, and the other sources go on; a lost claim ends the run. */
    private static void sourceFailed(RunRecord run, Db source, Exception e) {
        if (e instanceof ClaimFence.Lost lost) {
            throw lost;
        } else if (e instanceof IbexException ie) {
            run.error(ie.getMessage(), SqlState.in(ie));
        } else if (e instanceof SQLException se) {
            run.error("Source db \"" + source.name() + "\" failed while the run read from it: " + PgErrors.message(se),
                    se.getSQLState());
        } else {
            throw (RuntimeException) e;
        }
    }

    /**
     * Every target now holds a whole copy as of S_cur and follows the stream from there; an
     * inactive db has not had its copy yet, and a new onetimecopy set meanwhile stays.
     */
    private void endOneTimeCopy(SyncPlan plan, RunRecord run) {
        boolean everyDbTookPart = plan.members().stream().allMatch(m -> m.db().active());
        OneTimeCopy copy = plan.sync().onetimecopy();
        if (copy.copies() && !run.failed() && everyDbTookPart) {
            repo.update(END_ONE_TIME_COPY, OneTimeCopy.NONE.code(), plan.sync().name(), copy.code());
        }
        if (!copy.copies() || !run.failed() && everyDbTookPart) {
            cache.noOneTimeCopy();
        }
    }
}
