package dev.ibex;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;

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
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            String inner = indent == null ? null : indent + "  ";
            b.append(indent == null ? "{" : "{\n");
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(inner == null ? "" : inner);
                string(b, String.valueOf(e.getKey()));
                b.append(indent == null ? ":" : ": ");
                write(b, e.getValue(), inner);
                b.append(++i < m.size() ? "," : "").append(indent == null ? "" : "\n");
            }
            b.append(indent == null ? "" : indent).append('}');
        } else if (v instanceof Collection<?> c) {
            if (c.isEmpty()) {
                b.append("[]");
                return;
            }
            String inner = indent == null ? null : indent + "  ";
            b.append(indent == null ? "[" : "[\n");
            int i = 0;
            for (Object o : c) {
                b.append(inner == null ? "" : inner);
                write(b, o, inner);
                b.append(++i < c.size() ? "," : "").append(indent == null ? "" : "\n");
            }
            b.append(indent == null ? "" : indent).append(']');
        } else {
            string(b, v.toString());
        }
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
