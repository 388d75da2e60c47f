package dev.ibex.replicate;

import dev.ibex.capture.ChangeLog;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
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
        Set<String> names = names(plan);
        long total = 0;
        for (Db source : plan.sources()) {
            List<String> snapshots = new SyncStates(repo).snapshots(sync, source.name());
            if (snapshots.isEmpty()) {
                continue;
            }
            try (Connection c = pools.connection(source)) {
                Set<Integer> tabs = tabs(c, names);
                long slowest = 0;
                for (String snapshot : snapshots) {
                    slowest = Math.max(slowest, count(c, ChangeLog.PENDING, tabs, snapshot)
                            + count(c, ChangeLog.PENDING_TRUNCATES, names, snapshot));
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

    /** The log numbers of the tables {@code names}. */
    private static Set<Integer> tabs(Connection c, Set<String> names) throws SQLException {
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

    /**
     * The changes of {@code pending} (a query binding S_prev twice, one row per group: its key and
     * its count) in the groups {@code of}.
     */
    private static long count(Connection c, String pending, Set<?> of, String snapshot) throws SQLException {
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement(pending)) {
            ps.setString(1, snapshot);
            ps.setString(2, snapshot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n += of.contains(rs.getObject(1)) ? rs.getLong(2) : 0;
                }
            }
        }
        return n;
    }
}
