package dev.ibex.capture;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.config.Tunable;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Repository;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The repository's advisory locks that keep a change of the model (ibex add, update, remove,
 * reload) and what reads the model apart until the change commits. A command reconciling a
 * source's capture seeds S_prev and logs whole-table copies on the source before its repository
 * transaction commits; a purge or a run that read the model meanwhile would not see the new
 * consumer or table, and could delete changes the new consumer needs, or record a snapshot past
 * a table's whole-table copy with a plan that lacks the table.
 *
 * <p>The command takes, in its transaction (so until it commits), the source's lock and the run
 * lock of every sync reading the source; a purge takes the source's lock for the session while it
 * works, a run its sync's lock ({@code SyncRunner}). The command waits for a purge or run under
 * way, and a run starting meanwhile waits for the command to commit; the command gives up after
 * model_lock_wait seconds ({@link Tunable#MODEL_LOCK_WAIT}) with nothing changed, and a purge
 * skips the source until its next round.
 */
public final class ModelLocks {

    /** pg_advisory_lock(SYNC_RUN, hashtext(sync)), held by a run: 'ibsy' in ASCII. */
    public static final int SYNC_RUN = 0x69627379;
    /** pg_advisory_lock(SOURCE, hashtext(db)), held by a purge of that source or a command reconciling it: 'ibsc'. */
    public static final int SOURCE = 0x69627363;

    private static final String XACT = "SELECT pg_advisory_xact_lock(?, hashtext(?))";
    private static final String TRY = "SELECT pg_try_advisory_lock(?, hashtext(?))";
    private static final String UNLOCK = "SELECT pg_advisory_unlock(?, hashtext(?))";
    private static final String SYNCS_READING = """
            SELECT DISTINCT s.name FROM ibex.sync s
            JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup AND m.role = 'source' AND m.db = ?
            ORDER BY 1""";

    private ModelLocks() {
    }

    /**
     * For a command about to reconcile {@code source}: its lock, then the run lock of each sync
     * reading it, in {@code repo}'s transaction, each waited for in turn (a run ends in well under a
     * second, a one-time copy may take hours). Throws, naming what held on, after model_lock_wait
     * seconds; the caller rolls back, and nothing has changed.
     */
    public static void holdForChange(Repository repo, String source) {
        Connection c = repo.connection();
        String holder = "the purge of applied changes on it";
        long waitMillis = Math.round(Tunable.MODEL_LOCK_WAIT.read(repo) * 1000);
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL statement_timeout = " + waitMillis);
            lock(c, SOURCE, source);
            for (String sync : repo.list(SYNCS_READING, rs -> rs.getString(1), source)) {
                holder = "a run of sync \"" + sync + "\" (a one-time copy may take long)";
                lock(c, SYNC_RUN, sync);
            }
            st.execute("SET LOCAL statement_timeout TO DEFAULT");
        } catch (SQLException e) {
            if (SqlState.QUERY_CANCELED.is(e)) {
                throw new IbexException(ExitCode.DATABASE, "Cannot change what reads db \"" + source + "\" now: "
                        + holder + " still went on after " + Tunable.show(waitMillis / 1000.0) + " s (model_lock_wait); "
                        + "nothing was changed: try again when 'ibex status' shows the run ended");
            }
            throw PgErrors.failed("Waiting for the runs of the syncs reading db \"" + source + "\"", e);
        }
    }

    private static void lock(Connection c, int lockClass, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(XACT)) {
            ps.setInt(1, lockClass);
            ps.setString(2, name);
            ps.executeQuery().close();
        }
    }

    /** For a purge: the source's lock for this session, without waiting; false while a command changes what reads it. */
    public static boolean tryHoldSource(Repository repo, String source) {
        return repo.one(TRY, rs -> rs.getBoolean(1), SOURCE, source).orElse(false);
    }

    public static void releaseSource(Repository repo, String source) {
        repo.one(UNLOCK, rs -> rs.getBoolean(1), SOURCE, source);
    }
}
