package dev.ibex.cli;

import dev.ibex.IbexException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The words after a verb's noun, in Bucardo's grammar: names (nouns) and {@code key=value} or
 * {@code key:value} settings. A word with {@code =} is always a setting, so an unknown key is an
 * error; a word with {@code :} is a setting only when its key is known (so {@code db:role} words
 * stay names).
 */
final class Words {

    /** The keys one verb accepts, each with Bucardo's aliases: {@code "host|dbhost|pghost"}. */
    static final class Keys {
        private final Map<String, String> canonical = new LinkedHashMap<>();
        private final Set<String> names = new LinkedHashSet<>();

        static Keys of(String... specs) {
            return new Keys().plus(specs);
        }

        Keys plus(String... specs) {
            for (String spec : specs) {
                String[] aliases = spec.split("\\|");
                names.add(aliases[0]);
                for (String a : aliases) {
                    canonical.put(a, aliases[0]);
                }
            }
            return this;
        }

        String canonical(String key) {
            return canonical.get(key.toLowerCase(Locale.ROOT));
        }

        String list() {
            return String.join(", ", names);
        }
    }

    private final String command;
    private final List<String> nouns = new ArrayList<>();
    private final Map<String, String> values = new LinkedHashMap<>();

    private Words(String command) {
        this.command = command;
    }

    /** @param command the command for messages, e.g. "ibex add db" */
    static Words parse(String command, List<String> words, Keys keys) {
        Words w = new Words(command);
        for (String word : words) {
            int eq = word.indexOf('=');
            int colon = word.indexOf(':');
            int sep = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
            boolean looksLikeKey = sep > 0 && word.substring(0, sep).matches("[A-Za-z_]+");
            String key = looksLikeKey ? keys.canonical(word.substring(0, sep)) : null;
            if (looksLikeKey && key == null && sep == eq) {
                throw IbexException.badInput("Unknown option '" + word.substring(0, sep) + "' for '" + command
                        + "': use " + (keys.names.isEmpty() ? "no key=value words" : keys.list()));
            }
            if (key == null) {
                w.nouns.add(word);
                continue;
            }
            if (w.values.containsKey(key)) {
                throw IbexException.badInput("Option '" + key + "' given twice for '" + command + "': give it once");
            }
            w.values.put(key, word.substring(sep + 1));
        }
        return w;
    }

    List<String> nouns() {
        return nouns;
    }

    Set<String> keys() {
        return values.keySet();
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    /** The value, null when not given; an empty value is also null. */
    String get(String key) {
        String v = values.get(key);
        return v == null || v.isEmpty() ? null : v;
    }

    /** Refuses {@code key=} with nothing after it for these keys: an empty name is a mistake (an unset variable). */
    Words nonEmpty(String... keys) {
        for (String key : keys) {
            if (values.containsKey(key) && values.get(key).isBlank()) {
                throw IbexException.badInput("Missing value for " + key + "= in '" + command + "': give one ("
                        + key + "=" + example(key) + "), or leave " + key + "= out");
            }
        }
        return this;
    }

    private static String example(String key) {
        return switch (key) {
            case "db", "targetdb" -> "DB";
            case "relgroup", "source" -> "RELGROUP";
            case "dbs" -> "A:source,B:target";
            case "tables" -> "T1,T2";
            case "targetgroup" -> "DBGROUP";
            case "type" -> "pushdelta";
            default -> "true";
        };
    }

    Boolean bool(String key) {
        String v = get(key);
        return v == null ? null : bool(key, v);
    }

    Integer integer(String key, int min, int max) {
        String v = get(key);
        if (v == null) {
            return null;
        }
        try {
            int i = Integer.parseInt(v.trim());
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException e) {
            // falls through to the message
        }
        throw IbexException.badInput("Invalid " + key + "=" + v + " for '" + command + "': use a whole number from "
                + min + " to " + max);
    }

    /** One of the given words, lower-cased. */
    String choice(String key, String... allowed) {
        String v = get(key);
        if (v == null) {
            return null;
        }
        String l = v.trim().toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            if (a.equals(l)) {
                return l;
            }
        }
        throw IbexException.badInput("Invalid " + key + "=" + v + " for '" + command + "': use " + String.join(" or ", allowed));
    }

    /** t/true/on/yes/1 and f/false/off/no/0, as Bucardo reads them. */
    static boolean bool(String key, String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "t", "true", "on", "yes", "y", "1" -> true;
            case "f", "false", "off", "no", "n", "0" -> false;
            default -> throw IbexException.badInput("Invalid " + key + "=" + value
                    + ": use true or false (t/f, on/off, yes/no, 1/0)");
        };
    }

    /** Splits a list value on commas and spaces outside double quotes: a,"Line Items" b -> 3 items. */
    static List<String> list(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char c : value.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (!quoted && (c == ',' || Character.isWhitespace(c))) {
                if (!cur.isEmpty()) {
                    out.add(cur.toString());
                }
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur.toString());
        }
        return out;
    }
}
