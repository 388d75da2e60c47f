package dev.ibex.capture;

import dev.ibex.pg.Catalog;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.TxidSnapshot;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The queries that read a source's change log (ibex.log, the tables' own delta tables and
 * ibex.truncate_log) relative to a snapshot S_prev. Each finds the changes S_prev did not see by
 * the txid index (see {@link TxidSnapshot#rowsNotSeenSql}), so a look or an empty run costs the
 * same whatever the number of captured tables.
 */
public final class ChangeLog {

    private ChangeLog() {
    }

    /**
     * The captured tables with changes S_prev did not see (tab set), then the tables truncated
     * since (tab NULL; schemaname and tablename only); rows ibex wrote itself for the reading sync
     * (makedelta) left out. Binds S_prev twice and the sync's name, then the same again.
     */
    public static final String TOUCHED = """
            SELECT c.tab, c.schemaname, c.tablename, c.keycols, c.keytypes, c.delta FROM ibex.captured c
            WHERE c.tab IN (SELECT tab FROM (%s) u)
            UNION ALL
            SELECT NULL, t.schemaname, t.tablename, NULL, NULL, NULL
            FROM (SELECT DISTINCT schemaname, tablename FROM (%s) u) t""".formatted(
            notOwn("tab", "ibex.log", "origin"), notOwn("schemaname, tablename", "ibex.truncate_log", "origin"));

    /**
     * The rows of {@code table} S_prev did not see, but those a sync wrote there itself, applying
     * its changes with makedelta on (column {@code origin} names it): binds S_prev twice, then the
     * reading sync's name.
     */
    static String notOwn(String columns, String table, String origin) {
        return "SELECT " + columns + " FROM (" + TxidSnapshot.rowsNotSeenSql(columns + ", " + origin, table)
                + ") o WHERE o." + origin + " IS DISTINCT FROM ?";
    }

    /**
     * For autokick, one column set per row: the snapshot of this statement, the number of each
     * captured table with changes the snapshot bound four times did not see, or a table truncated
     * since ("schema.table").
     */
    public static final String PROBE = """
            SELECT txid_current_snapshot()::text, NULL::integer, NULL::text
            UNION ALL SELECT NULL, tab, NULL FROM (SELECT DISTINCT tab FROM (%s) u) l
            UNION ALL SELECT DISTINCT NULL, NULL::integer, schemaname || '.' || tablename FROM (%s) t""".formatted(
            TxidSnapshot.rowsNotSeenSql("tab", "ibex.log"),
            TxidSnapshot.rowsNotSeenSql("schemaname, tablename", "ibex.truncate_log"));

    /** Key columns of ibex.log: a longer key goes to the table's own delta table. */
    public static final int KEY_COLUMNS = 4;

    /** ibex.log's columns for a key of {@code n} columns: k1, k2, … */
    public static List<String> keyColumns(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add("k" + i);
        }
        return out;
    }

    /** The number and name ("schema.table") of every captured table. */
    public static final String NAMES = "SELECT tab, schemaname || '.' || tablename FROM ibex.captured";

    /** Changes S_prev (bound twice) did not see, per table number. */
    public static final String PENDING = "SELECT tab, count(*) FROM (" + TxidSnapshot.rowsNotSeenSql("tab", "ibex.log")
            + ") u GROUP BY tab";

    /** Truncates S_prev (bound twice) did not see, per table ("schema.table"): each is one pending change. */
    public static final String PENDING_TRUNCATES = "SELECT schemaname || '.' || tablename, count(*) FROM ("
            + TxidSnapshot.rowsNotSeenSql("schemaname, tablename", "ibex.truncate_log") + ") u GROUP BY 1";

    /** Reads one row of {@link #TOUCHED} that has a tab. */
    public static LoggedTable loggedTable(ResultSet rs) throws SQLException {
        return new LoggedTable(rs.getInt(1), rs.getString(2), rs.getString(3), Capture.strings(rs.getArray(4)),
                Capture.strings(rs.getArray(5)), rs.getString(6));
    }

    /**
     * The changed keys of several tables since S_prev, each branch made by {@link #keysSql}, in
     * one query: the log rows S_prev did not see are read once (a CTE; binds S_prev twice and the
     * sync's name first, see {@link #notOwn}); {@code withTime} as the branches were made.
     */
    public static String keysQuery(List<String> branches, boolean withTime) {
        // the CTE is read by every branch, so it is materialized: only with the columns they use
        return "WITH l AS (" + notOwn("tab, " + (withTime ? "ts, " : "") + String.join(", ", keyColumns(KEY_COLUMNS)),
                "ibex.log", "origin")
                + ")\n"
                + "SELECT c.*, count(CASE WHEN c.n >= 0 THEN 1 END) OVER () FROM (\n"
                + String.join("\nUNION ALL\n", branches) + "\n) c";
    }

    /**
     * One table's branch of {@link #keysQuery}: the number {@code n}, then its distinct changed
     * keys as text, padded with NULLs to {@code width} columns, then, {@code withTime}, the time of
     * the key's latest change (else NULL). Distinct on the typed values: 1.0 and 1.00 are one
     * numeric key, and must be copied once. A table with its own delta table binds S_prev twice
     * and the sync's name more.
     */
    public static String keysSql(int n, LoggedTable t, int width, boolean withTime) {
        List<String> out = new ArrayList<>();
        List<String> typed = new ArrayList<>();
        for (int i = 0; i < width; i++) {
            out.add(i < t.keycols().size() ? "d.k" + i + "::text" : "NULL::text");
        }
        for (int i = 0; i < t.keycols().size(); i++) {
            typed.add(t.ownDelta() ? Identifiers.quote(t.keycols().get(i)) + " AS k" + i
                    : "l.k" + (i + 1) + "::" + Catalog.withoutModifier(t.keytypes().get(i)) + " AS k" + i);
        }
        String from = t.ownDelta()
                ? "(" + notOwn(Identifiers.quoteList(t.keycols()) + ", ibex_ts", "ibex." + Identifiers.quote(t.delta()),
                        "ibex_origin") + ") u"
                : "l WHERE l.tab = " + t.tab();
        // by position: an output name k1 would mean ibex.log's column k1 there
        String groups = IntStream.rangeClosed(1, t.keycols().size()).mapToObj(Integer::toString)
                .collect(Collectors.joining(", "));
        String keys = withTime
                ? String.join(", ", typed) + ", max(" + (t.ownDelta() ? "ibex_ts" : "ts") + ") AS ts FROM " + from
                        + " GROUP BY " + groups
                : "DISTINCT " + String.join(", ", typed) + " FROM " + from;
        return "SELECT " + n + " AS n, " + String.join(", ", out) + ", " + (withTime ? "d.ts" : "NULL::timestamptz")
                + " FROM (SELECT " + keys + ") d";
    }

    /** Whether the db captures anything (8.4 has no to_regclass). */
    public static final String HAS_CAPTURE = """
            SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'ibex' AND c.relname = 'captured'""";

    /** Every captured table, as {@link #loggedTable} reads it. */
    public static final String CAPTURED = "SELECT tab, schemaname, tablename, keycols, keytypes, delta FROM ibex.captured";

    /** makedelta: a table ibex copied whole, logged as truncated; binds schema, table and the sync's name. */
    public static final String MADE_TRUNCATE =
            "INSERT INTO ibex.truncate_log (schemaname, tablename, origin) VALUES (?, ?, ?)";

    /**
     * makedelta: keys ibex applied, logged as the table's trigger would have, with the applying
     * sync as origin. Binds one text[] per key column (equal lengths: unnest in the select list
     * pairs them up on every version), then the sync's name, twice for a table with its own delta
     * table.
     */
    public static String madeKeysSql(LoggedTable t) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < t.keycols().size(); i++) {
            keys.add("unnest(?::text[])" + (t.ownDelta() ? "::" + t.keytypes().get(i) : ""));
        }
        if (t.ownDelta()) {
            return "INSERT INTO ibex." + Identifiers.quote(t.delta()) + " (" + Identifiers.quoteList(t.keycols())
                    + ", ibex_origin) SELECT " + String.join(", ", keys) + ", ?; INSERT INTO ibex.log (tab, origin) "
                    + "VALUES (" + t.tab() + ", ?)";
        }
        return "INSERT INTO ibex.log (tab, " + String.join(", ", keyColumns(t.keycols().size())) + ", origin) SELECT "
                + t.tab() + ", " + String.join(", ", keys) + ", ?";
    }

    /** The own delta table of each table whose keys do not go to ibex.log. */
    public static final String OWN_DELTAS = "SELECT schemaname, tablename, delta FROM ibex.captured WHERE delta IS NOT NULL";
}
