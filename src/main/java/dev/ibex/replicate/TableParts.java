package dev.ibex.replicate;

import dev.ibex.pg.Identifiers;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How a large table is read by several copy workers at once: the WHERE clauses of its parts, which
 * together hold every row exactly once whatever changed since they were planned (the first and last
 * parts are open-ended, and all parts read the same snapshot). From PostgreSQL 14 on the parts are
 * ranges of heap blocks (a TID range scan reads just its blocks, whatever the key); before that,
 * ranges of an integer first key column (an index range scan). Any other table stays one stream.
 */
final class TableParts {

    /** Types whose values the split can compute between min and max without collation questions. */
    private static final Set<String> INTEGERS = Set.of("smallint", "integer", "bigint");

    /** What the source's catalog says of one table: its heap size, block size, planner's row estimate. */
    record Size(long bytes, int blockSize, long estimatedRows) {
    }

    private TableParts() {
    }

    /** The sizes of the tables, in their order, in one query (numbered without WITH ORDINALITY, 9.4). */
    static List<Size> sizes(Connection src, List<TableCopy> tables) throws SQLException {
        List<Size> out = new ArrayList<>();
        try (PreparedStatement ps = src.prepareStatement("SELECT pg_catalog.pg_relation_size(c.oid), "
                + "pg_catalog.current_setting('block_size')::int, c.reltuples::bigint "
                + "FROM (SELECT a[i] AS name, i AS n FROM (SELECT a, generate_series(1, array_upper(a, 1)) AS i "
                + "FROM (SELECT ?::text[] AS a) p) q) w "
                + "JOIN pg_catalog.pg_class c ON c.oid = w.name::regclass ORDER BY w.n")) {
            ps.setArray(1, src.createArrayOf("text", tables.stream().map(t -> t.relation.quoted()).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Size(rs.getLong(1), rs.getInt(2), rs.getLong(3)));
                }
            }
        }
        return out;
    }

    /**
     * The parts to read {@code table} in, as WHERE clauses over alias {@link TableCopy#ALIAS}; an
     * empty list when the table is copied as one stream (small, partitioned, or no way to split it
     * cheaply on this source).
     */
    static List<String> plan(Connection src, TableCopy table, Size size, long splitBytes, int workers)
            throws SQLException {
        if (workers < 2 || size.bytes() < splitBytes || !table.plain()) {
            return List.of();
        }
        // a multiple of the workers, so that they end together; up to four rounds, for tables copied beside it
        long perWorker = splitBytes * workers;
        int parts = workers * (int) Math.min(4, (size.bytes() + perWorker - 1) / perWorker);
        if (ServerVersion.of(src).has(SqlFeature.TID_RANGE_SCAN)) {
            return blockRanges(size.bytes() / size.blockSize(), parts);
        }
        if (table.hasKey() && INTEGERS.contains(table.keyTypes.get(0))) {
            return keyRanges(src, table, parts);
        }
        return List.of();
    }

    /** ctid ranges: [0, b1), [b1, b2) ... [b(n-1), end), the last open for pages added since. */
    static List<String> blockRanges(long blocks, int parts) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            long low = blocks * i / parts;
            long high = blocks * (i + 1) / parts;
            String lower = i == 0 ? null : TableCopy.ALIAS + ".ctid >= '(" + low + ",0)'::tid";
            String upper = i == parts - 1 ? null : TableCopy.ALIAS + ".ctid < '(" + high + ",0)'::tid";
            out.add(and(lower, upper));
        }
        return out;
    }

    /** First-key ranges between the snapshot's min and max: (, b1], (b1, b2] ... (b(n-1), ), by the key index. */
    private static List<String> keyRanges(Connection src, TableCopy table, int parts) throws SQLException {
        String key = TableCopy.ALIAS + "." + Identifiers.quote(table.relation.keyColumns().get(0));
        BigInteger min;
        BigInteger max;
        try (Statement st = src.createStatement();
             ResultSet rs = st.executeQuery("SELECT min(" + key + ")::text, max(" + key + ")::text FROM ONLY "
                     + table.relation.quoted() + " AS " + TableCopy.ALIAS)) {
            rs.next();
            if (rs.getString(1) == null) {
                return List.of();
            }
            min = new BigInteger(rs.getString(1));
            max = new BigInteger(rs.getString(2));
        }
        return keyRanges(key, min, max, parts);
    }

    static List<String> keyRanges(String key, BigInteger min, BigInteger max, int parts) {
        BigInteger span = max.subtract(min);
        if (span.signum() == 0) {
            return List.of();
        }
        List<BigInteger> bounds = new ArrayList<>();
        for (int i = 1; i < parts; i++) {
            BigInteger b = min.add(span.multiply(BigInteger.valueOf(i)).divide(BigInteger.valueOf(parts)));
            if (bounds.isEmpty() || b.compareTo(bounds.get(bounds.size() - 1)) > 0) {
                bounds.add(b);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i <= bounds.size(); i++) {
            String lower = i == 0 ? null : key + " > " + bounds.get(i - 1);
            String upper = i == bounds.size() ? null : key + " <= " + bounds.get(i);
            out.add(and(lower, upper));
        }
        return out;
    }

    private static String and(String lower, String upper) {
        if (lower == null) {
            return upper;
        }
        return upper == null ? lower : lower + " AND " + upper;
    }
}
