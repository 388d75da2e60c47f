package dev.ibex.capture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The key columns' base types, as format_type writes them (a domain is logged as its base type
 * so the domain can still be dropped), and whether the keys go to ibex.log as text: at most
 * four columns, each one's text reading back as the same value whatever the writer's settings.
 *
 * @param byName the type of each key column, by name
 * @param names  the types in key order
 */
record KeyTypes(Map<String, String> byName, List<String> names, boolean textSafe) {

    /**
     * Base types whose text form does not depend on a session setting: not dates and times
     * (DateStyle, IntervalStyle, TimeZone), floats (extra_float_digits) or money (lc_monetary).
     * bool, bytea, "char", name, int8, int2, int4, text, oid, cidr, inet, macaddr, bpchar,
     * varchar, bit, varbit, numeric, uuid; and every enum.
     */
    static final String KEY_TYPES = """
            SELECT a.attname, pg_catalog.format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid),
                                                     CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END),
                   b.oid IN (16, 17, 18, 19, 20, 21, 23, 25, 26, 650, 869, 829, 1042, 1043, 1560, 1562, 1700, 2950)
                   OR b.typtype = 'e'
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            JOIN pg_catalog.pg_type b ON b.oid = coalesce(nullif(t.typbasetype, 0), a.atttypid)
            WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY (?)""";

    /** The types of the key columns {@code keys} of the table {@code oid}; a missing column has type "". */
    static KeyTypes of(Connection c, long oid, List<String> keys) throws SQLException {
        Map<String, String> byName = new LinkedHashMap<>();
        boolean safe = true;
        try (PreparedStatement ps = c.prepareStatement(KEY_TYPES)) {
            ps.setLong(1, oid);
            ps.setArray(2, c.createArrayOf("text", keys.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byName.put(rs.getString(1), rs.getString(2));
                    safe &= rs.getBoolean(3);
                }
            }
        }
        return new KeyTypes(byName, keys.stream().map(k -> byName.getOrDefault(k, "")).toList(),
                safe && keys.size() <= ChangeLog.KEY_COLUMNS);
    }
}
