package dev.ibex.replicate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
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
    /** The columns as the source's catalog has them, for comparing with a target's. */
    final List<Catalog.Column> shape;
    /** A plain table, not partitioned: COPY can read it directly. */
    private final boolean plain;

    private TableCopy(Relation relation, List<Catalog.Column> copied, List<String> keyTypes, boolean plain) {
        this.relation = relation;
        this.shape = copied;
        this.columns = copied.stream().map(Catalog.Column::name).toList();
        this.keyTypes = keyTypes;
        this.plain = plain;
    }

    /** Reads the tables' shapes from the source's catalog, all in one query. */
    static List<TableCopy> readAll(Connection source, String sourceName, List<Relation> tables) throws SQLException {
        Map<Catalog.Name, Catalog.Shape> shapes = new Catalog(source, sourceName).shapes(names(tables));
        List<TableCopy> out = new ArrayList<>();
        for (Relation r : tables) {
            Catalog.Shape shape = shapes.get(name(r));
            if (shape == null) {
                throw new IbexException(ExitCode.BAD_INPUT, "Table " + r.display() + " does not exist on source db \""
                        + sourceName + "\": create it there, or remove it from the relgroup");
            }
            List<Catalog.Column> columns = copied(shape);
            if (columns.isEmpty()) {
                throw new IbexException(ExitCode.BAD_INPUT, "Table " + r.display() + " on source db \"" + sourceName
                        + "\" has no column a COPY can write, so ibex cannot replicate it: remove it from the relgroup");
            }
            out.add(new TableCopy(r, columns, keyTypes(r, shape, sourceName), shape.plain()));
        }
        return out;
    }

    /** The key columns' types, a domain's as its base type: the keys are cast to them. */
    private static List<String> keyTypes(Relation r, Catalog.Shape shape, String sourceName) {
        List<String> types = new ArrayList<>();
        for (String k : r.keyColumns()) {
            types.add(shape.columns().stream().filter(c -> c.name().equals(k)).map(Catalog.Column::baseType).findFirst()
                    .orElseThrow(() -> new IbexException(ExitCode.BAD_INPUT, "Table " + r.display() + " on source db \""
                            + sourceName + "\" has no key column \"" + k + "\" (renamed or dropped since it was added): name it back, "
                            + "or take the table out ('ibex remove table " + r.display() + " --force') and add it again")));
        }
        return types;
    }

    /** The target's shapes of these tables, by display name; absent when the target lacks the table. */
    static Map<String, Catalog.Shape> shapes(Connection c, String dbName, List<Relation> tables) throws SQLException {
        Map<Catalog.Name, Catalog.Shape> shapes = new Catalog(c, dbName).shapes(names(tables));
        Map<String, Catalog.Shape> out = new HashMap<>();
        for (Relation r : tables) {
            Catalog.Shape shape = shapes.get(name(r));
            if (shape != null) {
                out.put(r.display(), shape);
            }
        }
        return out;
    }

    /** The columns a COPY can write: not generated, in attnum order. */
    static List<Catalog.Column> copied(Catalog.Shape shape) {
        return shape.columns().stream().filter(c -> !c.generated()).toList();
    }

    static List<Catalog.Name> names(Collection<Relation> tables) {
        return tables.stream().map(TableCopy::name).toList();
    }

    static Catalog.Name name(Relation r) {
        return new Catalog.Name(r.schema(), r.name());
    }

    /** A table's key in maps of tables read from the catalog: "schema\0name". */
    /** Column {@code k} of each key, bound as one text[]: unnest pairs the columns' arrays up again. */
    static Object[] column(List<String[]> keys, int k) {
        Object[] column = new Object[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            column[i] = keys.get(i)[k];
        }
        return column;
    }

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

    /**
     * DELETE of the rows whose keys are bound as one text array per key column. A key of several
     * columns pairs its arrays up by unnest in a select list (arrays of one length: every version;
     * unnest of several arrays in FROM is 9.4 on, and old servers are written to as well).
     */
    String deleteKeysSql() {
        StringBuilder sql = new StringBuilder("DELETE FROM ONLY ").append(relation.quoted()).append(" AS ").append(ALIAS)
                .append(" USING ");
        if (relation.keyColumns().size() == 1) {
            sql.append("unnest(?::text[]) AS ").append(KEYS_ALIAS).append("(k0)");
        } else {
            List<String> columns = new ArrayList<>();
            for (int k = 0; k < relation.keyColumns().size(); k++) {
                columns.add("unnest(?::text[]) AS k" + k);
            }
            sql.append("(SELECT ").append(String.join(", ", columns)).append(") AS ").append(KEYS_ALIAS);
        }
        return sql.append(" WHERE ").append(keyJoin()).toString();
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
                    + "::" + Catalog.withoutModifier(keyTypes.get(k)));
        }
        return String.join(" AND ", parts);
    }
}
