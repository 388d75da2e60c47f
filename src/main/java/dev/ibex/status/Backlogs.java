package dev.ibex.status;

import dev.ibex.IbexException;
import dev.ibex.pg.DbPools;
import dev.ibex.replicate.Backlog;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;

/** Pending changes per sync, for status: counted on the sources, so unknown when one cannot be read. */
final class Backlogs {

    private Backlogs() {
    }

    /** The number of captured changes not yet applied, or null when not asked ({@code pools} null) or unknown. */
    static Long of(Repository repo, DbPools pools, Sync sync) {
        if (pools == null) {
            return null;
        }
        try {
            return Backlog.pending(repo, pools, sync.name());
        } catch (IbexException e) {
            return null;
        }
    }
}
