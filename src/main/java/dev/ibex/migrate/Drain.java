package dev.ibex.migrate;

import dev.ibex.replicate.SyncRunner;
import dev.ibex.repository.Repository;

/** Applies a sync's pending changes once, so a comparison sees source and targets at one point. */
final class Drain {

    private Drain() {
    }

    /** Runs the sync once; returns a note for the report when that could not happen, else null. */
    static String run(Repository repo, String sync) {
        try {
            SyncRunner.Result r = new SyncRunner(repo).runOnce(sync);
            if ("bad".equals(r.state())) {
                return "draining pending changes failed (" + r.error() + "): differences may be changes in flight";
            }
            return null;
        } catch (UnsupportedOperationException e) {
            // TODO remove once the engine has landed on main: runOnce is a stub until then
            return "pending changes were not drained: the replication engine is not in this build";
        }
    }
}
