package dev.ibex.controller;

import dev.ibex.capture.Capture;
import dev.ibex.capture.CaptureCheck;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After each purge of a source: its captured tables that stopped logging writes (a trigger
 * dropped or disabled by hand, a table dropped and made anew, a table attached as a partition)
 * get their capture back at once, and
 * so a whole copy to the targets of the writes nobody logged; a table that is gone is reported.
 * Each finding is logged once, not every round, and one source is checked at a time.
 */
final class CaptureWatch {

    /** Logged as the controller. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    /** By source db: what was last reported, so a finding that stays is not logged every round. */
    private final Map<String, String> reported = new HashMap<>();

    synchronized void check(Repository repo, DbPools pools, Db source) {
        List<CaptureCheck.Unlogged> unlogged = CaptureCheck.unlogged(pools, source);
        if (unlogged.isEmpty()) {
            reported.remove(source.name());
            return;
        }
        List<String> gone = unlogged.stream().filter(u -> !u.exists()).map(CaptureCheck.Unlogged::table).toList();
        if (!gone.isEmpty()) {
            if (fresh(source, "gone " + gone)) {
                log.error("Table(s) {} captured on db {} no longer exist there: their writes cannot be replicated; "
                        + "create them again, or remove them from their relgroup, then run 'ibex reload'",
                        String.join(", ", gone), source.name());
            }
            return;
        }
        String tables = unlogged.stream().map(CaptureCheck.Unlogged::toString).collect(Collectors.joining(", "));
        boolean fresh = fresh(source, tables);
        if (fresh) {
            log.warn("Capture of table(s) {} on db {} no longer logs every write as captured: writes since may be "
                    + "missing on the targets; capturing the table(s) anew, and copying them whole to the targets once",
                    tables, source.name());
        }
        try {
            Capture.reconcile(repo, source);
            repo.commit();
            reported.remove(source.name());
            log.info("Table(s) {} on db {} captured anew", tables, source.name());
        } catch (RuntimeException e) {
            repo.rollback();
            if (fresh) {
                log.error("Could not capture table(s) {} on db {} anew: {}; the controller tries again "
                        + "after each purge, and 'ibex reload' does it too", tables, source.name(), PgErrors.describe(e));
            }
        }
    }

    /** Whether this finding on the source is new: not the one reported last. */
    private boolean fresh(Db source, String finding) {
        return !finding.equals(reported.put(source.name(), finding));
    }
}
