package dev.ibex.migrate;

import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Relation;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The statements that hash, list and copy one table's rows in key order, built from the source's
 * columns so both ends hash the same expression. Text-like keys sort with COLLATE "C" and floats
 * hash in binary (float8send), so different collations or versions on the two ends do not make
 * equal rows look different.
 */
final class TableSql {

    /** Run on every connection that reads rows, so that row text means the same on both ends. */
    static final List<String> SETTINGS = List.of("SET search_path = pg_catalog", "SET TimeZone = 'UTC'",
            "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'", "SET extra_float_digits = 3",
            "SET bytea_output = 'hex'");

    private final Relation relation;
    private final List<TableColumns.Column> columns;
    private final List<TableColumns.Column> keys;

    TableSql(Relation relation, List<TableColumns.Column> sourceColumns) {
        this.relation = relation;
        this.columns = sourceColumns;
        List<TableColumns.Column> k = new ArrayList<>();
        for (String name : relation.keyColumns()) {
            k.add(sourceColumns.stream().filter(c -> c.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("key column " + name + " of " + relation.display()
                            + " is not a column of the table")));
        }
        this.keys = k;
    }

    boolean keyed() {
        return !keys.isEmpty();
    }

    List<String> keyNames() {
        return keys.stream().map(TableColumns.Column::name).toList();
    }

    private String table() {
        return "ONLY " + relation.quoted();
    }

    private static String value(TableColumns.Column c) {
        String q = Identifiers.quote(c.name());
        if (c.floating()) {
            return "pg_catalog." + (c.type().equals("real") ? "float4send" : "float8send") + "(" + q + ")";
        }
        return q;
    }

    private static String sortable(TableColumns.Column c) {
        return Identifiers.quote(c.name()) + (c.collatable() ? " COLLATE \"C\"" : "");
    }

    private String rowText() {
        return "ROW(" + columns.stream().map(TableSql::value).collect(Collectors.joining(", ")) + ")::text";
    }

    private String keyOrder() {
        return keyed() ? keys.stream().map(TableSql::sortable).collect(Collectors.joining(", "))
                : rowText() + " COLLATE \"C\"";
    }

    /** Count and md5 of the rows of one range, in key order; binds the range's bounds. */
    String hash(KeyRange range) {
        return "SELECT count(*), coalesce(pg_catalog.md5(pg_catalog.string_agg(" + rowText() + ", E'\\n' ORDER BY "
                + keyOrder() + ")), '') FROM " + table() + where(range);
    }

    /** Every rangeRows-th value of the first key column, in key order: the upper bounds of the ranges. */
    String boundaries() {
        TableColumns.Column first = keys.get(0);
        return "SELECT b FROM (SELECT " + Identifiers.quote(first.name()) + "::text AS b, row_number() OVER (ORDER BY "
                + sortable(first) + ") AS n FROM " + table() + ") s WHERE n % ? = 0 ORDER BY n";
    }

    /** Each row's key columns as text and the md5 of its row text. */
    String rows(KeyRange range) {
        return "SELECT " + keys.stream().map(c -> Identifiers.quote(c.name()) + "::text").collect(Collectors.joining(", "))
                + ", pg_catalog.md5(" + rowText() + ") FROM " + table() + where(range) + " ORDER BY " + keyOrder();
    }

    private String where(KeyRange range) {
        if (range == null || range.whole()) {
            return "";
        }
        TableColumns.Column first = keys.get(0);
        List<String> parts = new ArrayList<>();
        String cast = "CAST(? AS " + first.type() + ")";
        if (range.low() != null) {
            parts.add(sortable(first) + " > " + cast);
        }
        if (range.high() != null) {
            parts.add(sortable(first) + " <= " + cast);
        }
        return " WHERE " + String.join(" AND ", parts);
    }

    /**
     * Keys as parallel text arrays, one per key column, cast back to the columns' types. unnest of
     * several arrays exists only unqualified in FROM; search_path is pg_catalog on our sessions.
     */
    private String keySet(List<String> arrays) {
        List<String> names = new ArrayList<>();
        List<String> casts = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            names.add("k" + i);
            casts.add("CAST(k" + i + " AS " + keys.get(i).type() + ")");
        }
        return "(" + keys.stream().map(c -> Identifiers.quote(c.name())).collect(Collectors.joining(", ")) + ") IN (SELECT "
                + String.join(", ", casts) + " FROM unnest(" + String.join(", ", arrays) + ") AS u("
                + String.join(", ", names) + "))";
    }

    /** DELETE of the keys bound as one text[] per key column. */
    String deleteKeys() {
        List<String> params = new ArrayList<>();
        keys.forEach(k -> params.add("CAST(? AS text[])"));
        return "DELETE FROM " + table() + " WHERE " + keySet(params);
    }

    private List<TableColumns.Column> writable() {
        return columns.stream().filter(c -> !c.generated()).toList();
    }

    /** COPY of the current source rows of these keys (COPY takes no parameters: the keys are literals). */
    String copyOut(List<List<String>> keyValues) {
        List<String> arrays = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            final int col = i;
            arrays.add(Identifiers.literal(arrayLiteral(keyValues.stream().map(k -> k.get(col)).toList())) + "::text[]");
        }
        return "COPY (SELECT " + Identifiers.quoteList(writable().stream().map(TableColumns.Column::name).toList())
                + " FROM " + table() + " WHERE " + keySet(arrays) + ") TO STDOUT";
    }

    String copyIn() {
        return "COPY " + relation.quoted() + " (" + Identifiers.quoteList(writable().stream()
                .map(TableColumns.Column::name).toList()) + ") FROM STDIN";
    }

    /** A text[] literal: every element double-quoted with backslash escapes. */
    static String arrayLiteral(List<String> values) {
        return values.stream().map(v -> "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                .collect(Collectors.joining(",", "{", "}"));
    }
}
