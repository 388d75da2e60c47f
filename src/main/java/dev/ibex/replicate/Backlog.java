package dev.ibex.replicate;

import dev.ibex.capture.CapturedTable;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * How far a sync is behind: the captured changes its slowest target has not applied yet (delta rows
 * not visible in that target's S_prev), summed over tables and sources. For `ibex status`.
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
            List<String> snapshots = repo.list("SELECT DISTINCT snapshot FROM ibex.sync_state WHERE sync = ? AND source = ?",
                    rs -> rs.getString(1), sync, source.name());
            if (snapshots.isEmpty()) {
                continue;
            }
            try (Connection c = pools.connection(source)) {
                long slowest = 0;
                for (String snapshot : snapshots) {
                    long n = 0;
                    for (Relation r : plan.tables()) {
                        if (r.hasKey()) {
                            n += count(c, r, snapshot);
                        }
                    }
                    slowest = Math.max(slowest, n);
                }
                total += slowest;
            } catch (SQLException e) {
                throw PgErrors.failed("Counting the backlog of sync \"" + sync + "\" on db \"" + source.name() + "\"", e);
            }
        }
        return total;
    }

    private static long count(Connection c, Relation r, String snapshot) throws SQLException {
        String delta = new CapturedTable(r.schema(), r.name(), r.keyColumns()).delta();
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM ("
                + TxidSnapshot.rowsNotSeenSql("txid", "ibex." + Identifiers.quote(delta)) + ") u")) {
            ps.setString(1, snapshot);
            ps.setString(2, snapshot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return 0; // not captured (yet): nothing pending that ibex could know of
            }
            throw e;
        }
    }
}
