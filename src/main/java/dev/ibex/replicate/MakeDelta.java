package dev.ibex.replicate;

import dev.ibex.capture.ChangeLog;
import dev.ibex.capture.LoggedTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bucardo's makedelta on one db ibex applies to: the keys a step applied there are logged in that
 * db's own capture, in the step's transaction, with the applying sync as their origin; a table
 * copied whole is logged as truncated. A sync that reads from that db then carries them on (A → B
 * → C); the applying sync itself skips them (ChangeLog.notOwn), so a db that is a source of the
 * same sync does not send them back. Triggers cannot do this: the apply runs with
 * session_replication_role = replica, so that nothing it writes echoes.
 */
final class MakeDelta {

    private static final Logger LOG = LoggerFactory.getLogger(MakeDelta.class);

    private final Connection c;
    private final String db;
    private final String sync;
    /** What the db captures, by TableCopy.key; null until first needed. */
    private Map<String, LoggedTable> captured;

    MakeDelta(Connection c, String db, String sync) {
        this.c = c;
        this.db = db;
        this.sync = sync;
    }

    /** Logs the keys the step applied to {@code t}, as the db's trigger would have. */
    void keys(TableCopy t, List<String[]> keys) throws SQLException {
        LoggedTable logged = captured(t);
        if (logged == null || keys.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(ChangeLog.madeKeysSql(logged))) {
            int p = 1;
            for (int k = 0; k < logged.keycols().size(); k++) {
                ps.setArray(p++, c.createArrayOf("text", TableCopy.column(keys, k)));
            }
            ps.setString(p++, sync);
            if (logged.ownDelta()) {
                ps.setString(p++, sync);
            }
            ps.execute();
        }
    }

    /** Logs {@code t} as truncated: it was copied whole, and readers copy it whole in turn. */
    void copiedWhole(TableCopy t) throws SQLException {
        if (captured(t) == null) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(ChangeLog.MADE_TRUNCATE)) {
            ps.setString(1, t.relation.schema());
            ps.setString(2, t.relation.name());
            ps.setString(3, sync);
            ps.execute();
        }
    }

    /** The table as the db captures it; null when it does not (no sync reads it there: nothing to log). */
    private LoggedTable captured(TableCopy t) throws SQLException {
        if (captured == null) {
            captured = new HashMap<>();
            try (Statement st = c.createStatement(); ResultSet has = st.executeQuery(ChangeLog.HAS_CAPTURE)) {
                if (has.next()) {
                    try (ResultSet rs = st.executeQuery(ChangeLog.CAPTURED)) {
                        while (rs.next()) {
                            LoggedTable l = ChangeLog.loggedTable(rs);
                            captured.put(TableCopy.key(l.schema(), l.table()), l);
                        }
                    }
                }
            }
        }
        LoggedTable l = captured.get(TableCopy.key(t.relation));
        if (l == null) {
            LOG.debug("makedelta: table {} is not captured on db \"{}\": no sync reads it from there", t.display(), db);
        } else if (!l.keycols().equals(t.relation.keyColumns())) {
            LOG.warn("makedelta: table {} is captured on db \"{}\" with another key ({}): its applied keys are not "
                    + "logged there; give the relations the same key", t.display(), db, String.join(", ", l.keycols()));
            return null;
        }
        return l;
    }
}
