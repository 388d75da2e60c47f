package dev.ibex.migrate;

import dev.ibex.pg.Catalog;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SessionSettings;
import dev.ibex.repository.Relation;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The statements that hash, list and copy one table's rows in key order, built from the source's
 * columns so both ends hash the same expression. Text-like keys sort by their UTF-8 bytes (C order;
 * COLLATE is 9.1 on), floats hash in binary (float8send) and bytea as hex, so different collations
 * or versions on the two ends do not make equal rows look different. Every statement here runs
 * from PostgreSQL 8.4 on: no string_agg (9.0), no unnest of several arrays (9.4).
 */
final class TableSql {

    /**
     * Run on every connection that reads rows, so that row text means the same on both ends; bytea
     * is hashed as encode(hex) and floats in binary, so the old servers' output forms do not matter.
     */
    static List<String> settings(ServerVersion v) {
        return List.of(SessionSettings.forVersion(v), "SET search_path = pg_catalog", "SET DateStyle = 'ISO, YMD'");
    }

    private final Relation relation;
    private final List<Catalog.Column> columns;
    private final List<Catalog.Column> keys;

    TableSql(Relation relation, List<Catalog.Column> sourceColumns) {
        this.relation = relation;
        this.columns = sourceColumns;
        List<Catalog.Column> k = new ArrayList<>();
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
        return keys.stream().map(Catalog.Column::name).toList();
    }

    private String table() {
        return "ONLY " + relation.quoted();
    }

    private static String value(Catalog.Column c) {
        String q = Identifiers.quote(c.name());
        if (c.floating()) {
            return "pg_catalog." + (c.type().equals("real") ? "float4send" : "float8send") + "(" + q + ")";
        }
        return c.type().equals("bytea") ? "pg_catalog.encode(" + q + ", 'hex')" : q;
    }

    private static String sortable(Catalog.Column c) {
        return c.collatable() ? "pg_catalog.convert_to(" + Identifiers.quote(c.name()) + "::text, 'UTF8')"
                : Identifiers.quote(c.name());
    }

    private String rowText() {
        return "ROW(" + columns.stream().map(TableSql::value).collect(Collectors.joining(", ")) + ")::text";
    }

    private String keyOrder() {
        return keyed() ? keys.stream().map(TableSql::sortable).collect(Collectors.joining(", "))
                : "pg_catalog.convert_to(" + rowText() + ", 'UTF8')";
    }

    /** Count and md5 of the rows of one range, in key order; binds the range's bounds. */
    String hash(KeyRange range) {
        return "SELECT count(*), coalesce(pg_catalog.md5(pg_catalog.array_to_string(pg_catalog.array_agg(r), E'\\n')), '') "
                + "FROM (SELECT " + rowText() + " AS r FROM " + table() + where(range) + " ORDER BY " + keyOrder() + ") s";
    }

    /** Every rangeRows-th value of the first key column, in key order: the upper bounds of the ranges. */
    String boundaries() {
        Catalog.Column first = keys.get(0);
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
        Catalog.Column first = keys.get(0);
        List<String> parts = new ArrayList<>();
        String cast = "CAST(? AS " + first.type() + ")";
        String bound = first.collatable() ? "pg_catalog.convert_to(" + cast + "::text, 'UTF8')" : cast;
        if (range.low() != null) {
            parts.add(sortable(first) + " > " + bound);
        }
        if (range.high() != null) {
            parts.add(sortable(first) + " <= " + bound);
        }
        return " WHERE " + String.join(" AND ", parts);
    }

    /**
     * Keys as parallel text arrays, one per key column, cast back to the columns' types, zipped by
     * subscript (unnest of several arrays is 9.4 on).
     */
    private String keySet(List<String> arrays) {
        List<String> casts = new ArrayList<>();
        List<String> named = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            casts.add("CAST(a" + i + "[i] AS " + keys.get(i).type() + ")");
            named.add(arrays.get(i) + " AS a" + i);
        }
        List<String> carried = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            carried.add("a" + i);
        }
        return "(" + keys.stream().map(c -> Identifiers.quote(c.name())).collect(Collectors.joining(", ")) + ") IN (SELECT "
                + String.join(", ", casts) + " FROM (SELECT " + String.join(", ", carried)
                + ", generate_series(1, array_upper(a0, 1)) AS i FROM (SELECT " + String.join(", ", named)
                + ") p) u)";
    }

    /** DELETE of the keys bound as one text[] per key column. */
    String deleteKeys() {
        List<String> params = new ArrayList<>();
        keys.forEach(k -> params.add("CAST(? AS text[])"));
        return "DELETE FROM " + table() + " WHERE " + keySet(params);
    }

    private List<Catalog.Column> writable() {
        return columns.stream().filter(c -> !c.generated()).toList();
    }

    /** COPY of the current source rows of these keys (COPY takes no parameters: the keys are literals). */
    String copyOut(List<List<String>> keyValues) {
        List<String> arrays = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            final int col = i;
            arrays.add(Identifiers.literal(arrayLiteral(keyValues.stream().map(k -> k.get(col)).toList())) + "::text[]");
        }
        return "COPY (SELECT " + Identifiers.quoteList(writable().stream().map(Catalog.Column::name).toList())
                + " FROM " + table() + " WHERE " + keySet(arrays) + ") TO STDOUT";
    }

    String copyIn() {
        return "COPY " + relation.quoted() + " (" + Identifiers.quoteList(writable().stream()
                .map(Catalog.Column::name).toList()) + ") FROM STDIN";
    }

    /** A text[] literal: every element double-quoted with backslash escapes. */
    static String arrayLiteral(List<String> values) {
        return values.stream().map(v -> "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                .collect(Collectors.joining(",", "{", "}"));
    }
}
