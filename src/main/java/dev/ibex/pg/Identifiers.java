package dev.ibex.pg;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;

/** Quoting of identifiers and literals, and names derived from other names within 63 bytes. */
public final class Identifiers {

    /** PostgreSQL's NAMEDATALEN - 1. */
    public static final int MAX_BYTES = 63;

    private Identifiers() {
    }

    /** Always quotes: safe for mixed case, spaces, quotes and reserved words. */
    public static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    public static String qualified(String schema, String name) {
        return quote(schema) + "." + quote(name);
    }

    public static String quoteList(List<String> identifiers) {
        return identifiers.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
    }

    /**
     * A string literal that means the same whatever standard_conforming_strings is: for the few
     * statements that cannot take bind parameters (COPY, DDL).
     */
    public static String literal(String value) {
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /**
     * {@code prefix + base}, cut to fit 63 bytes with a short hash of the whole so that two long
     * names that share a beginning still differ.
     */
    public static String derived(String prefix, String base) {
        String full = prefix + base;
        if (full.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES) {
            return full;
        }
        String hash = "_" + sha1(full).substring(0, 10);
        int budget = MAX_BYTES - hash.length();
        StringBuilder cut = new StringBuilder();
        int used = 0;
        for (int i = 0; i < full.length(); ) {
            int cp = full.codePointAt(i);
            int len = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (used + len > budget) {
                break;
            }
            cut.appendCodePoint(cp);
            used += len;
            i += Character.charCount(cp);
        }
        return cut + hash;
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
