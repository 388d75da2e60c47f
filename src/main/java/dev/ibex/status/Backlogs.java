package dev.ibex.status;

import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;

/** Pending changes per sync, for status. */
final class Backlogs {

    private Backlogs() {
    }

    /** The number of captured changes not yet applied, or null when it cannot be known. */
    static Long of(Repository repo, Sync sync) {
        // TODO(engine): dev.ibex.replicate.Backlog counts them once the engine is merged
        return null;
    }
}
