package dev.ibex.capture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The catalog lookups of a reconcile on the source: tables, ibex's delta tables and triggers. */
final class CaptureCatalog {

    static final String TABLE_OID = """
            SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')""";

    static final String SCHEMA_EXISTS = "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'ibex'";

    static final String DELTA_COLUMNS = """
            SELECT attname FROM pg_catalog.pg_attribute
            WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped AND attname NOT IN ('txid', 'ibex_ts', 'ibex_origin')
            ORDER BY attnum""";

    static final String HAS_COLUMN = """
            SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = ? AND attname = ? AND NOT attisdropped""";

    /** ibex's triggers on a table that fire: one disabled by hand counts as missing. */
    static final String TRIGGERS = """
            SELECT tgname FROM pg_catalog.pg_trigger
            WHERE tgrelid = ? AND tgname LIKE 'ibex\\_%' AND tgenabled <> 'D'""";

    /** Whether a table is a plain table that no other table's statements reach (no partition, no child). */
    static final String STANDALONE = """
            SELECT c.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)
            FROM pg_catalog.pg_class c WHERE c.oid = ?""";

    private final Connection c;

    CaptureCatalog(Connection c) {
        this.c = c;
    }

    /** The table's oid (a plain or partitioned table), or 0 when there is none. */
    long tableOid(String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(TABLE_OID)) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    boolean schemaExists() throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(SCHEMA_EXISTS)) {
            return rs.next();
        }
    }

    /** The key columns of the delta table ibex.{@code delta}; empty when it does not exist. */
    List<String> deltaColumns(String delta) throws SQLException {
        long oid = tableOid("ibex", delta);
        List<String> out = new ArrayList<>();
        if (oid == 0) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement(DELTA_COLUMNS)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Whether table ibex.{@code table} exists and has the column. */
    boolean hasColumn(String table, String column) throws SQLException {
        long oid = tableOid("ibex", table);
        if (oid == 0) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement(HAS_COLUMN)) {
            ps.setLong(1, oid);
            ps.setString(2, column);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The table's ibex triggers that fire. */
    Set<String> triggers(long oid) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(TRIGGERS)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** See {@link #STANDALONE}. */
    boolean standalone(long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(STANDALONE)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
