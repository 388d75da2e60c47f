package dev.ibex.controller;

import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;

/**
 * Keeps ibex.run from growing for ever: runs beyond the newest {@code keep} per sync, or older than
 * {@code days}, go; the newest run of each state per sync stays, so status can always show the
 * last good and last bad run.
 */
final class RunHistory {

    private RunHistory() {
    }

    /** Returns how many runs were deleted; commits. */
    static int trim(Repository repo, int keep, int days) {
        int n = new RunLog(repo).trim(keep, days);
        repo.commit();
        return n;
    }
}
