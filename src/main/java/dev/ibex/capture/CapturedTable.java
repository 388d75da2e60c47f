package dev.ibex.capture;

import dev.ibex.pg.Identifiers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * One captured source table and the names of its capture objects in schema ibex.
 *
 * @param keys key column names, in key order
 */
public record CapturedTable(String schema, String table, List<String> keys) {

    /** The delta table's name in schema ibex (unquoted, at most 63 bytes). */
    public String delta() {
        return name("delta_");
    }

    public String function() {
        return name("capture_");
    }

    public String deltaIndex() {
        return Identifiers.derived("", delta() + "_txid");
    }

    /** A table's key in maps of captured tables: "schema\0table". */
    static String key(String schema, String table) {
        return schema + "\u0000" + table;
    }

    public String display() {
        return schema + "." + table;
    }

    public String quoted() {
        return Identifiers.qualified(schema, table);
    }

    /**
     * prefix + schema_table. A schema with an underscore makes schema_table ambiguous (a_b.c and
     * a.b_c): such names carry a hash of the exact pair.
     */
    private String name(String prefix) {
        String base = schema + "_" + table;
        if (schema.contains("_")) {
            base += "_" + sha1(schema + "\u0000" + table).substring(0, 8);
        }
        return Identifiers.derived(prefix, base);
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
