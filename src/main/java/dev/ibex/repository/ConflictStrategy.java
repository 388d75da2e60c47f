package dev.ibex.repository;

import java.util.List;
import java.util.Locale;

/**
 * How a sync with several sources settles a conflict: the same key changed on two or more sources
 * between two runs. Stored in ibex.sync.conflict_strategy as Bucardo spells it
 * ({@code bucardo_latest}), or as db names in order of preference separated by spaces.
 *
 * @param dbs the preference order of {@link Kind#PRIORITY}; empty otherwise
 */
public record ConflictStrategy(Kind kind, List<String> dbs) {

    public enum Kind {
        /** The first source in the dbgroup's order wins. */
        SOURCE,
        /** The last source in the dbgroup's order wins ("the other side" of two). */
        TARGET,
        /** Nobody wins: each db keeps its row, and the conflict is reported. */
        SKIP,
        /** A source picked by a hash of the table and key: the same on every run and controller. */
        RANDOM,
        /** The source whose change of the row is latest (its ibex.log ts); ties go by db name. */
        LATEST,
        /** The source whose latest change in the run, over all tables, is latest wins every conflict. */
        LATEST_ALL_TABLES,
        /** The run fails, names the keys, and applies nothing. */
        ABORT,
        /** The first of {@link #dbs} that changed the key wins. */
        PRIORITY;

        /** Bucardo's word: bucardo_latest. */
        public String stored() {
            return "bucardo_" + name().toLowerCase(Locale.ROOT);
        }

        /** ibex's short word: latest. */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final ConflictStrategy DEFAULT = new ConflictStrategy(Kind.LATEST, List.of());

    /** The words a user may give, besides db names (also with Bucardo's bucardo_ prefix). */
    public static final String WORDS = "source, target, skip, random, latest, latest_all_tables or abort";

    /** A word as a user or Bucardo spells it: latest, bucardo_latest, default; null when it is none. */
    public static Kind word(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        String bare = v.startsWith("bucardo_") ? v.substring("bucardo_".length()) : v;
        if (bare.equals("default")) {
            return Kind.LATEST;
        }
        for (Kind k : Kind.values()) {
            if (k != Kind.PRIORITY && k.word().equals(bare)) {
                return k;
            }
        }
        return null;
    }

    /** The strategy as ibex.sync stores it. */
    public static ConflictStrategy of(String stored) {
        if (stored == null || stored.isBlank()) {
            return DEFAULT;
        }
        Kind k = word(stored);
        return k != null ? new ConflictStrategy(k, List.of())
                : new ConflictStrategy(Kind.PRIORITY, List.of(stored.trim().split("\\s+")));
    }

    /** As shown to users: latest, or the db names in order. */
    public String display() {
        return kind == Kind.PRIORITY ? String.join(" ", dbs) : kind.word();
    }
}
