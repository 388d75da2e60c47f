package dev.ibex.pg;

import dev.ibex.IbexException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A user's word for a table: {@code t}, {@code crm.t}, {@code "Line Items"}, {@code crm.*},
 * {@code order%}. Quoted parts are exact; unquoted parts may hold {@code *} or {@code %}.
 *
 * @param schema the schema part, null when unqualified
 */
public record NamePattern(String term, Part schema, Part name) {

    /** One dot-separated part of a name, as typed. */
    public record Part(String text, boolean quoted) {
        public boolean wild() {
            return !quoted && (text.contains("*") || text.contains("%"));
        }

        /** A LIKE pattern (escape character backslash). */
        String like(boolean fold) {
            String t = fold && !quoted ? text.toLowerCase(Locale.ROOT) : text;
            String escaped = t.replace("\\", "\\\\").replace("_", "\\_");
            return quoted ? escaped.replace("%", "\\%") : escaped.replace('*', '%');
        }

        boolean matches(String value) {
            if (!wild()) {
                return quoted ? text.equals(value) : text.equals(value) || text.toLowerCase(Locale.ROOT).equals(value);
            }
            StringBuilder re = new StringBuilder();
            for (char c : text.toCharArray()) {
                re.append(c == '*' || c == '%' ? ".*" : Pattern.quote(String.valueOf(c)));
            }
            return Pattern.matches(re.toString(), value);
        }
    }

    public static NamePattern parse(String term) {
        List<Part> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean inQuotes = false;
        String t = term.trim();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (inQuotes) {
                if (c == '"' && i + 1 < t.length() && t.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    inQuotes = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                inQuotes = true;
                quoted = true;
            } else if (c == '.') {
                parts.add(new Part(cur.toString(), quoted));
                cur.setLength(0);
                quoted = false;
            } else {
                cur.append(c);
            }
        }
        parts.add(new Part(cur.toString(), quoted));
        if (inQuotes || parts.size() > 2 || parts.stream().anyMatch(p -> p.text().isEmpty())) {
            throw IbexException.badInput("Invalid table name " + term + ": use name, schema.name or "
                    + "\"Quoted Name\" (quote mixed case and spaces, e.g. '\"Line Items\"')");
        }
        return parts.size() == 1 ? new NamePattern(term, null, parts.get(0))
                : new NamePattern(term, parts.get(0), parts.get(1));
    }

    public boolean wild() {
        return name.wild() || (schema != null && schema.wild());
    }

    /** Whether a (schema, name) from the repository matches; unqualified matches any schema. */
    public boolean matches(String schemaName, String relName) {
        return (schema == null || schema.matches(schemaName)) && name.matches(relName);
    }
}
