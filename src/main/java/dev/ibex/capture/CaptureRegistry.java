package dev.ibex.capture;

import dev.ibex.IbexException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/** The source's record of what it captures: ibex.captured, and the truncates ibex logs itself. */
final class CaptureRegistry {

    static final String REGISTERED = ChangeLog.CAPTURED + " ORDER BY 2, 3";

    static final String UNREGISTER = "DELETE FROM ibex.captured WHERE schemaname = ? AND tablename = ?";

    static final String REGISTER = """
            INSERT INTO ibex.captured (schemaname, tablename, keycols, keytypes, delta, function)
            VALUES (?, ?, ?, ?, ?, ?) RETURNING tab""";

    static final String LOG_TRUNCATE = "INSERT INTO ibex.truncate_log (schemaname, tablename) VALUES (?, ?)";

    private final Connection c;
    private final CaptureCatalog catalog;
    private final String source;

    CaptureRegistry(Connection c, CaptureCatalog catalog, String source) {
        this.c = c;
        this.catalog = catalog;
        this.source = source;
    }

    /** ibex.captured as it is, by {@link CapturedTable#key}; empty when it does not exist yet. */
    Map<String, LoggedTable> registered() throws SQLException {
        Map<String, LoggedTable> out = new LinkedHashMap<>();
        if (catalog.tableOid("ibex", "captured") == 0) {
            return out;
        }
        requireLogLayout();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(REGISTERED)) {
            while (rs.next()) {
                LoggedTable t = ChangeLog.loggedTable(rs);
                out.put(CapturedTable.key(t.schema(), t.table()), t);
            }
        }
        return out;
    }

    /** Capture made by a development build before the shared log cannot be taken over in place. */
    private void requireLogLayout() throws SQLException {
        if (catalog.tableOid("ibex", "log") == 0) {
            throw IbexException.badInput("Capture on db \"" + source + "\" was installed by an earlier "
                    + "development build of ibex (no ibex.log): deactivate its syncs with that build, or drop the "
                    + "ibex_capture triggers and the ibex.captured, ibex.truncate_log and ibex.delta_* tables, "
                    + "then activate again (the tables are copied whole once)");
        }
    }

    /** Records the table under a new number, which it returns (the table is locked). */
    int register(CapturedTable t, KeyTypes types, String delta) throws SQLException {
        unregister(t.schema(), t.table());
        try (PreparedStatement ps = c.prepareStatement(REGISTER)) {
            ps.setString(1, t.schema());
            ps.setString(2, t.table());
            ps.setArray(3, c.createArrayOf("text", t.keys().toArray()));
            ps.setArray(4, c.createArrayOf("text", types.names().toArray()));
            ps.setString(5, delta);
            ps.setString(6, t.function());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    void unregister(String schema, String table) throws SQLException {
        update(UNREGISTER, schema, table);
    }

    /** Logs a truncate of the table, so that every sync whose S_prev is older copies it whole once. */
    void logTruncate(CapturedTable t) throws SQLException {
        update(LOG_TRUNCATE, t.schema(), t.table());
    }

    private void update(String sql, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, schema);
            ps.setString(2, table);
            ps.executeUpdate();
        }
    }
}
