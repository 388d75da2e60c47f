package dev.ibex.migrate;

import dev.ibex.pg.DbPools;
import dev.ibex.replicate.Backlog;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.repository.Repository;

/**
 * Applies a sync's pending changes, so that a comparison or a cutover sees source and targets at
 * one point: runs the sync until the backlog is empty, at most {@link #MAX_RUNS} times (writes that
 * go on can keep it from ever being empty).
 */
public final class Drain {

    public static final int MAX_RUNS = 10;

    /**
     * @param runs    how many times the sync ran
     * @param pending changes still pending after the last run (Backlog.pending)
     * @param error   why the last run failed, or null
     */
    public record Drained(int runs, long pending, String error) {
        public boolean drained() {
            return error == null && pending == 0;
        }
    }

    private Drain() {
    }

    /** Runs the sync until nothing is pending or {@code maxRuns} runs; stops at a failed run. */
    public static Drained drain(Repository repo, String sync, int maxRuns) {
        try (DbPools pools = new DbPools(); SyncRunner runner = new SyncRunner(repo, pools)) {
            int runs = 0;
            long pending = -1;
            while (runs < maxRuns) {
                SyncRunner.Result r = runner.runOnce(sync);
                runs++;
                if (r.outcome().failed()) {
                    return new Drained(runs, Backlog.pending(repo, pools, sync), r.error());
                }
                pending = Backlog.pending(repo, pools, sync);
                if (pending == 0) {
                    break;
                }
            }
            return new Drained(runs, pending, null);
        }
    }

    /** Drains for a comparison; returns a note for the report when changes may still be in flight, else null. */
    static String run(Repository repo, String sync) {
        Drained d = drain(repo, sync, MAX_RUNS);
        if (d.error() != null) {
            return "draining pending changes failed (" + d.error() + "): differences may be changes in flight";
        }
        if (d.pending() > 0) {
            return d.pending() + " change(s) still pending after " + d.runs() + " runs (writes go on): "
                    + "differences may be changes in flight";
        }
        return null;
    }
}
