package dev.ibex.replicate;

import dev.ibex.repository.Repository;

/**
 * One run of one sync: read the changes since each target's last snapshot, apply them, record the
 * run. STUB: the engine work replaces the body.
 */
public final class SyncRunner {

    /** What a run did; the run row in ibex.run holds the same. */
    public record Result(long runId, String state, long deletes, long inserts, String error) {
    }

    private final Repository repo;

    /** @param repo a repository connection the runner may commit on (run rows, sync_state) */
    public SyncRunner(Repository repo) {
        this.repo = repo;
    }

    /**
     * Runs the sync once. Writes an ibex.run row (state running, then good/empty/bad) and commits it;
     * never throws for a failed run (the Result says bad and why), only for programming errors.
     */
    public Result runOnce(String sync) {
        throw new UnsupportedOperationException("replication not implemented yet for " + sync + " on " + repo);
    }
}
