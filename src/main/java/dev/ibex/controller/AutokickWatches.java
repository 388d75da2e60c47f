package dev.ibex.controller;

import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link SourceWatch} per source with autokick tables of running syncs, and which syncs a
 * change on each table kicks. A watch is replaced when its db's connection settings change.
 */
final class AutokickWatches {

    /** Logged as the controller: a kick that concerns no sync is its decision. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    private static final String AUTOKICK_TABLES = """
            SELECT s.name, m.db, r.schemaname || '.' || r.tablename
              FROM ibex.sync s
              JOIN ibex.relgroup_member g ON g.relgroup = s.relgroup
              JOIN ibex.relation r ON r.id = g.relation
              JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup AND m.role = 'source'
             WHERE s.status = 'active' AND NOT s.paused AND coalesce(r.autokick, s.autokick)""";

    /** Kicks a sync (not urgently: a busy source must not defeat the back-off). */
    private final Consumer<String> kick;
    private final Map<String, SourceWatch> watches = new HashMap<>();
    private final Map<String, Db> watchedDbs = new HashMap<>();
    /** "db\0schema.table" -> syncs that autokick on it. */
    private volatile Map<String, List<String>> autokick = Map.of();

    AutokickWatches(Consumer<String> kick) {
        this.kick = kick;
    }

    /**
     * Matches the watches to the repository's autokick tables. Returns the syncs that autokick on a
     * table they did not before (a table added to them, the sync switched to another relgroup): a
     * change to it that the watch reported before this update kicked only the syncs it concerned
     * then, and with no later write nothing would run them, so the caller kicks them.
     */
    Set<String> update(Repository repo, ControllerSettings settings) {
        Map<String, List<String>> map = new HashMap<>();
        Map<String, Set<String>> tables = new LinkedHashMap<>();
        repo.list(AUTOKICK_TABLES, rs -> {
            map.computeIfAbsent(rs.getString(2) + "\0" + rs.getString(3), k -> new ArrayList<>()).add(rs.getString(1));
            tables.computeIfAbsent(rs.getString(2), k -> new HashSet<>()).add(rs.getString(3));
            return null;
        });
        Map<String, List<String>> before = autokick;
        autokick = map;
        stopChanged(repo, tables.keySet());
        tables.forEach((name, watched) -> watch(repo, name, watched, settings));
        Set<String> gained = new LinkedHashSet<>();
        map.forEach((table, syncs) -> syncs.stream()
                .filter(s -> !before.getOrDefault(table, List.of()).contains(s)).forEach(gained::add));
        return gained;
    }

    /** Stops the watches of dbs no longer watched, or whose connection settings changed. */
    private void stopChanged(Repository repo, Set<String> watched) {
        for (String name : List.copyOf(watches.keySet())) {
            Db now = repo.db(name).orElse(null);
            if (!watched.contains(name) || now == null || !now.equals(watchedDbs.get(name))) {
                watches.remove(name).stop();
                watchedDbs.remove(name);
            }
        }
    }

    private void watch(Repository repo, String name, Set<String> watched, ControllerSettings settings) {
        SourceWatch w = watches.get(name);
        if (w != null) {
            w.watch(watched, settings);
            return;
        }
        Db db = repo.db(name).orElseThrow();
        w = new SourceWatch(db, watched, settings, table -> changed(name, table), () -> kickReaders(name));
        watches.put(name, w);
        watchedDbs.put(name, db);
        w.start();
    }

    void stopAll() {
        watches.values().forEach(SourceWatch::stop);
    }

    private void changed(String db, String table) {
        List<String> syncs = autokick.get(db + "\0" + table);
        if (syncs == null) {
            log.debug("Change on {} in db {} concerns no running sync", table, db);
            return;
        }
        syncs.forEach(kick);
    }

    private void kickReaders(String db) {
        autokick.entrySet().stream().filter(e -> e.getKey().startsWith(db + "\0"))
                .flatMap(e -> e.getValue().stream()).distinct().forEach(kick);
    }
}
