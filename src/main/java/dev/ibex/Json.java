package dev.ibex;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Just enough JSON writing for the --json outputs: maps, lists, strings, numbers, booleans,
 * instants, null. Compact on one line, or pretty with two-space indents.
 */
public final class Json {

    private Json() {
    }

    /** On one line. */
    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, null);
        return b.toString();
    }

    /** Indented, one member per line. */
    public static String pretty(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, "");
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, String indent) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String s) {
            string(b, s);
        } else if (v instanceof Instant t) {
            string(b, t.toString());
        } else if (v instanceof Number || v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof Map<?, ?> m) {
            container(b, m.entrySet(), "{", "}", indent, (e, inner) -> {
                string(b, String.valueOf(e.getKey()));
                b.append(indent == null ? ":" : ": ");
                write(b, e.getValue(), inner);
            });
        } else if (v instanceof Collection<?> c) {
            container(b, c, "[", "]", indent, (o, inner) -> write(b, o, inner));
        } else {
            string(b, v.toString());
        }
    }

    /** An object or array: one item per line, indented, when {@code indent} is not null; else on one line. */
    private static <T> void container(StringBuilder b, Collection<T> items, String open, String close, String indent,
                                      BiConsumer<T, String> item) {
        if (items.isEmpty()) {
            b.append(open).append(close);
            return;
        }
        String inner = indent == null ? null : indent + "  ";
        b.append(open).append(indent == null ? "" : "\n");
        int i = 0;
        for (T t : items) {
            b.append(inner == null ? "" : inner);
            item.accept(t, inner);
            b.append(++i < items.size() ? "," : "").append(indent == null ? "" : "\n");
        }
        b.append(indent == null ? "" : indent).append(close);
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
