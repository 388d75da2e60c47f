package dev.ibex.replicate;

import dev.ibex.IbexException;
import dev.ibex.capture.CapturedTable;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One replicated table as the source has it: the columns to copy (not dropped, not generated, in
 * attnum order), the key columns and their types, and the SQL that moves its rows.
 */
final class TableCopy {

    private static final String ALIAS = "ibex_t";
    private static final String KEYS_ALIAS = "ibex_u";

    final Relation relation;
    final List<String> columns;
    final List<String> keyTypes;

    private TableCopy(Relation relation, List<String> columns, List<String> keyTypes) {
        this.relation = relation;
        this.columns = columns;
        this.keyTypes = keyTypes;
    }

    /** Reads the table's shape from the source's catalog. */
    static TableCopy read(Connection source, String sourceName, Relation r) throws SQLException {
        List<String> columns = columns(source, r.schema(), r.name());
        if (columns.isEmpty()) {
            throw new IbexException(IbexException.BAD_INPUT, "Table " + r.display() + " does not exist on source db \""
                    + sourceName + "\": create it there, or remove it from the relgroup");
        }
        List<String> types = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                            ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END
                FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = ? AND c.relname = ? AND a.attname = ? AND NOT a.attisdropped""")) {
            for (String k : r.keyColumns()) {
                ps.setString(1, r.schema());
                ps.setString(2, r.name());
                ps.setString(3, k);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IbexException(IbexException.BAD_INPUT, "Table " + r.display() + " on source db \""
                                + sourceName + "\" has no key column \"" + k + "\": update the relation's key columns");
                    }
                    types.add(rs.getString(1));
                }
            }
        }
        return new TableCopy(r, columns, types);
    }

    /** The columns a COPY can write: not dropped, not generated (attgenerated exists from 12 on). */
    static List<String> columns(Connection c, String schema, String table) throws SQLException {
        boolean generated = c.getMetaData().getDatabaseMajorVersion() >= 12;
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname FROM pg_catalog.pg_attribute a
                JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                """ + (generated ? " AND a.attgenerated = ''" : "") + " ORDER BY a.attnum")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    boolean hasKey() {
        return relation.hasKey();
    }

    String display() {
        return relation.display();
    }

    /** The changed keys, as text, of the delta rows not visible in S_prev (bind S_prev twice). */
    String changedKeysSql() {
        String keys = Identifiers.quoteList(relation.keyColumns());
        String delta = "ibex." + Identifiers.quote(new CapturedTable(relation.schema(), relation.name(),
                relation.keyColumns(), false).delta());
        // DISTINCT on the typed values: 1.0 and 1.00 are one numeric key, and must be copied once
        return "SELECT " + relation.keyColumns().stream().map(k -> Identifiers.quote(k) + "::text")
                .collect(Collectors.joining(", ")) + " FROM (SELECT DISTINCT " + keys + " FROM " + delta
                + " WHERE txid >= txid_snapshot_xmin(?::txid_snapshot) AND NOT txid_visible_in_snapshot(txid, ?::txid_snapshot)) d";
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

    /** COPY cannot bind parameters: the keys are inlined as quoted literals. */
    String copyOutKeysSql(List<String[]> keys) {
        StringBuilder sql = new StringBuilder("COPY (SELECT ").append(selectList()).append(" FROM unnest(");
        for (int k = 0; k < relation.keyColumns().size(); k++) {
            if (k > 0) {
                sql.append(", ");
            }
            sql.append("ARRAY[");
            for (int i = 0; i < keys.size(); i++) {
                if (i > 0) {
                    sql.append(',');
                }
                String v = keys.get(i)[k];
                sql.append(v == null ? "NULL" : Identifiers.literal(v));
            }
            sql.append("]::text[]");
        }
        sql.append(") AS ").append(KEYS_ALIAS).append('(').append(keyAliases()).append(") JOIN ONLY ")
                .append(relation.quoted()).append(" AS ").append(ALIAS).append(" ON ").append(keyJoin())
                .append(") TO STDOUT");
        return sql.toString();
    }

    String copyOutAllSql() {
        return "COPY (SELECT " + selectList() + " FROM ONLY " + relation.quoted() + " AS " + ALIAS + ") TO STDOUT";
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
