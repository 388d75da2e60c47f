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
 * each db ends with, by the sync's {@link ConflictStrategy}. The winner's row goes to every other
 * db as any change does; the losers do not send theirs (their keys are "lost"). With skip no one
 * sends, with abort the run applies nothing.
 */
final class Conflicts {

    /** Logged as the runner: conflicts are part of a run. */
    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);

    /** How many keys an abort names. */
    private static final int NAMED = 10;

    /** One source's change of a key: the source's place in the dbgroup and the change's time. */
    private record Change(Db db, int order, Instant at) {
    }

    /** A settled conflict: the winner, or null when nobody won (skip, abort). */
    record Settled(Relation table, List<String> key, Db winner, List<Db> losers) {
    }

    private final Map<String, Map<Integer, Set<List<String>>>> lostBy = new HashMap<>();
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
    static Conflicts settle(SyncPlan plan, Map<Db, Map<Relation, Map<List<String>, Instant>>> changed) {
        Conflicts c = new Conflicts(plan.conflictStrategy());
        List<Db> order = plan.sources();
        Map<Relation, Map<List<String>, List<Change>>> byKey = new LinkedHashMap<>();
        Map<Db, Instant> latestOf = new HashMap<>();
        changed.forEach((db, tables) -> tables.forEach((r, keys) -> keys.forEach((k, at) -> {
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

    private void settle(Relation r, List<String> key, List<Change> changes, Map<Db, Instant> latestOf) {
        Change winner = winner(r, key, changes, latestOf);
        List<Db> losers = new ArrayList<>();
        for (Change ch : changes) {
            if (winner == null || ch != winner) {
                losers.add(ch.db());
                lostBy.computeIfAbsent(ch.db().name(), x -> new HashMap<>())
                        .computeIfAbsent(r.id(), x -> new HashSet<>()).add(key);
            }
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
                + ": nothing was applied; settle the rows by hand so the sources agree, or choose another "
                + "strategy ('ibex update sync SYNC conflict_strategy=latest')";
    }

    /** Each conflict, with table, key, winner and losers. */
    void log() {
        for (Settled c : settled) {
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
