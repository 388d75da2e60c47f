package dev.ibex.replicate;

import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.RunState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The counters and errors of one run, and its row in ibex.run. */
final class RunRecord {

    /** Logged as the runner: these are the run's errors. */
    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);

    private final Repository repo;
    private final RunLog runLog;
    private final String sync;
    private final long id;
    /** The claim the run holds, or null (a run from the CLI). */
    private final ClaimFence fence;
    private long deletes;
    private long inserts;
    private long truncates;
    private long conflicts;
    private long sequences;
    private long keys;
    private int steps;
    private String snapshot;
    private final List<String> errors = new ArrayList<>();
    /** Of the first error that came from a database, for telling what can fix it (pg/SqlState). */
    private String sqlstate;
    /** The sync's targets that are down, kept across its runs (the kid's); a fresh set for a lone run. */
    private final DownTargets down;
    /** How many of the errors are of down targets, which the runs leave out until they answer. */
    private int downErrors;
    /** Whether some target took the run's batch. */
    private boolean reachedAny;

    /** The run whose row {@link RunStart} inserted. */
    RunRecord(Repository repo, String sync, long id, ClaimFence fence, DownTargets down) {
        this.repo = repo;
        this.down = down;
        this.fence = fence;
        this.runLog = new RunLog(repo);
        this.sync = sync;
        this.id = id;
    }

    /**
     * Before a target commit and before the batch is recorded: throws {@link ClaimFence.Lost} when
     * another controller took the sync over; a run without a fence only checks that the repository
     * session, which holds the sync's lock, still lives.
     */
    void checkFence() {
        if (fence != null) {
            fence.check(repo);
        } else {
            repo.one("SELECT 1", rs -> rs.getInt(1));
        }
    }

    /** The run reads its sources as of this snapshot (S_cur). */
    void readAt(String snapshot) {
        this.snapshot = snapshot;
    }

    void read(long changedKeys) {
        keys += changedKeys;
    }

    /** What a target took: rows deleted and rows inserted. */
    void applied(long deleted, long inserted) {
        deletes += deleted;
        inserts += inserted;
    }

    /** Target transactions (or whole tables copied) done. */
    void stepsDone(int n) {
        steps += n;
    }

    /** Tables truncated on the source, copied whole. */
    void truncated(int tables) {
        truncates += tables;
    }

    /** Keys changed on several sources that the run settled. */
    void conflicts(long n) {
        conflicts += n;
    }

    /** The sync the run is of. */
    String sync() {
        return sync;
    }

    void sequenceSet() {
        sequences++;
    }

    boolean failed() {
        return !errors.isEmpty();
    }

    /** The run's outcome carries it; whoever ran the run logs that (the kid once, see FailureLog). */
    void error(String message) {
        LOG.debug("{}", message);
        errors.add(message);
    }

    void error(String message, String state) {
        error(message);
        if (sqlstate == null) {
            sqlstate = state;
        }
    }

    /**
     * {@code target} failed in this run. A failed or broken connection marks it down: the next
     * runs leave it out until its own back-off elapses, and go on to the other targets.
     */
    void targetFailed(Db target, String message, String state) {
        error(message, state);
        if (DownTargets.isDown(state)) {
            down.failed(target.name(), message, state);
            downErrors++;
        }
    }

    /**
     * Whether the run leaves {@code target} out because it is down; if so its error is the run's,
     * so status shows the target and why.
     */
    boolean skips(Db target, String applicationName) {
        Optional<String> why = down.skip(target, applicationName);
        why.ifPresent(w -> {
            error(w, down.sqlstate(target.name()));
            downErrors++;
        });
        return why.isPresent();
    }

    /** {@code target} took the run's batch. */
    void reached(Db target) {
        down.reached(target.name());
        reachedAny = true;
    }

    /**
     * The run failed only for targets that are down, and applied to the others. With every
     * target down it is a failed run like any other: the whole sync backs off.
     */
    boolean onlyTargetsDown() {
        return !errors.isEmpty() && downErrors == errors.size() && reachedAny;
    }

    void progress(String detail) {
        runLog.progress(id, detail, counts());
        repo.commit();
    }

    /** Records the run's end and commits; with a channel, listeners hear of it when that commits. */
    SyncRunner.Result finish(String announceChannel) {
        RunState state = state();
        String error = errors.isEmpty() ? null : String.join("; ", errors);
        runLog.end(id, state, counts(), snapshot, detail(), error, sqlstate, sync, announceChannel);
        repo.commit();
        return new SyncRunner.Result(id, state, deletes, inserts, error, sqlstate, onlyTargetsDown());
    }

    private RunState state() {
        if (!errors.isEmpty()) {
            return RunState.BAD;
        }
        return keys + deletes + inserts + truncates + conflicts > 0 ? RunState.GOOD : RunState.EMPTY;
    }

    /** e.g. "200000 keys in 10 steps, 4 sequence values set". */
    private String detail() {
        return keys + " keys in " + steps + (steps == 1 ? " step" : " steps")
                + (conflicts == 0 ? "" : ", " + conflicts + " conflict" + (conflicts == 1 ? "" : "s"))
                + (sequences == 0 ? "" : ", " + sequences + " sequence value" + (sequences == 1 ? "" : "s") + " set");
    }

    private RunLog.Counts counts() {
        return new RunLog.Counts(deletes, inserts, truncates, conflicts);
    }
}
