package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.repository.ConflictStrategy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The settings of a sync that `add sync` and `update sync` share, as repository columns. */
final class SyncOptions {

    static final String[] KEYS = {
        "autokick|ping", "checktime", "onetimecopy", "status|stat", "stayalive", "kidsalive",
        "conflict_strategy|standard_conflict|conflict", "lifetime", "maxkicks", "isolation_level|txnmode",
        "rebuild_index|rebuildindex", "analyze_after_copy", "strict_checking", "priority"};

    private SyncOptions() {
    }

    /** The columns the words set, in the order given. */
    static Map<String, Object> columns(Session s, Words w) {
        Map<String, Object> c = new LinkedHashMap<>();
        for (String key : w.keys()) {
            switch (key) {
                case "autokick", "stayalive", "kidsalive", "analyze_after_copy", "strict_checking" ->
                        c.put(key, w.get(key) == null ? null : w.bool(key));
                case "rebuild_index" -> c.put(key, w.get(key) == null ? null : w.bool(key) ? 1 : 0);
                case "checktime", "lifetime" -> c.put(key, s.interval(key, w.get(key)) == null ? null : w.get(key));
                case "onetimecopy" -> c.put(key, w.integer(key, 0, 2));
                case "maxkicks" -> c.put(key, w.integer(key, 0, Integer.MAX_VALUE));
                case "priority" -> c.put(key, w.integer(key, -1_000_000, 1_000_000));
                case "status" -> c.put(key, w.choice(key, "active", "inactive"));
                case "conflict_strategy" -> c.put(key, conflict(s, w.get(key)));
                case "isolation_level" -> c.put(key, isolation(w.get(key)));
                default -> {
                    // other keys belong to the caller (relgroup, dbs, ...)
                }
            }
            if (c.containsKey(key) && c.get(key) == null && !key.equals("checktime") && !key.equals("lifetime")
                    && !key.equals("isolation_level")) {
                throw IbexException.badInput("Missing value for " + key + "=: give a value, e.g. " + key + "="
                        + example(key));
            }
        }
        return c;
    }

    private static String example(String key) {
        return switch (key) {
            case "onetimecopy" -> "1";
            case "status" -> "active";
            case "conflict_strategy" -> "latest";
            case "maxkicks", "priority" -> "0";
            default -> "true";
        };
    }

    /** Bucardo's strategies (bucardo_ prefix optional; default = latest), or db names in priority order. */
    static String conflict(Session s, String value) {
        if (value == null) {
            return null;
        }
        ConflictStrategy.Kind kind = ConflictStrategy.word(value);
        if (kind != null) {
            return kind.stored();
        }
        List<String> dbs = Words.list(value);
        for (String db : dbs) {
            if (s.repo.db(db).isEmpty()) {
                throw IbexException.badInput("Invalid conflict_strategy=" + value + ": use " + ConflictStrategy.WORDS
                        + ", or db names in order of preference");
            }
        }
        return String.join(" ", dbs);
    }

    static String isolation(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim().toLowerCase(Locale.ROOT).replace('_', ' ');
        if (v.equals("serializable") || v.equals("repeatable read")) {
            return v;
        }
        throw IbexException.badInput("Invalid isolation_level=" + value + ": use serializable or repeatable_read");
    }
}
