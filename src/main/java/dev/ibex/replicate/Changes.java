package dev.ibex.replicate;

import dev.ibex.IbexException;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What changed on a source since one S_prev: truncated tables ("schema\0table") and changed keys. */
final class Changes {
    final Set<String> truncated = new HashSet<>();
    final Map<Relation, List<String[]>> keys = new HashMap<>();

    /**
     * The truncated tables and the changed keys of every streamed table since S_prev, in one
     * query: an idle sync's run costs one round trip here.
     */
    static Changes since(Connection s, Db source, String prev, List<Relation> tables) throws SQLException {
        int width = Math.max(2, tables.stream().mapToInt(r -> r.keyColumns().size()).max().orElse(0));
        List<String> branches = new ArrayList<>();
        List<String> pad = new ArrayList<>();
        for (int i = 2; i < width; i++) {
            pad.add(", NULL::text");
        }
        branches.add("SELECT -1, schemaname::text, tablename::text" + String.join("", pad)
                + " FROM (SELECT DISTINCT schemaname, tablename FROM ("
                + TxidSnapshot.rowsNotSeenSql("schemaname, tablename", "ibex.truncate_log") + ") u) t");
        for (int i = 0; i < tables.size(); i++) {
            branches.add(TableCopy.changedKeysSql(i, tables.get(i), width));
        }
        Changes out = new Changes();
        try (PreparedStatement ps = s.prepareStatement(String.join("\nUNION ALL\n", branches))) {
            for (int i = 1; i <= 2 * branches.size(); i++) {
                ps.setString(i, prev);
            }
            ps.setFetchSize(50_000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int table = rs.getInt(1);
                    if (table < 0) {
                        out.truncated.add(rs.getString(2) + "\u0000" + rs.getString(3));
                        continue;
                    }
                    Relation r = tables.get(table);
                    String[] k = new String[r.keyColumns().size()];
                    for (int i = 0; i < k.length; i++) {
                        k[i] = rs.getString(i + 2);
                    }
                    out.keys.computeIfAbsent(r, x -> new ArrayList<>()).add(k);
                }
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                throw notCaptured(s, source, tables);
            }
            throw e;
        }
        return out;
    }

    /** Which capture object is missing, after the query that needed it failed. */
    private static IbexException notCaptured(Connection s, Db source, List<Relation> tables) {
        try {
            s.rollback();
            if (!exists(s, "ibex.truncate_log")) {
                return new IbexException(IbexException.BAD_INPUT, "Capture is not installed on source db \""
                        + source.name() + "\": activate or reload the sync");
            }
            for (Relation r : tables) {
                if (!exists(s, "ibex." + Identifiers.quote(TableCopy.deltaName(r)))) {
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

    private static boolean exists(Connection s, String relation) throws SQLException {
        try (PreparedStatement ps = s.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, relation);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
