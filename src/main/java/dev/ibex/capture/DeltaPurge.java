package dev.ibex.capture;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * Deletes the delta and truncate rows every consumer has applied: those below txid_snapshot_xmin of
 * every (sync, target) S_prev that reads them. A table read by a sync without a snapshot yet is
 * left alone. For the controller's periodic job.
 */
public final class DeltaPurge {

    private DeltaPurge() {
    }

    /** Per table read from {@code source}, the S_prev of every consumer (NULL: a consumer without one). */
    static final String CONSUMERS = """
            SELECT r.schemaname, r.tablename, r.keycols, st.snapshot
            FROM ibex.sync s
            JOIN ibex.dbgroup_member src ON src.dbgroup = s.dbgroup AND src.role = 'source' AND src.db = ?
            JOIN ibex.relgroup_member rm ON rm.relgroup = s.relgroup
            JOIN ibex.relation r ON r.id = rm.relation AND r.reltype = 'table' AND r.keycols <> '{}'
            LEFT JOIN ibex.sync_state st ON st.sync = s.name AND st.source = src.db""";

    /** @return the number of rows deleted */
    public static long purge(Repository repo, DbPools pools, Db source) {
        // keyed by the delta table: two relations naming one table share it, and the lower bound wins
        Map<String, Long> horizons = new HashMap<>();
        long everyone = Long.MAX_VALUE;
        for (Object[] row : repo.list(CONSUMERS, rs -> new Object[] {
            new CapturedTable(rs.getString(1), rs.getString(2), java.util.List.of((String[]) rs.getArray(3).getArray())),
            rs.getString(4)}, source.name())) {
            CapturedTable t = (CapturedTable) row[0];
            long xmin = row[1] == null ? 0 : TxidSnapshot.parse((String) row[1]).xmin();
            horizons.merge(t.delta(), xmin, Math::min);
            everyone = Math.min(everyone, xmin);
        }
        if (horizons.isEmpty()) {
            return 0;
        }
        long deleted = 0;
        try (Connection c = pools.connection(source)) {
            for (Map.Entry<String, Long> h : horizons.entrySet()) {
                deleted += delete(c, "ibex." + Identifiers.quote(h.getKey()), h.getValue());
            }
            deleted += delete(c, "ibex.truncate_log", everyone);
        } catch (SQLException e) {
            throw PgErrors.failed("Purging applied changes on db \"" + source.name() + "\"", e);
        }
        return deleted;
    }

    private static long delete(Connection c, String table, long below) throws SQLException {
        if (below <= 0) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE txid < ?")) {
            ps.setLong(1, below);
            return ps.executeUpdate();
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return 0; // not captured yet
            }
            throw e;
        }
    }
}
