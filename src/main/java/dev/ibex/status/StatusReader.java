package dev.ibex.status;

import dev.ibex.pg.DbPools;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.RunState;
import dev.ibex.repository.Sync;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reads the status of syncs from the repository alone: it works whether a controller runs or not. */
public final class StatusReader {

    private static final String MEMBERS = """
            SELECT m.dbgroup, m.db, m.role FROM ibex.dbgroup_member m
             ORDER BY m.dbgroup, m.priority DESC, m.db""";
    private static final String TABLES = """
            SELECT relgroup, count(*) FROM ibex.relgroup_member GROUP BY relgroup""";
    private static final String SUPPRESSION = """
            SELECT sync, target, suppression FROM ibex.sync_state
             WHERE suppression IS NOT NULL ORDER BY sync, target, updated""";

    private final Repository repo;
    private final DbPools pools;

    /** @param pools  to count each sync's backlog on its sources; null leaves backlogs unknown */
    public StatusReader(Repository repo, DbPools pools) {
        this.repo = repo;
        this.pools = pools;
    }

    public List<SyncStatus> read(List<Sync> syncs) {
        List<String> names = syncs.stream().map(Sync::name).toList();
        Instant now = repo.one("SELECT now()", rs -> instant(rs, 1)).orElseThrow();
        Map<String, Map<RunState, RunLog.Entry>> runs = new RunLog(repo).latest(names);
        Map<String, List<String>> sources = new HashMap<>();
        Map<String, List<String>> targets = new HashMap<>();
        repo.list(MEMBERS, rs -> ("source".equals(rs.getString(3)) ? sources : targets)
                .computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2)));
        Map<String, Integer> tables = new HashMap<>();
        repo.list(TABLES, rs -> tables.put(rs.getString(1), rs.getInt(2)));
        Map<String, Map<String, String>> suppression = new HashMap<>();
        repo.list(SUPPRESSION, rs -> suppression.computeIfAbsent(rs.getString(1), k -> new TreeMap<>())
                .put(rs.getString(2), rs.getString(3)));
        repo.commit();
        List<SyncStatus> out = new ArrayList<>();
        for (Sync s : syncs) {
            Map<RunState, RunLog.Entry> r = runs.getOrDefault(s.name(), Map.of());
            out.add(new SyncStatus(s.name(), s.status(), s.paused(), s.relgroup(), s.dbgroup(),
                    sources.getOrDefault(s.dbgroup(), List.of()), targets.getOrDefault(s.dbgroup(), List.of()),
                    tables.getOrDefault(s.relgroup(), 0), s.checktime(), s.stayalive(), s.kidsalive(), s.autokick(),
                    s.onetimecopy(), r.get(RunState.RUNNING), r.get(RunState.GOOD), r.get(RunState.BAD),
                    Backlogs.of(repo, pools, s),
                    suppression.getOrDefault(s.name(), new LinkedHashMap<>()), now));
        }
        return out;
    }

    static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
