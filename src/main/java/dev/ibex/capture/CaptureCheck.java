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
 * The captured tables of a source that no longer log every write as captured: a user dropped or
 * disabled ibex's trigger, dropped the table (and maybe made it anew, without triggers), attached
 * it as a partition or child, or changed a key column's type since. Nothing in a
 * run notices (a table nobody logs has no changes to apply), so the controller looks now and then
 * (with the purge), one query per source, and has capture put back (which copies such a table
 * whole once, see {@link CaptureInstaller}).
 */
public final class CaptureCheck {

    /**
     * Registered tables whose capture no longer logs every write, each with what is wrong (the
     * first that applies): the table is gone; a key column is gone (renamed or dropped); its key
     * columns' types are not those captured (the capture function logs the key as it was
     * captured, as text where that type's text was safe); it lacks a firing truncate trigger or the change triggers of
     * either {@link TriggerShape} (ibex_capture, or ibex_rows and ibex_delete); or it has the
     * statement shape while it is a partition or inheritance child (attached since it was
     * captured: a DELETE through the parent fires no statement trigger of it). The types are
     * written as {@code Catalog.KEY_COLUMNS} writes them. PostgreSQL 8.4 on.
     */
    static final String UNLOGGED = """
            SELECT u.name, u.why FROM (
              SELECT c.schemaname || '.' || c.tablename AS name,
                     CASE WHEN r.oid IS NULL THEN 'GONE'
                          WHEN (SELECT count(*) FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.oid
                                   AND a.attname = ANY (c.keycols) AND a.attnum > 0 AND NOT a.attisdropped)
                               < array_upper(c.keycols, 1) THEN 'KEY_GONE'
                          WHEN c.keytypes <> ARRAY(
                                 SELECT pg_catalog.format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid),
                                            CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END)
                                   FROM pg_catalog.generate_series(1, array_upper(c.keycols, 1)) i
                                   JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attname = c.keycols[i]
                                    AND a.attnum > 0 AND NOT a.attisdropped
                                   JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                                  ORDER BY i) THEN 'KEY_TYPE'
                          WHEN NOT (EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = r.oid
                                             AND g.tgenabled <> 'D' AND g.tgname = 'ibex_truncate')
                                    AND (EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = r.oid
                                                  AND g.tgenabled <> 'D' AND g.tgname = 'ibex_capture')
                                         OR (SELECT count(*) FROM pg_catalog.pg_trigger g WHERE g.tgrelid = r.oid
                                              AND g.tgenabled <> 'D' AND g.tgname IN ('ibex_rows', 'ibex_delete')) = 2))
                          THEN 'TRIGGER'
                          WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = r.oid
                                        AND g.tgname = 'ibex_delete')
                           AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = r.oid)
                          THEN 'ATTACHED'
                     END AS why
                FROM ibex.captured c
                LEFT JOIN (pg_catalog.pg_class r JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace)
                  ON n.nspname = c.schemaname AND r.relname = c.tablename AND r.relkind IN ('r', 'p')) u
             WHERE u.why IS NOT NULL
             ORDER BY 1""";

    /** Why a captured table does not log its writes as captured. */
    public enum Cause {
        /** Schema ibex itself (its log included) is missing: dropped, or the database restored without it. */
        SCHEMA_GONE("capture objects gone"),
        GONE("gone"),
        /** Renamed or dropped: the capture function still names it, so every write to the table fails. */
        KEY_GONE("key column renamed or dropped"),
        KEY_TYPE("key type changed"),
        TRIGGER("trigger dropped or disabled"),
        ATTACHED("attached as a partition or child");

        private final String label;

        Cause(String label) {
            this.label = label;
        }
    }

    /** One captured table that does not log its writes as captured, and why. */
    public record Unlogged(String table, Cause cause) {
        @Override
        public String toString() {
            return table + " (" + cause.label + ")";
        }
    }

    private CaptureCheck() {
    }

    /**
     * The source's captured tables that do not log every write; one {@link Cause#SCHEMA_GONE} when
     * the source has no capture objects at all (yet, or any more).
     */
    public static List<Unlogged> unlogged(DbPools pools, Db source) {
        List<Unlogged> out = new ArrayList<>();
        try (Connection c = pools.connection(source); PreparedStatement ps = c.prepareStatement(UNLOGGED);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Unlogged(rs.getString(1), Cause.valueOf(rs.getString(2))));
            }
        } catch (SQLException e) {
            if (SqlState.UNDEFINED_TABLE.is(e)) {
                // not installed yet, or gone since: the caller knows whether the source should have it
                return List.of(new Unlogged("schema ibex", Cause.SCHEMA_GONE));
            }
            throw PgErrors.failed("Checking the capture triggers on db \"" + source.name() + "\"", e);
        }
        return out;
    }
}
