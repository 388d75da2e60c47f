package dev.ibex.controller;

import dev.ibex.repository.Repository;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Source dbs whose capture check failed (under load its locks may not come within their 5 s): the
 * runs of their syncs fail until it is done, so the controller tries again on every supervision.
 */
final class CaptureRetries {

    private final Set<String> dbs = new LinkedHashSet<>();

    void add(Set<String> failed) {
        dbs.addAll(failed);
    }

    /** @return whether a db's check went through this time: its syncs can run now */
    boolean retry(Repository repo) {
        if (dbs.isEmpty()) {
            return false;
        }
        Set<String> failed = Housekeeping.reconcileCaptureOn(repo, dbs, false);
        boolean fixed = failed.size() < dbs.size();
        dbs.retainAll(failed);
        return fixed;
    }
}
