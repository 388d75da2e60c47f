package dev.ibex.replicate;

import dev.ibex.repository.Repository;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run reads from the repository once it holds the sync's lock, in one query: every S_prev
 * of the sync by source and target, and a fingerprint of the rows its plan is made of (the sync,
 * its dbgroup's members and their dbs, its relgroup's members and their relations). A row that
 * changed has a new xmin, and one added or removed changes the list, so an equal fingerprint means
 * the plan of an earlier run still holds.
 */
record RunStart(String planFingerprint, Map<String, Map<String, String>> snapshots) {

    private static final String READ = """
            SELECT md5(concat_ws('|', s.xmin::text,
                       (SELECT string_agg(m.db || ':' || m.xmin::text || ':' || d.xmin::text, ',' ORDER BY m.db)
                        FROM ibex.dbgroup_member m JOIN ibex.db d ON d.name = m.db WHERE m.dbgroup = s.dbgroup),
                       (SELECT string_agg(r.id || ':' || m.xmin::text || ':' || r.xmin::text, ',' ORDER BY r.id)
                        FROM ibex.relgroup_member m JOIN ibex.relation r ON r.id = m.relation
                        WHERE m.relgroup = s.relgroup))),
                   st.source, st.target, st.snapshot
            FROM ibex.sync s LEFT JOIN ibex.sync_state st ON st.sync = s.name
            WHERE s.name = ?""";

    /** The run's start; an unknown sync has a null fingerprint. */
    static RunStart read(Repository repo, String sync) {
        List<String[]> rows = repo.list(READ, rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3),
            rs.getString(4)}, sync);
        Map<String, Map<String, String>> snapshots = new HashMap<>();
        for (String[] row : rows) {
            if (row[1] != null) {
                snapshots.computeIfAbsent(row[1], k -> new HashMap<>()).put(row[2], row[3]);
            }
        }
        return new RunStart(rows.isEmpty() ? null : rows.get(0)[0], snapshots);
    }

    /** S_prev of each target fed from {@code source}. */
    Map<String, String> snapshots(String source) {
        return snapshots.getOrDefault(source, Map.of());
    }
}
