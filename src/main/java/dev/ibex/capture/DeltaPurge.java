package dev.ibex.capture;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * Deletes the logged changes every consumer has applied: ibex.log and ibex.truncate_log rows
 * below txid_snapshot_xmin of every (sync, target) S_prev that reads from the source, and the rows
 * of each table's own delta table below that of the syncs that read the table. A sync without a
 * snapshot yet holds everything. For the controller's periodic job.
 */
public final class DeltaPurge {

    private DeltaPurge() {
    }

    /** Per table read from {@code source}, the S_prev of every consumer (NULL: a consumer without one). */
    static final String CONSUMERS = """
            SELECT r.schemaname, r.tablename, st.snapshot
            FROM ibex.sync s
            JOIN ibex.dbgroup_member src ON src.dbgroup = s.dbgroup AND src.role = 'source' AND src.db = ?
            JOIN ibex.relgroup_member rm ON rm.relgroup = s.relgroup
            JOIN ibex.relation r ON r.id = rm.relation AND r.reltype = 'table' AND r.keycols <> '{}'
            LEFT JOIN ibex.sync_state st ON st.sync = s.name AND st.source = src.db""";

    /** @return the number of rows deleted */
    public static long purge(Repository repo, DbPools pools, Db source) {
        // "schema\0table" -> the lowest horizon of the syncs reading it
        Map<String, Long> horizons = new HashMap<>();
        long everyone = Long.MAX_VALUE;
        for (Object[] row : repo.list(CONSUMERS, rs -> new Object[] {rs.getString(1) + "\u0000" + rs.getString(2),
            rs.getString(3)}, source.name())) {
            long xmin = row[1] == null ? 0 : TxidSnapshot.parse((String) row[1]).xmin();
            horizons.merge((String) row[0], xmin, Math::min);
            everyone = Math.min(everyone, xmin);
        }
        if (horizons.isEmpty()) {
            return 0;
        }
        long deleted = 0;
        try (Connection c = pools.connection(source)) {
            deleted += delete(c, "ibex.log", everyone);
            deleted += delete(c, "ibex.truncate_log", everyone);
            for (Map.Entry<String, String> d : ownDeltas(c).entrySet()) {
                deleted += delete(c, "ibex." + Identifiers.quote(d.getValue()), horizons.getOrDefault(d.getKey(), 0L));
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Purging applied changes on db \"" + source.name() + "\"", e);
        }
        return deleted;
    }

    /** "schema\0table" -> its own delta table, for the tables whose keys do not go to ibex.log. */
    private static Map<String, String> ownDeltas(Connection c) throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(ChangeLog.OWN_DELTAS)) {
            while (rs.next()) {
                out.put(rs.getString(1) + "\u0000" + rs.getString(2), rs.getString(3));
            }
        } catch (SQLException e) {
            if (SqlState.UNDEFINED_TABLE.is(e)) {
                return out; // not captured yet
            }
            throw e;
        }
        return out;
    }

    private static long delete(Connection c, String table, long below) throws SQLException {
        if (below <= 0) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE txid < ?")) {
            ps.setLong(1, below);
            return ps.executeUpdate();
        } catch (SQLException e) {
            if (SqlState.UNDEFINED_TABLE.is(e)) {
                return 0; // not captured yet
            }
            throw e;
        }
    }
}
