package dev.ibex.controller;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import dev.ibex.status.Durations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second layer of fencing: before the first run of a sync taken from another controller, the
 * sessions that controller has open on the sync's dbs are ended (each controller marks its
 * connections with application_name "ibex c&lt;id&gt;"). A run of the old owner that passed its
 * claim check and then stood still (SIGSTOP, a partition) before its target commit loses that
 * commit with its connection; any connection it opens later meets the claim check first, which
 * fails on the repository. Ending another's backend needs the same role (or pg_signal_backend),
 * which ibex's connections share as a rule; where it is refused, the claim checks remain (a
 * whole-table copy checks the claim only once its workers have connected, so it is then unfenced).
 */
final class TargetFence {

    private static final Logger log = LoggerFactory.getLogger(Kid.class);

    private static final String CUT = """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND (application_name = ? OR application_name LIKE ?)""";
    private static final String LEFT = """
            SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND (application_name = ? OR application_name LIKE ?)""";

    private TargetFence() {
    }

    /**
     * How long to wait for the ended sessions to go: a backend ends at its next check for
     * interrupts, within milliseconds unless its host is swamped or the old controller keeps
     * connecting again.
     */
    static final Duration WAIT = Duration.ofSeconds(10);

    /** A db whose sessions could not be ended because it could not be reached. */
    record Unreached(String db, String error, String sqlstate) {
    }

    /**
     * Ends the sessions of controller {@code previous} on the sync's dbs that {@code which}
     * accepts, and waits until they are gone.
     *
     * @return the dbs that could not be reached: the runs must leave them out until their
     *         sessions are ended, or a commit the old owner prepared there may land after the new
     *         owner's writes
     */
    static List<Unreached> cutOff(Repository repo, DbPools pools, String sync, int previous, Predicate<String> which) {
        return cutOff(repo, pools, sync, previous, which, WAIT);
    }

    /** {@link #cutOff(Repository, DbPools, String, int, Predicate)}, waiting at most {@code wait} on each db. */
    static List<Unreached> cutOff(Repository repo, DbPools pools, String sync, int previous, Predicate<String> which,
            Duration wait) {
        SyncPlan plan = repo.plan(sync);
        repo.rollback();
        String app = ControllerSession.appPrefix(previous);
        List<Unreached> unreached = new ArrayList<>();
        for (SyncPlan.Member m : plan.members()) {
            if (!m.db().active() || !which.test(m.db().name())) {
                continue;
            }
            Connection c;
            try {
                c = pools.connection(m.db());
            } catch (RuntimeException e) {
                if (PgErrors.kindOf(e) != SqlState.Kind.CONNECTION) {
                    throw e;
                }
                unreached.add(new Unreached(m.db().name(), PgErrors.describe(e), SqlState.in(e)));
                continue;
            }
            try (c) {
                long cut = count(c, CUT, app);
                long deadline = System.nanoTime() + wait.toNanos();
                long left = cut;
                while (left > 0 && (left = count(c, LEFT, app)) > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
                if (left > 0) {
                    // the run goes on: its claim checks still fence the old owner's run steps
                    log.warn("{} session(s) of controller c{} are still open on db {} after {}: a run of sync {} it "
                            + "started before losing its claim may still commit there (its claim checks stop its "
                            + "next step, not a whole-table copy); check that host", left, previous, m.db().name(),
                            Durations.age(wait), sync);
                } else if (cut > 0) {
                    log.info("Ended {} session(s) of controller c{} on db {} before taking sync {} over", cut,
                            previous, m.db().name(), sync);
                }
            } catch (SQLException e) {
                if (SqlState.INSUFFICIENT_PRIVILEGE.is(e)) {
                    log.warn("Cannot end the sessions of controller c{} on db {} ({}): grant pg_signal_backend to "
                            + "ibex's role there; the claim checks still fence its runs' steps, not its whole-table "
                            + "copies", previous, m.db().name(), PgErrors.message(e));
                    continue;
                }
                if (SqlState.kindOf(e.getSQLState()) == SqlState.Kind.CONNECTION) {
                    unreached.add(new Unreached(m.db().name(), PgErrors.message(e), e.getSQLState()));
                    continue;
                }
                throw PgErrors.failed("Ending the sessions of controller c" + previous + " on db \"" + m.db().name()
                        + "\"", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return unreached;
            }
        }
        return unreached;
    }

    private static long count(Connection c, String sql, String app) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, app);
            ps.setString(2, app + " %");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
