package dev.ibex.replicate;

import dev.ibex.IbexException;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What changed on a source since one S_prev, read in the batch's snapshot: the truncated tables
 * and the changed keys. The keys come a step at a time from one open query, so a backlog of any
 * size is applied in bounded memory; reading again in the same snapshot gives the same keys.
 */
final class Changes implements AutoCloseable {

    /** Changed keys of one table, at most a chunk's worth. */
    record Chunk(Relation table, List<String[]> keys) {
    }

    /** Truncated tables, "schema\0table". */
    final Set<String> truncated = new HashSet<>();
    private final List<Relation> tables;
    private final PreparedStatement ps;
    private final ResultSet rs;
    private final int countColumn;
    private long total;
    private long read;
    private long skipped;
    private boolean more;

    private Changes(List<Relation> tables, PreparedStatement ps, ResultSet rs, int countColumn) throws SQLException {
        this.tables = tables;
        this.ps = ps;
        this.rs = rs;
        this.countColumn = countColumn;
        this.more = rs.next();
        this.total = more ? rs.getLong(countColumn) : 0;
    }

    /**
     * Opens the one query that reads the truncated tables and the changed keys of every streamed
     * table since S_prev: an idle sync's run costs one round trip here. {@code s} must be in a
     * transaction (the rows come {@code fetch} at a time) and stay free for other statements
     * between steps.
     */
    static Changes since(Connection s, Db source, String prev, List<Relation> tables, int fetch) throws SQLException {
        PreparedStatement ps = s.prepareStatement(sql(tables));
        try {
            for (int i = 1; i <= parameters(tables); i++) {
                ps.setString(i, prev);
            }
            ps.setFetchSize(fetch);
            return new Changes(tables, ps, ps.executeQuery(), countColumn(tables));
        } catch (SQLException e) {
            ps.close();
            if ("42P01".equals(e.getSQLState())) {
                throw notCaptured(s, source, tables);
            }
            throw e;
        }
    }

    /** The query; each of its {@link #parameters} is S_prev. */
    static String sql(List<Relation> tables) {
        int width = width(tables);
        List<String> branches = new ArrayList<>();
        List<String> pad = new ArrayList<>();
        for (int i = 2; i < width; i++) {
            pad.add(", NULL::text");
        }
        branches.add("SELECT -1 AS n, schemaname::text, tablename::text" + String.join("", pad)
                + " FROM (SELECT DISTINCT schemaname, tablename FROM ("
                + TxidSnapshot.rowsNotSeenSql("schemaname, tablename", "ibex.truncate_log") + ") u) t");
        for (int i = 0; i < tables.size(); i++) {
            branches.add(TableCopy.changedKeysSql(i, tables.get(i), width));
        }
        // the count of every key, on the first row already, gives progress and an ETA
        return "SELECT c.*, count(CASE WHEN c.n >= 0 THEN 1 END) OVER () FROM (\n"
                + String.join("\nUNION ALL\n", branches) + "\n) c";
    }

    /** Two for each branch: the truncate log's and each table's. */
    static int parameters(List<Relation> tables) {
        return 2 * (tables.size() + 1);
    }

    private static int width(List<Relation> tables) {
        return Math.max(2, tables.stream().mapToInt(r -> r.keyColumns().size()).max().orElse(0));
    }

    /** After the table number and the widest key's columns. */
    private static int countColumn(List<Relation> tables) {
        return width(tables) + 2;
    }

    /**
     * The next step: up to {@code stepKeys} keys, cut into chunks of at most {@code chunkKeys}
     * keys of one table; empty when every key has been read. Keys of a table already seen
     * truncated are skipped (the table is copied whole).
     */
    List<Chunk> next(int chunkKeys, int stepKeys) throws SQLException {
        Map<Relation, List<String[]>> open = new LinkedHashMap<>();
        List<Chunk> step = new ArrayList<>();
        int keys = 0;
        while (more && keys < stepKeys) {
            int table = rs.getInt(1);
            if (table < 0) {
                truncated.add(rs.getString(2) + "\u0000" + rs.getString(3));
            } else {
                read++;
                Relation r = tables.get(table);
                if (truncated.contains(r.schema() + "\u0000" + r.name())) {
                    skipped++;
                } else {
                    String[] k = new String[r.keyColumns().size()];
                    for (int i = 0; i < k.length; i++) {
                        k[i] = rs.getString(i + 2);
                    }
                    List<String[]> chunk = open.computeIfAbsent(r, x -> new ArrayList<>());
                    chunk.add(k);
                    keys++;
                    if (chunk.size() >= chunkKeys) {
                        step.add(new Chunk(r, chunk));
                        open.remove(r);
                    }
                }
            }
            more = rs.next();
        }
        open.forEach((r, chunk) -> step.add(new Chunk(r, chunk)));
        return step;
    }

    /** Every changed key of the batch, including those not read yet. */
    long total() {
        return total;
    }

    /** Keys read so far. */
    long read() {
        return read;
    }

    /** Keys read and not skipped for a truncated table: what the run applied. */
    long applied() {
        return read - skipped;
    }

    @Override
    public void close() throws SQLException {
        ps.close();
    }

    /** Which capture object is missing, after the query that needed it failed. */
    private static IbexException notCaptured(Connection s, Db source, List<Relation> tables) {
        try {
            s.rollback();
            if (!exists(s, "truncate_log")) {
                return new IbexException(IbexException.BAD_INPUT, "Capture is not installed on source db \""
                        + source.name() + "\": activate or reload the sync");
            }
            for (Relation r : tables) {
                if (!exists(s, TableCopy.deltaName(r))) {
                    return new IbexException(IbexException.BAD_INPUT, "Table " + r.display()
                            + " is not captured on source db \"" + source.name()
                            + "\": reload the sync to install its triggers");
                }
            }
        } catch (SQLException e) {
            // fall through to the general message
        }
        return new IbexException(IbexException.BAD_INPUT, "Capture is not complete on source db \"" + source.name()
                + "\": reload the sync to install its triggers");
    }

    /** Whether schema ibex holds a table of this name. */
    private static boolean exists(Connection s, String table) throws SQLException {
        try (PreparedStatement ps = s.prepareStatement("""
                SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                               WHERE n.nspname = 'ibex' AND c.relname = ?)""")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
