package dev.ibex.status;

import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Finds the runs that ended since the last look, each once, so counters built on them only grow:
 * the run history itself is trimmed, and its sums would go down. Runs end out of id order (syncs
 * run side by side), so the runs above the floor that were already counted are remembered until
 * the floor passes them.
 */
final class RunTally {

    /** A run's row commits as it starts; one that ended this long ago has no unseen run below it. */
    static final Duration SETTLE = Duration.ofSeconds(10);

    /** Every run with an id up to here has been counted or was there before the controller started. */
    private long floor;
    private final Set<Long> counted = new HashSet<>();

    /** Counts only runs that start from now: those before belong to an earlier controller. */
    RunTally(Repository repo) {
        this.floor = new RunLog(repo).newestId();
    }

    /** Hands each run that ended since the last call to {@code sink}, once. */
    void ended(Repository repo, Consumer<RunLog.Ended> sink) {
        RunLog log = new RunLog(repo);
        List<RunLog.Ended> runs = log.endedAbove(floor, SETTLE);
        long open = log.oldestOpenAbove(floor).orElse(Long.MAX_VALUE);
        for (RunLog.Ended run : runs) {
            if (counted.add(run.entry().id())) {
                sink.accept(run);
            }
        }
        raiseFloor(runs, open);
    }

    /** Up to the last settled run below the first open or unsettled one. */
    private void raiseFloor(List<RunLog.Ended> runs, long open) {
        for (RunLog.Ended run : runs) {
            if (!run.settled() || run.entry().id() >= open) {
                break;
            }
            floor = run.entry().id();
        }
        counted.removeIf(id -> id <= floor);
    }
}
