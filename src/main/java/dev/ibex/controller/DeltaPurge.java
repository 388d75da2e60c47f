package dev.ibex.controller;

import dev.ibex.repository.Repository;

/**
 * Deletes delta rows on the sources that every consumer has applied: rows below
 * txid_snapshot_xmin of every (sync, source, target) S_prev in ibex.sync_state.
 */
final class DeltaPurge {

    private DeltaPurge() {
    }

    static void purge(Repository repo) {
        // TODO(engine): the delta table names belong to the capture package, which is still a stub;
        // call its purge (or list its delta tables) once it is merged.
        repo.rollback();
    }
}
