package dev.ibex.pg;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Catalog lookups on a user's database: which tables and sequences a name or wildcard means, their
 * key columns and their columns. Never sees the ibex schema or the system catalogs. Works from
 * PostgreSQL 8.4 on.
 */
public final class Catalog {

    /** A table ('r') or sequence ('S') found in the catalog. */
    public record Rel(long oid, String schema, String name, String kind) {
        public boolean isSequence() {
            return "S".equals(kind);
        }

        public String display() {
            return schema + "." + name;
        }
    }

    /**
     * One column as the catalog describes it.
     *
     * @param type       format_type(), e.g. "character varying(20)"
     * @param collatable text-like (type category S): ordered by UTF-8 bytes so both ends agree
     * @param floating   float4/float8: hashed in binary, since their text differs across versions
     * @param generated  a generated column (PG 12+): never written by COPY
     */
    public record Column(String name, String type, boolean notNull, boolean hasDefault, boolean collatable,
                         boolean floating, boolean generated, String baseType) {
    }

    /**
     * A table found by name: its columns and whether it is a plain table (not a partitioned parent).
     *
     * @param baseType in each column: a domain's base type, else the column's type
     */
    public record Shape(boolean plain, List<Column> columns) {
    }

    /**
     * A key column: its base type as format_type writes it (a domain's base type, so that capture
     * does not hold the domain) and whether its text reads back as the same value whatever the
     * session's settings (not dates and times: DateStyle, IntervalStyle, TimeZone; not floats:
     * extra_float_digits; not money: lc_monetary).
     */
    public record KeyColumn(String name, String baseType, boolean textSafe) {
    }

    private static final List<Map.Entry<Pattern, String>> MODIFIED = List.of(
            Map.entry(Pattern.compile("character varying\\(\\d+\\)"), "character varying"),
            Map.entry(Pattern.compile("character\\(\\d+\\)"), "bpchar"),
            Map.entry(Pattern.compile("bit varying\\(\\d+\\)"), "bit varying"),
            Map.entry(Pattern.compile("bit\\(\\d+\\)"), "\"bit\""),
            Map.entry(Pattern.compile("numeric\\(\\d+(,\\d+)?\\)"), "numeric"),
            Map.entry(Pattern.compile("timestamp\\(\\d\\) without time zone"), "timestamp without time zone"),
            Map.entry(Pattern.compile("timestamp\\(\\d\\) with time zone"), "timestamp with time zone"),
            Map.entry(Pattern.compile("time\\(\\d\\) without time zone"), "time without time zone"),
            Map.entry(Pattern.compile("time\\(\\d\\) with time zone"), "time with time zone"),
            Map.entry(Pattern.compile("interval( .*|\\(\\d\\))"), "interval"));

    /**
     * A key type as format_type writes it, without its length or precision: what a key's text is
     * cast to. A column widened in place (varchar(3) to varchar(10), numeric(5,2) to (10,4)) keeps
     * its keys exact, where a cast to the type recorded before would cut them ("abcdefghij" to
     * "abc") and delete and copy the wrong rows; the same for a time's precision. bpchar and "bit"
     * are the names without a length limit ("character" and "bit" mean a length of 1).
     */
    public static String withoutModifier(String formatType) {
        for (Map.Entry<Pattern, String> m : MODIFIED) {
            if (m.getKey().matcher(formatType).matches()) {
                return m.getValue();
            }
        }
        return formatType;
    }

    /** A schema-qualified name, as a relation is recorded. */
    public record Name(String schema, String name) {
    }

    /** Key columns and their format_type(); empty when the table has no usable key. */
    public record Key(List<String> columns, List<String> types) {
        public boolean isEmpty() {
            return columns.isEmpty();
        }
    }

    public static final String TABLE = "r";
    public static final String SEQUENCE = "S";
    /** A partitioned table's parent (10+): holds no rows itself. */
    public static final String PARTITIONED = "p";
    public static final String MATERIALIZED_VIEW = "m";

    private final Connection connection;
    private final String label;

    /** @param label the db's name, for messages */
    public Catalog(Connection connection, String label) {
        this.connection = connection;
        this.label = label;
    }

    // ---- lookups ------------------------------------------------------------------------------------

    private static final String USER_RELATIONS = """
            SELECT c.oid, n.nspname, c.relname, c.relkind::text, pg_table_is_visible(c.oid) AS visible
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind::text = ?
              AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'ibex')
            """;

    /**
     * The tables (kind {@link #TABLE}) or sequences ({@link #SEQUENCE}) a word means. Unqualified
     * words mean the relations visible on the search_path or in schema public; a name without
     * wildcards means at most one relation (the visible one first). Unquoted words match as typed,
     * else folded to lower case as PostgreSQL folds them.
     */
    public List<Rel> find(NamePattern pattern, String kind) {
        List<Rel> found = find(pattern, kind, false);
        if (found.isEmpty()) {
            found = find(pattern, kind, true);
        }
        if (!pattern.wild() && found.size() > 1) {
            return found.subList(0, 1);
        }
        return found;
    }

    private List<Rel> find(NamePattern pattern, String kind, boolean fold) {
        StringBuilder sql = new StringBuilder(USER_RELATIONS).append(" AND c.relname LIKE ?");
        List<Object> params = new ArrayList<>(List.of(kind, pattern.name().like(fold)));
        if (pattern.schema() != null) {
            sql.append(" AND n.nspname LIKE ?");
            params.add(pattern.schema().like(fold));
        } else {
            sql.append(" AND (pg_table_is_visible(c.oid) OR n.nspname = 'public')");
        }
        sql.append(" ORDER BY pg_table_is_visible(c.oid) DESC, n.nspname, c.relname");
        return rels(sql.toString(), params.toArray());
    }

    /** Every table or sequence of the database (outside ibex and the system schemas). */
    public List<Rel> all(String kind) {
        return rels(USER_RELATIONS + " ORDER BY n.nspname, c.relname", kind);
    }

    /** The relation with exactly this schema and name, or null. */
    public Rel exact(String schema, String name, String kind) {
        List<Rel> r = rels(USER_RELATIONS + " AND n.nspname = ? AND c.relname = ?", kind, schema, name);
        return r.isEmpty() ? null : r.get(0);
    }

    private List<Rel> rels(String sql, Object... params) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<Rel> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Rel(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw PgErrors.failed("Reading the catalog of db \"" + label + "\"", e);
        }
    }

    // ---- keys and columns ---------------------------------------------------------------------------

    /*
     * Candidate keys: the primary key and every valid unique index without predicate or expression,
     * best first. indnkeyatts (11+) leaves out INCLUDE columns; before 11 there is only indnatts.
     * generate_series in the select list, not LATERAL (9.3).
     */
    private static final String KEYS = """
            SELECT i.indexrelid, i.indisprimary, i.n, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   i.indrelid
            FROM (SELECT indexrelid, indrelid, indisprimary, indkey, %1$s AS nkey, generate_series(0, %1$s - 1) AS n
                  FROM pg_index
                  WHERE indrelid = ANY (?::oid[]) AND indisunique AND indisvalid AND indpred IS NULL
                    AND indexprs IS NULL) i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[i.n]
            ORDER BY i.indrelid, i.indisprimary DESC, i.nkey, i.indexrelid DESC, i.n
            """;

    /**
     * The primary key; else the narrowest unique index without predicate or expression whose
     * columns are all NOT NULL (a NULL key could not find its row), the newest on a tie; else none.
     */
    public Key key(Rel table) {
        return keys(List.of(table)).get(table.oid());
    }

    /** {@link #key} of each table, by oid, in one query. */
    public Map<Long, Key> keys(Collection<Rel> tables) {
        String nkey = ServerVersion.of(connection, label).has(SqlFeature.INDNKEYATTS) ? "indnkeyatts" : "indnatts";
        Map<Long, Key> out = new HashMap<>();
        tables.forEach(t -> out.put(t.oid(), new Key(List.of(), List.of())));
        try (PreparedStatement ps = connection.prepareStatement(String.format(KEYS, nkey))) {
            ps.setString(1, oids(tables));
            long current = -1;
            List<String> cols = new ArrayList<>();
            List<String> types = new ArrayList<>();
            boolean usable = false;
            long table = -1;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long index = rs.getLong(1);
                    if (index != current) {
                        // the first usable index of each table is its key
                        if (usable && out.get(table).isEmpty()) {
                            out.put(table, new Key(cols, types));
                        }
                        current = index;
                        table = rs.getLong(7);
                        cols = new ArrayList<>();
                        types = new ArrayList<>();
                        usable = true;
                    }
                    cols.add(rs.getString(4));
                    types.add(rs.getString(5));
                    usable &= rs.getBoolean(6);
                }
            }
            if (usable && out.get(table).isEmpty()) {
                out.put(table, new Key(cols, types));
            }
            return out;
        } catch (SQLException e) {
            throw PgErrors.failed("Reading the keys of " + names(tables) + " in db \"" + label + "\"", e);
        }
    }

    /*
     * The columns of tables, in table order, without dropped or system columns; %s says whether
     * generated (attgenerated is 12+). typcategory is 8.4+; a domain has its base type's category.
     */
    private static final String COLUMN_LIST = """
            a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
                   t.typcategory = 'S', a.atttypid IN ('pg_catalog.float4'::pg_catalog.regtype,
                   'pg_catalog.float8'::pg_catalog.regtype), %s,
                   CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                        ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END""";

    private static final String COLUMNS = """
            SELECT a.attrelid, %s
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = ANY (?::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attrelid, a.attnum""".formatted(COLUMN_LIST);

    /*
     * Tables (plain or partitioned) and their columns by schema and name, found by index as a COPY
     * finds them. The names come as two arrays, zipped without unnest(a, b) (9.4).
     */
    private static final String SHAPES = """
            SELECT n.nspname, c.relname, c.relkind = 'r', a.attnum IS NOT NULL, %s
            FROM (SELECT a.s[a.i] AS schemaname, a.t[a.i] AS tablename
                  FROM (SELECT s, t, generate_series(1, array_upper(s, 1)) AS i
                        FROM (SELECT ?::text[] AS s, ?::text[] AS t) p) a) w
            JOIN pg_catalog.pg_namespace n ON n.nspname = w.schemaname
            JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.tablename AND c.relkind IN ('r', 'p')
            LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            ORDER BY 1, 2, a.attnum""".formatted(COLUMN_LIST);

    /**
     * Per table, its oid and every pg_attribute row (dropped ones too) by attnum and the row
     * version's xmin: adding, dropping, renaming or retyping a column, making a generated one plain,
     * or dropping and recreating the table, each writes a row version the fingerprint did not have.
     * The tables are found by schema and name, as the COPYs will find them, by index.
     */
    private static final String FINGERPRINTS = """
            SELECT n.nspname, c.relname, c.oid::text || ':' || coalesce(md5(array_to_string(array(
                     SELECT a.attnum || '.' || a.xmin::text FROM pg_catalog.pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 ORDER BY a.attnum), ',')), '')
            FROM (SELECT a.s[a.i] AS schemaname, a.t[a.i] AS tablename
                  FROM (SELECT s, t, generate_series(1, array_upper(s, 1)) AS i
                        FROM (SELECT ?::text[] AS s, ?::text[] AS t) p) a) w
            JOIN pg_catalog.pg_namespace n ON n.nspname = w.schemaname
            JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.tablename""";

    /** The columns in table order, without dropped or system columns. */
    public List<Column> columns(Rel table) {
        return columns(List.of(table)).get(table.oid());
    }

    /** The columns of the table with exactly this schema and name; empty when there is none. */
    public Optional<List<Column>> columns(String schema, String name) {
        Name table = new Name(schema, name);
        try {
            return Optional.ofNullable(shapes(List.of(table)).get(table)).map(Shape::columns);
        } catch (SQLException e) {
            throw PgErrors.failed("Reading the catalog of db \"" + label + "\"", e);
        }
    }

    /** {@link #columns(Rel)} of each table, by oid, in one query. */
    public Map<Long, List<Column>> columns(Collection<Rel> tables) {
        String generated = generatedSql();
        Map<Long, List<Column>> out = new HashMap<>();
        tables.forEach(t -> out.put(t.oid(), new ArrayList<>()));
        try (PreparedStatement ps = connection.prepareStatement(String.format(COLUMNS, generated))) {
            ps.setString(1, oids(tables));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.get(rs.getLong(1)).add(column(rs, 2));
                }
            }
            return out;
        } catch (SQLException e) {
            throw PgErrors.failed("Reading the columns of " + names(tables) + " in db \"" + label + "\"", e);
        }
    }

    /**
     * The shapes of the tables with exactly these names that exist (plain or partitioned), in one
     * query on this connection (a run's snapshot transaction reads them in its snapshot).
     */
    public Map<Name, Shape> shapes(Collection<Name> tables) throws SQLException {
        Map<Name, Shape> out = new HashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(String.format(SHAPES, generatedSql()))) {
            bindNames(ps, tables);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Name name = new Name(rs.getString(1), rs.getString(2));
                    Shape shape = out.get(name);
                    if (shape == null) {
                        shape = new Shape(rs.getBoolean(3), new ArrayList<>());
                        out.put(name, shape);
                    }
                    if (rs.getBoolean(4)) {
                        shape.columns().add(column(rs, 5));
                    }
                }
            }
        }
        return out;
    }

    /** A fingerprint of each existing table's columns (see FINGERPRINTS), by name. */
    public Map<Name, String> fingerprints(Collection<Name> tables) throws SQLException {
        Map<Name, String> out = new HashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(FINGERPRINTS)) {
            bindNames(ps, tables);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(new Name(rs.getString(1), rs.getString(2)), rs.getString(3));
                }
            }
        }
        return out;
    }

    /** Each name once: a name given twice would repeat its table's rows. */
    private void bindNames(PreparedStatement ps, Collection<Name> tables) throws SQLException {
        List<Name> names = List.copyOf(new LinkedHashSet<>(tables));
        ps.setArray(1, connection.createArrayOf("text", names.stream().map(Name::schema).toArray()));
        ps.setArray(2, connection.createArrayOf("text", names.stream().map(Name::name).toArray()));
    }

    private String generatedSql() {
        return ServerVersion.of(connection, label).has(SqlFeature.GENERATED_COLUMNS) ? "a.attgenerated <> ''" : "false";
    }

    private static Column column(ResultSet rs, int first) throws SQLException {
        int i = first;
        return new Column(rs.getString(i), rs.getString(i + 1), rs.getBoolean(i + 2), rs.getBoolean(i + 3),
                rs.getBoolean(i + 4), rs.getBoolean(i + 5), rs.getBoolean(i + 6), rs.getString(i + 7));
    }

    /*
     * bool, bytea, "char", name, int8, int2, int4, text, oid, cidr, inet, macaddr, bpchar, varchar,
     * bit, varbit, numeric, uuid; and every enum.
     */
    private static final String KEY_COLUMNS = """
            SELECT a.attname, pg_catalog.format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid),
                                                     CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END),
                   b.oid IN (16, 17, 18, 19, 20, 21, 23, 25, 26, 650, 869, 829, 1042, 1043, 1560, 1562, 1700, 2950)
                   OR b.typtype = 'e'
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            JOIN pg_catalog.pg_type b ON b.oid = coalesce(nullif(t.typbasetype, 0), a.atttypid)
            WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY (?)""";

    /** The named columns of the table {@code oid} that exist, in attnum order. */
    public List<KeyColumn> keyColumns(long oid, List<String> names) throws SQLException {
        List<KeyColumn> out = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(KEY_COLUMNS)) {
            ps.setLong(1, oid);
            ps.setArray(2, connection.createArrayOf("text", names.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new KeyColumn(rs.getString(1), rs.getString(2), rs.getBoolean(3)));
                }
            }
        }
        return out;
    }

    /** An oid[] literal, bound as text: 8.4 has no other way to pass an array of oids. */
    private static String oids(Collection<Rel> tables) {
        return tables.stream().map(t -> Long.toString(t.oid())).collect(Collectors.joining(",", "{", "}"));
    }

    private static String names(Collection<Rel> tables) {
        return tables.size() == 1 ? tables.iterator().next().display() : tables.size() + " tables";
    }

}
