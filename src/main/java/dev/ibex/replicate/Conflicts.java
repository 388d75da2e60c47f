package dev.ibex.replicate;

import dev.ibex.repository.ConflictStrategy;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.SyncPlan;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys that several sources of a sync changed since their last runs, and which source's row
 * each db ends with, by the sync's {@link ConflictStrategy}. The winner sends its row to every
 * other db, whatever that db's S_prev has seen (its keys are "won"); the losers do not send theirs
 * (their keys are "lost"), so each key reaches each db from one source per run. With skip no one
 * sends, with abort the run applies nothing. A table truncated on a source is copied whole from
 * it, and the others' changes to it lose.
 */
final class Conflicts {

    /** Logged as the runner: conflicts are part of a run. */
    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);

    /** How many keys an abort names. */
    private static final int NAMED = 10;
    /** How many conflicts a run logs one by one. */
    private static final int LOGGED = 100;

    /** One source's change of a key: the source's place in the dbgroup and the change's time. */
    private record Change(Db db, int order, Instant at) {
    }

    /** A settled conflict: the winner, or null when nobody won (skip, abort). */
    record Settled(Relation table, List<String> key, Db winner, List<Db> losers) {
    }

    private final Map<String, Map<Integer, Set<List<String>>>> lostBy = new HashMap<>();
    /** Per source, the keys it won: it sends their rows to every db. */
    private final Map<String, Map<Relation, List<String[]>>> wonBy = new HashMap<>();
    /** Per source, the truncates it lost ("schema\0table"): another source's copy of the table wins. */
    private final Map<String, Set<String>> truncatesLostBy = new HashMap<>();
    private final List<Settled> settled = new ArrayList<>();
    private final ConflictStrategy strategy;

    private Conflicts(ConflictStrategy strategy) {
        this.strategy = strategy;
    }

    /**
     * Finds and settles the conflicts among the sources' changed keys.
     *
     * @param changed per source (in the dbgroup's order), its changed keys and their latest times
     */
    static Conflicts settle(SyncPlan plan, Map<Db, Changes.Latest> changed) {
        Conflicts c = new Conflicts(plan.conflictStrategy());
        List<Db> order = plan.sources();
        Map<String, Db> truncatedBy = c.truncates(order, changed);
        Map<Relation, Map<List<String>, List<Change>>> byKey = new LinkedHashMap<>();
        Map<Db, Instant> latestOf = new HashMap<>();
        changed.forEach((db, latest) -> latest.keys().forEach((r, keys) -> keys.forEach((k, at) -> {
            Db truncator = truncatedBy.get(TableCopy.key(r));
            if (truncator != null && !truncator.equals(db)) {
                // the table is copied whole from the source that truncated it: that copy wins
                c.lose(db, r, k);
                c.settled.add(new Settled(r, k, truncator, List.of(db)));
                return;
            }
            byKey.computeIfAbsent(r, x -> new HashMap<>()).computeIfAbsent(k, x -> new ArrayList<>())
                    .add(new Change(db, order.indexOf(db), at));
            latestOf.merge(db, at, (a, b) -> a.isAfter(b) ? a : b);
        })));
        byKey.forEach((r, keys) -> keys.forEach((k, changes) -> {
            if (changes.size() > 1) {
                c.settle(r, k, changes, latestOf);
            }
        }));
        return c;
    }

    /**
     * The table truncated on a source is copied whole from it to every other db, over whatever the
     * others changed in it; when several sources truncated it, the first in the dbgroup's order
     * does, and the others' truncates are lost. Returns the winner per table.
     */
    private Map<String, Db> truncates(List<Db> order, Map<Db, Changes.Latest> changed) {
        Map<String, Db> winner = new HashMap<>();
        for (Db db : order) {
            Changes.Latest latest = changed.get(db);
            if (latest == null) {
                continue;
            }
            for (String table : latest.truncated()) {
                if (winner.putIfAbsent(table, db) != null) {
                    truncatesLostBy.computeIfAbsent(db.name(), x -> new HashSet<>()).add(table);
                    LOG.info("Conflict on table {}: truncated on db \"{}\" and on db \"{}\"; the first one's copy "
                            + "wins", table.replace('\u0000', '.'), winner.get(table).name(), db.name());
                }
            }
        }
        return winner;
    }

    private void lose(Db db, Relation r, List<String> key) {
        lostBy.computeIfAbsent(db.name(), x -> new HashMap<>()).computeIfAbsent(r.id(), x -> new HashSet<>()).add(key);
    }

    private void settle(Relation r, List<String> key, List<Change> changes, Map<Db, Instant> latestOf) {
        Change winner = winner(r, key, changes, latestOf);
        List<Db> losers = new ArrayList<>();
        for (Change ch : changes) {
            if (winner == null || ch != winner) {
                losers.add(ch.db());
                lose(ch.db(), r, key);
            }
        }
        if (winner != null) {
            wonBy.computeIfAbsent(winner.db().name(), x -> new LinkedHashMap<>()).computeIfAbsent(r, x -> new ArrayList<>())
                    .add(key.toArray(new String[0]));
        }
        settled.add(new Settled(r, key, winner == null ? null : winner.db(), losers));
    }

    private Change winner(Relation r, List<String> key, List<Change> changes, Map<Db, Instant> latestOf) {
        Comparator<Change> byName = Comparator.comparing(ch -> ch.db().name());
        return switch (strategy.kind()) {
            case SOURCE -> changes.stream().min(Comparator.comparingInt(Change::order)).orElseThrow();
            case TARGET -> changes.stream().max(Comparator.comparingInt(Change::order)).orElseThrow();
            case SKIP, ABORT -> null;
            case RANDOM -> {
                List<Change> sorted = changes.stream().sorted(byName).toList();
                yield sorted.get((int) (hash(r, key) % sorted.size()));
            }
            case LATEST -> latest(changes, Change::at);
            case LATEST_ALL_TABLES -> latest(changes, ch -> latestOf.get(ch.db()));
            case PRIORITY -> changes.stream().min(Comparator.comparingInt((Change ch) -> {
                int i = strategy.dbs().indexOf(ch.db().name());
                return i < 0 ? Integer.MAX_VALUE : i;
            }).thenComparing(byName)).orElseThrow();
        };
    }

    /** The latest by {@code time}; a tie goes to the first db name. */
    private static Change latest(List<Change> changes, java.util.function.Function<Change, Instant> time) {
        return changes.stream().min(Comparator.comparing(time, Comparator.reverseOrder())
                .thenComparing(ch -> ch.db().name())).orElseThrow();
    }

    /** The same for a key on every run and every controller. */
    private static long hash(Relation r, List<String> key) {
        CRC32 crc = new CRC32();
        crc.update((r.schema() + "." + r.name() + "\u0000" + String.join("\u0000", key.stream()
                .map(String::valueOf).toList())).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return crc.getValue();
    }

    /** The keys {@code source} lost, by relation id: it does not send them. */
    Map<Integer, Set<List<String>>> lostBy(Db source) {
        return lostBy.getOrDefault(source.name(), Map.of());
    }

    /** The keys {@code source} won: it sends their rows to every db, whatever that db's S_prev saw. */
    Map<Relation, List<String[]>> wonBy(Db source) {
        return wonBy.getOrDefault(source.name(), Map.of());
    }

    /** The truncated tables whose copy {@code source} does not send: another source's wins. */
    Set<String> truncatesLostBy(Db source) {
        return truncatesLostBy.getOrDefault(source.name(), Set.of());
    }

    int count() {
        return settled.size();
    }

    /** With abort and conflicts: why the run applies nothing, naming the keys; else null. */
    String abort() {
        if (strategy.kind() != ConflictStrategy.Kind.ABORT || settled.isEmpty()) {
            return null;
        }
        List<String> named = settled.stream().limit(NAMED).map(c -> c.table().display() + " (" + String.join(", ",
                c.key().stream().map(String::valueOf).toList()) + ") on " + String.join(", ",
                c.losers().stream().map(Db::name).toList())).toList();
        return settled.size() + " conflict" + (settled.size() == 1 ? "" : "s") + " and conflict_strategy abort: "
                + String.join("; ", named) + (settled.size() > NAMED ? "; …" : "")
                + ": nothing was applied, and the next runs find the same changes: choose the strategy that "
                + "settles them ('ibex update sync SYNC conflict_strategy=latest', or source, or db names in "
                + "order), let one run go through, then set abort again";
    }

    /** Each conflict, with table, key, winner and losers; past {@link #LOGGED}, a count. */
    void log() {
        if (settled.size() > LOGGED) {
            LOG.info("{} conflicts ({}); the first {}:", settled.size(), strategy.display(), LOGGED);
        }
        for (Settled c : settled.subList(0, Math.min(LOGGED, settled.size()))) {
            String key = String.join(", ", c.key().stream().map(String::valueOf).toList());
            String losers = String.join(", ", c.losers().stream().map(d -> "\"" + d.name() + "\"").toList());
            if (c.winner() == null) {
                LOG.info("Conflict on {} key ({}): changed on {}; {}: no db's row was sent", c.table().display(), key,
                        losers, strategy.display());
            } else {
                LOG.info("Conflict on {} key ({}): db \"{}\" wins over {} ({})", c.table().display(), key,
                        c.winner().name(), losers, strategy.display());
            }
        }
    }
}
