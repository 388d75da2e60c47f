package dev.ibex.replicate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One replicated table as the source has it: the columns to copy (not dropped, not generated, in
 * attnum order), the key columns and their types, and the SQL that moves its rows.
 */
final class TableCopy {

    static final String ALIAS = "ibex_t";
    private static final String KEYS_ALIAS = "ibex_u";

    final Relation relation;
    final List<String> columns;
    final List<String> keyTypes;
    /** A plain table, not partitioned: COPY can read it directly. */
    private final boolean plain;

    private TableCopy(Relation relation, List<String> columns, List<String> keyTypes, boolean plain) {
        this.relation = relation;
        this.columns = columns;
        this.keyTypes = keyTypes;
        this.plain = plain;
    }

    /** One column as the catalog has it; a domain's type is given as its base type. */
    private record Attribute(String name, String type, boolean generated, boolean plain) {
    }

    /**
     * Every table's attributes (not dropped, in attnum order), in one catalog query; %s says whether
     * generated. The (schema, table) pairs come as two arrays, zipped without unnest(a, b) (9.4).
     */
    private static final String ATTRIBUTES = """
            SELECT n.nspname, c.relname, a.attname,
                   CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                        ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END,
                   %s, c.relkind = 'r'
            FROM (SELECT a.s[a.i] AS schemaname, a.t[a.i] AS tablename
                  FROM (SELECT s, t, generate_series(1, array_upper(s, 1)) AS i
                        FROM (SELECT ?::text[] AS s, ?::text[] AS t) p) a) w
            JOIN pg_catalog.pg_namespace n ON n.nspname = w.schemaname
            JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.tablename AND c.relkind IN ('r', 'p')
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            ORDER BY 1, 2, a.attnum""";

    /** Reads the tables' shapes from the source's catalog, all in one query. */
    static List<TableCopy> readAll(Connection source, String sourceName, List<Relation> tables) throws SQLException {
        Map<String, List<Attribute>> all = attributes(source, tables);
        List<TableCopy> out = new ArrayList<>();
        for (Relation r : tables) {
            List<Attribute> attributes = all.getOrDefault(key(r), List.of());
            List<String> columns = attributes.stream().filter(a -> !a.generated()).map(Attribute::name).toList();
            if (columns.isEmpty()) {
                throw new IbexException(ExitCode.BAD_INPUT, "Table " + r.display() + " does not exist on source db \""
                        + sourceName + "\": create it there, or remove it from the relgroup");
            }
            List<String> types = new ArrayList<>();
            for (String k : r.keyColumns()) {
                String type = attributes.stream().filter(a -> a.name().equals(k)).map(Attribute::type).findFirst()
                        .orElseThrow(() -> new IbexException(ExitCode.BAD_INPUT, "Table " + r.display()
                                + " on source db \"" + sourceName + "\" has no key column \"" + k
                                + "\": update the relation's key columns"));
                types.add(type);
            }
            out.add(new TableCopy(r, columns, types, attributes.get(0).plain()));
        }
        return out;
    }

    /** The columns a COPY can write (not dropped, not generated, in attnum order) of each table, by display name. */
    static Map<String, List<String>> columns(Connection c, List<Relation> tables) throws SQLException {
        Map<String, List<Attribute>> all = attributes(c, tables);
        Map<String, List<String>> out = new HashMap<>();
        for (Relation r : tables) {
            out.put(r.display(), all.getOrDefault(key(r), List.of()).stream().filter(a -> !a.generated())
                    .map(Attribute::name).toList());
        }
        return out;
    }

    private static Map<String, List<Attribute>> attributes(Connection c, List<Relation> tables) throws SQLException {
        boolean generated = ServerVersion.of(c).has(SqlFeature.GENERATED_COLUMNS);
        Map<String, List<Attribute>> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(ATTRIBUTES.formatted(generated ? "a.attgenerated <> ''" : "false"))) {
            ps.setArray(1, c.createArrayOf("text", tables.stream().map(Relation::schema).toArray()));
            ps.setArray(2, c.createArrayOf("text", tables.stream().map(Relation::name).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(key(rs.getString(1), rs.getString(2)), k -> new ArrayList<>())
                            .add(new Attribute(rs.getString(3), rs.getString(4), rs.getBoolean(5), rs.getBoolean(6)));
                }
            }
        }
        return out;
    }

    /** A table's key in maps of tables read from the catalog: "schema\0name". */
    static String key(Relation r) {
        return key(r.schema(), r.name());
    }

    static String key(String schema, String name) {
        return schema + "\u0000" + name;
    }

    boolean plain() {
        return plain;
    }

    boolean hasKey() {
        return relation.hasKey();
    }

    String display() {
        return relation.display();
    }

    /** DELETE of the rows whose keys are bound as one text array per key column. */
    String deleteKeysSql() {
        StringBuilder sql = new StringBuilder("DELETE FROM ONLY ").append(relation.quoted()).append(" AS ").append(ALIAS)
                .append(" USING unnest(");
        sql.append(relation.keyColumns().stream().map(k -> "?::text[]").collect(Collectors.joining(", ")));
        sql.append(") AS ").append(KEYS_ALIAS).append('(').append(keyAliases()).append(") WHERE ").append(keyJoin());
        return sql.toString();
    }

    /** ONLY, as in the copy: an inheritance child is replicated as its own table, not with its parent. */
    String deleteAllSql() {
        return "DELETE FROM ONLY " + relation.quoted();
    }

    /**
     * COPY cannot bind parameters: the keys are inlined as quoted literals, as one array for a
     * one-column key, else as VALUES rows (unnest of several arrays is 9.4 on).
     */
    String copyOutKeysSql(List<String[]> keys) {
        int width = relation.keyColumns().size();
        StringBuilder sql = new StringBuilder("COPY (SELECT ").append(selectList()).append(" FROM ");
        if (width == 1) {
            sql.append("unnest(ARRAY[");
            for (int i = 0; i < keys.size(); i++) {
                sql.append(i > 0 ? "," : "").append(literal(keys.get(i)[0]));
            }
            sql.append("]::text[])");
        } else {
            sql.append("(VALUES ");
            for (int i = 0; i < keys.size(); i++) {
                sql.append(i > 0 ? ", (" : "(");
                for (int k = 0; k < width; k++) {
                    sql.append(k > 0 ? ", " : "").append(literal(keys.get(i)[k])).append("::text");
                }
                sql.append(')');
            }
            sql.append(')');
        }
        sql.append(" AS ").append(KEYS_ALIAS).append('(').append(keyAliases()).append(") JOIN ONLY ")
                .append(relation.quoted()).append(" AS ").append(ALIAS).append(" ON ").append(keyJoin())
                .append(") TO STDOUT");
        return sql.toString();
    }

    private static String literal(String v) {
        return v == null ? "NULL" : Identifiers.literal(v);
    }

    /**
     * A plain table is copied by name (COPY of a table reads only it, not its inheritance children),
     * which skips the executor's per-row work of the query form a partitioned table needs.
     */
    String copyOutAllSql() {
        if (plain) {
            return "COPY " + relation.quoted() + " (" + Identifiers.quoteList(columns) + ") TO STDOUT";
        }
        return "COPY (SELECT " + selectList() + " FROM ONLY " + relation.quoted() + " AS " + ALIAS + ") TO STDOUT";
    }

    /** One part of a table read in parts ({@link TableParts}): the rows matching {@code where}. */
    String copyOutPartSql(String where) {
        return "COPY (SELECT " + selectList() + " FROM ONLY " + relation.quoted() + " AS " + ALIAS + " WHERE " + where
                + ") TO STDOUT";
    }

    String copyInSql() {
        return "COPY " + relation.quoted() + " (" + Identifiers.quoteList(columns) + ") FROM STDIN";
    }

    private String selectList() {
        return columns.stream().map(c -> ALIAS + "." + Identifiers.quote(c)).collect(Collectors.joining(", "));
    }

    private String keyAliases() {
        List<String> a = new ArrayList<>();
        for (int k = 0; k < relation.keyColumns().size(); k++) {
            a.add("k" + k);
        }
        return String.join(", ", a);
    }

    private String keyJoin() {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < relation.keyColumns().size(); k++) {
            parts.add(ALIAS + "." + Identifiers.quote(relation.keyColumns().get(k)) + " = " + KEYS_ALIAS + ".k" + k
                    + "::" + keyTypes.get(k));
        }
        return String.join(" AND ", parts);
    }
}
