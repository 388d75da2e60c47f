package dev.ibex.replicate;

import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The start of a run on the repository, in one round trip: take the sync's lock, then read every
 * S_prev of the sync and a fingerprint of the rows its plan is made of (the sync, its dbgroup's
 * members and their dbs, its relgroup's members and their relations), then insert the run row.
 * The statements run one after the other, each with a snapshot of its own, so the reads see every
 * run that ended before the lock was granted. A row that changed has a new xmin, and one added or
 * removed changes the list, so an equal fingerprint means the plan of an earlier run still holds.
 */
record RunStart(Long runId, String planFingerprint, Map<String, Map<String, String>> snapshots,
                Map<String, Map<String, Set<String>>> tables) {

    private static final String START = """
            SELECT pg_advisory_lock(?, hashtext(?));
            SELECT md5(concat_ws('|', s.xmin::text,
                       (SELECT string_agg(m.db || ':' || m.xmin::text || ':' || d.xmin::text, ',' ORDER BY m.db)
                        FROM ibex.dbgroup_member m JOIN ibex.db d ON d.name = m.db WHERE m.dbgroup = s.dbgroup),
                       (SELECT string_agg(r.id || ':' || m.xmin::text || ':' || r.xmin::text, ',' ORDER BY r.id)
                        FROM ibex.relgroup_member m JOIN ibex.relation r ON r.id = m.relation
                        WHERE m.relgroup = s.relgroup))),
                   st.source, st.target, st.snapshot, st.tables
            FROM ibex.sync s LEFT JOIN ibex.sync_state st ON st.sync = s.name
            WHERE s.name = ?;
            """ + RunLog.START;

    /**
     * Locks the sync ({@code pg_advisory_lock(lockClass, hashtext(sync))}, held by the session
     * until unlocked), reads, and inserts the run row, uncommitted; an unknown sync has no run id
     * and a null fingerprint.
     */
    static RunStart lockAndStart(Repository repo, String sync, int lockClass) {
        try (PreparedStatement ps = repo.connection().prepareStatement(START)) {
            ps.setInt(1, lockClass);
            ps.setString(2, sync);
            ps.setString(3, sync);
            ps.setString(4, sync);
            ps.execute();
            ps.getMoreResults();
            String fingerprint = null;
            Map<String, Map<String, String>> snapshots = new HashMap<>();
            Map<String, Map<String, Set<String>>> tables = new HashMap<>();
            try (ResultSet rs = ps.getResultSet()) {
                while (rs.next()) {
                    fingerprint = rs.getString(1);
                    if (rs.getString(2) != null) {
                        snapshots.computeIfAbsent(rs.getString(2), k -> new HashMap<>())
                                .put(rs.getString(3), rs.getString(4));
                        if (rs.getArray(5) != null) {
                            tables.computeIfAbsent(rs.getString(2), k -> new HashMap<>())
                                    .put(rs.getString(3), new HashSet<>(Arrays.asList((String[]) rs.getArray(5).getArray())));
                        }
                    }
                }
            }
            ps.getMoreResults();
            try (ResultSet rs = ps.getResultSet()) {
                return new RunStart(rs.next() ? rs.getLong(1) : null, fingerprint, snapshots, tables);
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Starting a run of sync \"" + sync + "\" in the repository", e);
        }
    }

    /**
     * The tables the S_prev of each target fed from {@code source} covers (absent: every table of
     * the plan; see 005_sync_state_tables.sql).
     */
    Map<String, Set<String>> tables(String source) {
        return tables.getOrDefault(source, Map.of());
    }

    /** S_prev of each target fed from {@code source}. */
    Map<String, String> snapshots(String source) {
        return snapshots.getOrDefault(source, Map.of());
    }
}
