package dev.ibex.pg;

/** Reads SQL text as the server's lexer would, as far as feature checks need it. */
final class SqlText {

    private SqlText() {
    }

    /**
     * The text with comments, string literals and quoted identifiers blanked out (a table named
     * "lateral" uses no LATERAL); dollar-quoted bodies are kept, they are PL/pgSQL code.
     */
    static String code(String sql) {
        StringBuilder out = new StringBuilder(sql.length());
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
                out.append(' ');
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
                out.append(' ');
            } else if (c == '\'' || c == '"') {
                boolean backslashes = c == '\'' && i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e');
                i = skipQuoted(sql, i, c, backslashes);
                out.append(c == '"' ? " x " : " '' ");
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** Block comments nest in PostgreSQL: the end of an inner comment does not end the outer one. */
    private static int skipBlockComment(String sql, int start) {
        int depth = 0;
        int i = start;
        while (i < sql.length()) {
            if (sql.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                i += 2;
                if (--depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return i;
    }

    private static int skipQuoted(String sql, int start, char quote, boolean backslashes) {
        int i = start + 1;
        while (i < sql.length()) {
            char c = sql.charAt(i);
            if (backslashes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return i;
    }
}
