package dev.ibex.controller;

import dev.ibex.capture.Capture;
import dev.ibex.capture.CaptureCheck;
import dev.ibex.capture.CaptureCheck.Cause;
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
 * so a whole copy to the targets of the writes nobody logged; a table that is gone is reported, and
 * one whose key column is gone (its capture would fail every write) loses its triggers. A source
 * whose capture objects are gone altogether (schema ibex dropped, or the database restored without
 * it) gets them back, and every table copied whole.
 * Each finding is logged once, not every round, and one source is checked at a time.
 */
final class CaptureWatch {

    /** Logged as the controller. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    /** By source db: what was last reported, so a finding that stays is not logged every round. */
    private final Map<String, String> reported = new HashMap<>();

    synchronized void check(Repository repo, DbPools pools, Db source) {
        List<CaptureCheck.Unlogged> unlogged = CaptureCheck.unlogged(pools, source);
        if (!of(unlogged, Cause.SCHEMA_GONE).isEmpty() && !Capture.expected(repo, source)) {
            unlogged = List.of(); // nothing captured there (yet): the controller's reconcile installs it
        }
        if (unlogged.isEmpty()) {
            reported.remove(source.name());
            return;
        }
        List<CaptureCheck.Unlogged> gone = of(unlogged, Cause.GONE);
        List<CaptureCheck.Unlogged> keyGone = of(unlogged, Cause.KEY_GONE);
        List<CaptureCheck.Unlogged> rest = unlogged.stream().filter(u -> !gone.contains(u) && !keyGone.contains(u)).toList();
        boolean fresh = fresh(source, unlogged.toString());
        if (fresh && !gone.isEmpty()) {
            log.error("Table(s) {} captured on db {} no longer exist there: their writes cannot be replicated; "
                    + "create them again, or remove them from their relgroup, then run 'ibex reload'",
                    names(gone), source.name());
        }
        if (!gone.isEmpty()) {
            return; // a capture anew would stop at the missing table
        }
        if (fresh && !keyGone.isEmpty()) {
            log.error("A key column of table(s) {} on db {} was renamed or dropped: ibex's capture trigger names it and "
                    + "would fail every write to the table, so ibex takes its triggers off, and its writes no longer "
                    + "reach the targets; name the column back (the table is then captured anew and copied whole), or "
                    + "make the targets' table alike, then 'ibex remove table' it and add it again", names(keyGone),
                    source.name());
        }
        if (fresh && !rest.isEmpty()) {
            log.warn("Capture of table(s) {} on db {} no longer logs every write as captured: writes since may be "
                    + "missing on the targets; capturing the table(s) anew, and copying them whole to the targets once",
                    described(rest), source.name());
        }
        try {
            Capture.reconcile(repo, source);
            repo.commit();
            if (!rest.isEmpty()) {
                log.info("Table(s) {} on db {} captured anew", described(rest), source.name());
            }
            // what stays (a key column still gone) is not logged again next round
            reported.put(source.name(), keyGone.toString());
        } catch (RuntimeException e) {
            repo.rollback();
            if (fresh) {
                log.error("Could not capture table(s) {} on db {} anew: {}; the controller tries again "
                        + "after each purge, and 'ibex reload' does it too", described(unlogged), source.name(),
                        PgErrors.describe(e));
            }
        }
    }

    private static List<CaptureCheck.Unlogged> of(List<CaptureCheck.Unlogged> unlogged, Cause cause) {
        return unlogged.stream().filter(u -> u.cause() == cause).toList();
    }

    private static String names(List<CaptureCheck.Unlogged> tables) {
        return tables.stream().map(CaptureCheck.Unlogged::table).collect(Collectors.joining(", "));
    }

    private static String described(List<CaptureCheck.Unlogged> tables) {
        return tables.stream().map(CaptureCheck.Unlogged::toString).collect(Collectors.joining(", "));
    }

    /** Whether this finding on the source is new: not the one reported last. */
    private boolean fresh(Db source, String finding) {
        return !finding.equals(reported.put(source.name(), finding));
    }
}
