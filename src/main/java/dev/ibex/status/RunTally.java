package dev.ibex.status;

import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Finds the runs that ended since the last look, each once, so counters built on them only grow:
 * the run history itself is trimmed, and its sums would go down. Runs end out of id order (syncs
 * run side by side), and a run's row can commit any time after its id was handed out (a stalled
 * runner or controller), so the runs above the floor that were already counted are remembered
 * until the floor passes them, and the floor passes an id only once every transaction that could
 * still hold a smaller one has ended: told by transaction ids, not by time.
 */
final class RunTally {

    /** Every run with an id up to here has been counted, was there before the controller started, or never will be. */
    private long floor;
    private final Set<Long> counted = new HashSet<>();
    /** Run ids up to which the floor may rise once every transaction of a look has ended; null before the first look. */
    private Ceiling ceiling;

    /**
     * Every run id up to {@code id} was held, as one look saw it, by a transaction with an xid below
     * {@code xmax} (a run's transaction takes its xid before its id, see {@link RunLog#START}): once
     * a later look's xmin reaches xmax, those ids are all visible or never will be.
     */
    private record Ceiling(long id, long xmax) {
    }

    /** Counts only runs that start from now: those before belong to an earlier controller. */
    RunTally(Repository repo) {
        this.floor = new RunLog(repo).newestId();
    }

    /** Hands each run that ended since the last call to {@code sink}, once. */
    void ended(Repository repo, Consumer<RunLog.Ended> sink) {
        RunLog.Look look = new RunLog(repo).look(floor);
        for (RunLog.Ended run : look.ended()) {
            if (counted.add(run.entry().id())) {
                sink.accept(run);
            }
        }
        if (ceiling != null && look.xmin() >= ceiling.xmax()) {
            // an open run below the ceiling has yet to end and be counted: the floor stays under it
            floor = Math.max(floor, Math.min(ceiling.id(), look.firstOpen() - 1));
            counted.removeIf(id -> id <= floor);
            ceiling = null;
        }
        if (ceiling == null) {
            // kept until reached, not moved on with every look, or a steady stream of new
            // transactions would keep the floor from ever rising
            ceiling = new Ceiling(look.newest(), look.xmax());
        }
    }

    /** How many counted runs are remembered above the floor: none once every run below has settled. */
    int remembered() {
        return counted.size();
    }
}
