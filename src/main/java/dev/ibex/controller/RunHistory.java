package dev.ibex.controller;

import dev.ibex.repository.Repository;

/**
 * Keeps ibex.run from growing for ever: runs beyond the newest {@code keep} per sync, or older than
 * {@code days}, go; the newest run of each state per sync stays, so status can always show the
 * last good and last bad run.
 */
final class RunHistory {

    private static final String TRIM = """
            DELETE FROM ibex.run r
             WHERE r.state <> 'running'
               AND r.id NOT IN (SELECT DISTINCT ON (sync, state) id FROM ibex.run ORDER BY sync, state, started DESC, id DESC)
               AND (r.started < now() - ? * interval '1 day'
                    OR r.id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY sync ORDER BY started DESC, id DESC) AS n
                                                  FROM ibex.run) ranked
                                 WHERE n > ?))""";

    private RunHistory() {
    }

    /** Returns how many runs were deleted; commits. */
    static int trim(Repository repo, int keep, int days) {
        int n = repo.update(TRIM, days, keep);
        repo.commit();
        return n;
    }
}
