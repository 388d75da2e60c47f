package dev.ibex.replicate;

import dev.ibex.capture.ChangeLog;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import dev.ibex.repository.SyncStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How far a sync is behind: the captured changes its slowest target has not applied yet (log rows
 * not visible in that target's S_prev), summed over its tables and sources. For `ibex status`.
 */
public final class Backlog {

    private Backlog() {
    }

    /**
     * Pending changes of one sync (a row changed twice counts twice). Throws IbexException when a
     * source cannot be read.
     */
    public static long pending(Repository repo, DbPools pools, String sync) {
        SyncPlan plan = repo.plan(sync);
        long total = 0;
        for (Db source : plan.sources()) {
            List<String> snapshots = new SyncStates(repo).snapshots(sync, source.name());
            if (snapshots.isEmpty()) {
                continue;
            }
            try (Connection c = pools.connection(source)) {
                Set<Integer> tabs = tabs(c, plan);
                Set<String> names = names(plan);
                long slowest = 0;
                for (String snapshot : snapshots) {
                    slowest = Math.max(slowest, count(c, tabs, snapshot) + truncates(c, names, snapshot));
                }
                total += slowest;
            } catch (SQLException e) {
                if (SqlState.UNDEFINED_TABLE.is(e)) {
                    continue; // not captured (yet): nothing pending that ibex could know of
                }
                throw PgErrors.failed("Counting the backlog of sync \"" + sync + "\" on db \"" + source.name() + "\"", e);
            }
        }
        return total;
    }

    /** The plan's keyed tables, "schema.table" as ibex.captured and ibex.truncate_log name them. */
    private static Set<String> names(SyncPlan plan) {
        Set<String> names = new HashSet<>();
        for (Relation r : plan.tables()) {
            if (r.hasKey()) {
                names.add(r.display());
            }
        }
        return names;
    }

    /** The log numbers of the plan's tables. */
    private static Set<Integer> tabs(Connection c, SyncPlan plan) throws SQLException {
        Set<String> names = names(plan);
        Set<Integer> tabs = new HashSet<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(ChangeLog.NAMES)) {
            while (rs.next()) {
                if (names.contains(rs.getString(2))) {
                    tabs.add(rs.getInt(1));
                }
            }
        }
        return tabs;
    }

    /** Truncates of the plan's tables S_prev (bound twice) did not see: each is one pending change. */
    private static final String TRUNCATES = "SELECT schemaname || '.' || tablename, count(*) FROM ("
            + TxidSnapshot.rowsNotSeenSql("schemaname, tablename", "ibex.truncate_log") + ") u GROUP BY 1";

    private static long truncates(Connection c, Set<String> names, String snapshot) throws SQLException {
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement(TRUNCATES)) {
            ps.setString(1, snapshot);
            ps.setString(2, snapshot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n += names.contains(rs.getString(1)) ? rs.getLong(2) : 0;
                }
            }
        }
        return n;
    }

    private static long count(Connection c, Set<Integer> tabs, String snapshot) throws SQLException {
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement(ChangeLog.PENDING)) {
            ps.setString(1, snapshot);
            ps.setString(2, snapshot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n += tabs.contains(rs.getInt(1)) ? rs.getLong(2) : 0;
                }
            }
        }
        return n;
    }
}
