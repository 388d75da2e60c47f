package dev.ibex.capture;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The captured tables of a source that no longer log every write: a user dropped or disabled
 * ibex's trigger, dropped the table (and maybe made it anew, without triggers), or attached it as
 * a partition or child since. Nothing in a
 * run notices (a table nobody logs has no changes to apply), so the controller looks now and then
 * (with the purge), one query per source, and has capture put back (which copies such a table
 * whole once, see {@link CaptureInstaller}).
 */
public final class CaptureCheck {

    /**
     * Registered tables that are gone, or lack a firing truncate trigger or the change triggers of
     * either {@link TriggerShape} (ibex_capture, or ibex_rows and ibex_delete), or have the
     * statement shape while they are a partition or inheritance child (attached since they were
     * captured: a DELETE through the parent fires no statement trigger of theirs). PostgreSQL 8.4 on.
     */
    static final String UNLOGGED = """
            SELECT c.schemaname || '.' || c.tablename, r.oid IS NOT NULL
              FROM ibex.captured c
              LEFT JOIN (pg_catalog.pg_class r JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace)
                ON n.nspname = c.schemaname AND r.relname = c.tablename AND r.relkind IN ('r', 'p')
             WHERE r.oid IS NULL
                OR NOT (EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                                 WHERE g.tgrelid = r.oid AND g.tgenabled <> 'D' AND g.tgname = 'ibex_truncate')
                        AND (EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                                      WHERE g.tgrelid = r.oid AND g.tgenabled <> 'D' AND g.tgname = 'ibex_capture')
                             OR (SELECT count(*) FROM pg_catalog.pg_trigger g WHERE g.tgrelid = r.oid
                                    AND g.tgenabled <> 'D' AND g.tgname IN ('ibex_rows', 'ibex_delete')) = 2))
                OR (EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = r.oid AND g.tgname = 'ibex_delete')
                    AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = r.oid))
             ORDER BY 1""";

    /** One captured table that does not log its writes; {@code exists} false when the table is gone. */
    public record Unlogged(String table, boolean exists) {
    }

    private CaptureCheck() {
    }

    /** The source's captured tables that do not log every write; none when it has no capture (yet). */
    public static List<Unlogged> unlogged(DbPools pools, Db source) {
        List<Unlogged> out = new ArrayList<>();
        try (Connection c = pools.connection(source); PreparedStatement ps = c.prepareStatement(UNLOGGED);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Unlogged(rs.getString(1), rs.getBoolean(2)));
            }
        } catch (SQLException e) {
            if (SqlState.UNDEFINED_TABLE.is(e)) {
                return out; // capture not installed yet: the controller's reconcile is on it
            }
            throw PgErrors.failed("Checking the capture triggers on db \"" + source.name() + "\"", e);
        }
        return out;
    }
}
