package dev.ibex.replicate;

import dev.ibex.repository.Repository;

/**
 * The claim a controller's run of a sync holds: (sync, controller, epoch) in ibex.sync_claim.
 * Several controllers share a repository; one that was paused or cut off may come back after
 * another took its sync over. {@link #check} reads the claim FOR SHARE in the run's repository
 * transaction: once before the run row is committed, before every target commit, and before the
 * run records its batch (S_prev in ibex.sync_state) and its end, so a claim taken away in the
 * meantime rolls the run back instead of recording a stale batch. Taking a claim updates the row,
 * which waits for that share lock: a run that passed its last check commits before the new owner
 * holds the claim. A run without a fence (the CLI's) checks nothing.
 */
public record ClaimFence(String sync, int controller, long epoch) {

    private static final String HELD = """
            SELECT 1 FROM ibex.sync_claim WHERE sync = ? AND controller = ? AND epoch = ? FOR SHARE""";

    /** Throws {@link Lost} when this claim no longer holds. Does not commit. */
    public void check(Repository repo) {
        if (repo.one(HELD, rs -> rs.getInt(1), sync, controller, epoch).isEmpty()) {
            throw new Lost(this);
        }
    }

    /** Whether the claim still holds, read on {@code repo} and rolled back. */
    public boolean holds(Repository repo) {
        try {
            check(repo);
            return true;
        } catch (Lost e) {
            return false;
        } finally {
            repo.rollback();
        }
    }

    /** The claim went to another controller: the run rolls back and the kid gives the sync up. */
    public static final class Lost extends RuntimeException {

        private final transient ClaimFence fence;

        Lost(ClaimFence fence) {
            super("Sync \"" + fence.sync() + "\" is now run by another controller (claim epoch " + fence.epoch()
                    + " of controller c" + fence.controller() + " is gone)");
            this.fence = fence;
        }

        public ClaimFence fence() {
            return fence;
        }
    }
}
