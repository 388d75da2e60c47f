package dev.ibex.replicate;

import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SessionSettings;
import dev.ibex.pg.SqlFeature;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The batch's transaction on its source: REPEATABLE READ (SERIALIZABLE before 9.1), S_cur its first
 * snapshot, key lookups by index whatever the statistics say, and the snapshot exported to the
 * copy workers when they need it.
 */
final class SourceSnapshot {

    /** The batch's snapshot level for the source's version comes first. */
    private static final String BEGIN = "SET TRANSACTION ISOLATION LEVEL %s; "
            + "SELECT txid_current_snapshot()::text; " + SourceBatch.SOURCE_PLANS;
    private static final String EXPORT = "SELECT pg_export_snapshot()";

    private final Connection s;
    private final ServerVersion version;
    private final String current;
    private String exported;

    private SourceSnapshot(Connection s, ServerVersion version, String current) {
        this.s = s;
        this.version = version;
        this.current = current;
    }

    /**
     * Opens the transaction and reads S_cur in one round trip (a SET TRANSACTION inside it leaves
     * the pooled connection's default alone, so the pool needs no reset either).
     */
    static SourceSnapshot begin(Connection s) throws SQLException {
        s.setAutoCommit(false);
        ServerVersion version = ServerVersion.of(s);
        try (Statement st = s.createStatement()) {
            st.execute(BEGIN.formatted(SessionSettings.snapshotIsolation(version)));
            while (st.getResultSet() == null) {
                if (!st.getMoreResults() && st.getUpdateCount() == -1) {
                    throw new SQLException("no snapshot returned by the source");
                }
            }
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                String snapshot = rs.getString(1);
                while (st.getMoreResults() || st.getUpdateCount() != -1) {
                    // the SET LOCALs after it
                }
                return new SourceSnapshot(s, version, snapshot);
            }
        }
    }

    /** The server's snapshot now, in a statement of its own: a boundary with nothing read in it. */
    static String now(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT txid_current_snapshot()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** S_cur, as txid_current_snapshot() spells it. */
    String current() {
        return current;
    }

    /**
     * The snapshot for the copy workers to read in (the transaction stays open meanwhile); null
     * before 9.2, which cannot export one: the copy then reads in this transaction.
     */
    String exported() throws SQLException {
        if (exported == null && version.has(SqlFeature.SNAPSHOT_EXPORT)) {
            try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery(EXPORT)) {
                rs.next();
                exported = rs.getString(1);
            }
        }
        return exported;
    }
}
