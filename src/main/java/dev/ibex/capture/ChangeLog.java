package dev.ibex.capture;

import dev.ibex.pg.Identifiers;
import dev.ibex.pg.TxidSnapshot;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

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
     * since (tab NULL; schemaname and tablename only). Binds S_prev four times.
     */
    public static final String TOUCHED = """
            SELECT c.tab, c.schemaname, c.tablename, c.keycols, c.keytypes, c.delta FROM ibex.captured c
            WHERE c.tab IN (SELECT tab FROM (%s) u)
            UNION ALL
            SELECT NULL, t.schemaname, t.tablename, NULL, NULL, NULL
            FROM (SELECT DISTINCT schemaname, tablename FROM (%s) u) t""".formatted(
            TxidSnapshot.rowsNotSeenSql("tab", "ibex.log"),
            TxidSnapshot.rowsNotSeenSql("schemaname, tablename", "ibex.truncate_log"));

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

    /** Reads one row of {@link #TOUCHED} that has a tab. */
    public static LoggedTable loggedTable(ResultSet rs) throws SQLException {
        return new LoggedTable(rs.getInt(1), rs.getString(2), rs.getString(3), Capture.strings(rs.getArray(4)),
                Capture.strings(rs.getArray(5)), rs.getString(6));
    }

    /**
     * The changed keys of several tables since S_prev, each branch made by {@link #keysSql}, in
     * one query: the log rows S_prev did not see are read once (a CTE; binds S_prev twice first).
     */
    public static String keysQuery(List<String> branches) {
        return "WITH l AS (" + TxidSnapshot.rowsNotSeenSql("tab, " + String.join(", ", keyColumns(KEY_COLUMNS)),
                "ibex.log") + ")\n"
                + "SELECT c.*, count(CASE WHEN c.n >= 0 THEN 1 END) OVER () FROM (\n"
                + String.join("\nUNION ALL\n", branches) + "\n) c";
    }

    /**
     * One table's branch of {@link #keysQuery}: the number {@code n}, then its distinct changed
     * keys as text, padded with NULLs to {@code width} columns. DISTINCT on the typed values: 1.0
     * and 1.00 are one numeric key, and must be copied once. A table with its own delta table binds
     * S_prev twice more.
     */
    public static String keysSql(int n, LoggedTable t, int width) {
        List<String> out = new ArrayList<>();
        List<String> typed = new ArrayList<>();
        for (int i = 0; i < width; i++) {
            out.add(i < t.keycols().size() ? "d.k" + i + "::text" : "NULL::text");
        }
        for (int i = 0; i < t.keycols().size(); i++) {
            typed.add(t.ownDelta() ? Identifiers.quote(t.keycols().get(i)) + " AS k" + i
                    : "l.k" + (i + 1) + "::" + t.keytypes().get(i) + " AS k" + i);
        }
        String from = t.ownDelta()
                ? "(" + TxidSnapshot.rowsNotSeenSql(Identifiers.quoteList(t.keycols()), "ibex."
                        + Identifiers.quote(t.delta())) + ") u"
                : "l WHERE l.tab = " + t.tab();
        return "SELECT " + n + " AS n, " + String.join(", ", out) + " FROM (SELECT DISTINCT " + String.join(", ", typed)
                + " FROM " + from + ") d";
    }

    /** The own delta table of each table whose keys do not go to ibex.log. */
    public static final String OWN_DELTAS = "SELECT schemaname, tablename, delta FROM ibex.captured WHERE delta IS NOT NULL";
}
