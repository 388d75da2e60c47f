package dev.ibex.controller;

import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Repository;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Source dbs whose capture check failed (under load its locks may not come within their 5 s): the
 * runs of their syncs fail until it is done, so the controller tries again, as a duty of its own
 * and not on its main loop: a try may wait for the source's locks and for a run under way (up to
 * model_lock_wait), and the main loop must go on beating the heartbeat meanwhile.
 */
final class CaptureRetries {

    /** Each db with the number of its latest failure: one that failed again during a retry stays. */
    private final Map<String, Long> dbs = new LinkedHashMap<>();
    private long failures;

    synchronized void add(Set<String> failed) {
        failed.forEach(db -> dbs.put(db, ++failures));
    }

    /** @return whether a db's check went through this time: its syncs can run now */
    boolean retry(ConnectionSpec spec, String application) {
        Map<String, Long> due;
        synchronized (this) {
            if (dbs.isEmpty()) {
                return false;
            }
            due = new LinkedHashMap<>(dbs);
        }
        Set<String> failed;
        try (Repository repo = Repository.open(spec, application)) {
            failed = Housekeeping.reconcileCaptureOn(repo, due.keySet(), false);
        }
        due.keySet().removeAll(failed);
        synchronized (this) {
            due.forEach(dbs::remove);
        }
        return !due.isEmpty();
    }
}
