package dev.ibex.migrate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The columns of one table as the catalog of one database describes them. */
public final class TableColumns {

    /**
     * @param type        format_type(), e.g. "character varying(20)"
     * @param collatable  text-like (type category S): ordered by UTF-8 bytes so both ends agree
     * @param floating    float4/float8: hashed in binary, since their text differs across versions
     * @param generated   a generated column (PG 12+): never written by COPY
     */
    public record Column(String name, String type, boolean notNull, boolean hasDefault, boolean collatable,
                         boolean floating, boolean generated) {
    }

    private static final String COLUMNS = """
            SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
                   t.typcategory = 'S', a.atttypid IN ('pg_catalog.float4'::pg_catalog.regtype,
                   'pg_catalog.float8'::pg_catalog.regtype), %s
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum""";

    private static final String EXISTS = """
            SELECT c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ? AND c.relname = ?""";

    private TableColumns() {
    }

    /** The columns in attnum order, or empty when there is no such relation. */
    public static Optional<List<Column>> of(DbSession s, String schema, String table) throws SQLException {
        return of(s.connection(), s.versionNum(), schema, table);
    }

    public static Optional<List<Column>> of(Connection c, int versionNum, String schema, String table)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(EXISTS)) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
            }
        }
        String generated = versionNum >= 120000 ? "a.attgenerated <> ''" : "false";
        List<Column> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(String.format(COLUMNS, generated))) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Column(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4),
                            rs.getBoolean(5), rs.getBoolean(6), rs.getBoolean(7)));
                }
            }
        }
        return Optional.of(out);
    }
}
