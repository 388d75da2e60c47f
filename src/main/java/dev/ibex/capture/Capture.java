package dev.ibex.capture;

import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;

/**
 * Capture objects on source databases (schema ibex, delta tables, triggers). STUB: the engine
 * work replaces the body.
 */
public final class Capture {

    private Capture() {
    }

    /**
     * Makes the capture objects on one source match what the repository (as seen through
     * {@code repo}'s connection, uncommitted rows included) says: every table read by a sync whose
     * dbgroup has this db as a source is captured (NOTIFY trigger when one of those syncs has
     * autokick), tables no sync reads lose their objects, and a source with none is left with no
     * ibex objects. Seeds ibex.sync_state for new (sync, source, target) combinations with the
     * snapshot taken after the triggers went in. Idempotent; one transaction on the source, with a
     * lock_timeout. Throws IbexException naming the table on failure.
     */
    public static void reconcile(Repository repo, Db source) {
        // STUB: does nothing until the engine lands
    }
}
