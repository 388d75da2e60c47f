package dev.ibex.controller;

import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the delta rows every consumer has applied. A delta row whose txid is below
 * txid_snapshot_xmin of a consumer's S_prev was visible to that consumer's last batch (or aborted),
 * so once it is below the smallest such xmin over every (sync, target) reading the source, no batch
 * can need it again. Inactive syncs keep their S_prev and so hold the purge back, as they should.
 */
final class DeltaPurge {

    private static final Logger log = LoggerFactory.getLogger(DeltaPurge.class);

    private static final String HORIZONS = """
            SELECT source, min(txid_snapshot_xmin(snapshot::txid_snapshot))
              FROM ibex.sync_state GROUP BY source ORDER BY source""";

    private DeltaPurge() {
    }

    /** Purges every source that has consumers; returns the rows deleted. Commits nothing on the repository. */
    static long purge(Repository repo) {
        record Horizon(String source, long xmin) {
        }
        List<Horizon> horizons = repo.list(HORIZONS, rs -> new Horizon(rs.getString(1), rs.getLong(2)));
        long deleted = 0;
        for (Horizon h : horizons) {
            Db db = repo.db(h.source()).orElse(null);
            if (db == null || !db.active()) {
                continue;
            }
            try (Connection c = db.spec().connect("ibex purge")) {
                long n = purge(c, h.xmin());
                if (n > 0) {
                    log.info("Purged {} applied delta row(s) on db {}", n, db.name());
                }
                deleted += n;
            } catch (SQLException | RuntimeException e) {
                log.warn("Could not purge delta rows on db {}: {}", db.name(), Kid.describe(e));
            }
        }
        repo.rollback();
        return deleted;
    }

    /** Deletes from every delta table (and the truncate log) of one source the rows below {@code xmin}. */
    static long purge(Connection c, long xmin) throws SQLException {
        c.setAutoCommit(true);
        List<String> tables = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT to_regclass('ibex.captured') IS NOT NULL, "
                     + "to_regclass('ibex.truncate_log') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return 0;
            }
            if (rs.getBoolean(2)) {
                tables.add("truncate_log");
            }
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT delta FROM ibex.captured ORDER BY delta")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        long deleted = 0;
        for (String t : tables) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + Identifiers.qualified("ibex", t)
                    + " WHERE txid < ?")) {
                ps.setLong(1, xmin);
                deleted += ps.executeUpdate();
            }
        }
        return deleted;
    }
}
