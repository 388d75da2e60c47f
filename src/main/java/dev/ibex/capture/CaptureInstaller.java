package dev.ibex.capture;

import static dev.ibex.capture.Capture.CAPTURE_TRIGGER;
import static dev.ibex.capture.Capture.LOCK_TIMEOUT;
import static dev.ibex.capture.Capture.TRUNCATE_TRIGGER;

import dev.ibex.IbexException;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/** The DDL work of one reconcile, in the caller's transaction on the source. */
final class CaptureInstaller {

    private static final long LOCK_WAIT_NANOS = 5_000_000_000L;

    private final Connection c;
    private final Db source;
    private String working = "schema ibex";

    CaptureInstaller(Connection c, Db source) {
        this.c = c;
        this.source = source;
    }

    void install(List<CapturedTable> desired) throws SQLException {
        try {
            ServerVersion version = ServerVersion.of(c);
            version.requireSupportedSource(source.name());
            // before 9.3 only statement_timeout bounds a wait; every statement here is short
            String timeout = version.has(SqlFeature.LOCK_TIMEOUT) ? "lock_timeout" : "statement_timeout";
            exec("SET LOCAL " + timeout + " = " + Identifiers.literal(LOCK_TIMEOUT));
            Map<String, LoggedTable> current = registered();
            List<CapturedTable> changed = new ArrayList<>();
            Set<String> keep = new HashSet<>();
            for (CapturedTable t : desired) {
                keep.add(CapturedTable.key(t.schema(), t.table()));
                if (!inPlace(t, current.get(CapturedTable.key(t.schema(), t.table())))) {
                    changed.add(t);
                }
            }
            List<LoggedTable> stale = current.entrySet().stream().filter(e -> !keep.contains(e.getKey()))
                    .map(Map.Entry::getValue).toList();
            boolean dropSchema = desired.isEmpty() && schemaExists();
            if (changed.isEmpty() && stale.isEmpty() && !dropSchema) {
                return; // already as wanted: take no lock at all, so a busy source is not disturbed
            }
            if (!desired.isEmpty()) {
                Plpgsql.ensure(c, source.name());
            }
            lockAll(changed, stale, current);
            if (!desired.isEmpty()) {
                createSchema();
            }
            for (CapturedTable t : changed) {
                working = "table " + t.display();
                capture(t, current.get(CapturedTable.key(t.schema(), t.table())));
            }
            for (LoggedTable r : stale) {
                working = "table " + r.display();
                uncapture(r);
            }
            if (dropSchema) {
                working = "schema ibex";
                dropSchemaObjects();
            }
        } catch (SQLException e) {
            if (SqlState.LOCK_NOT_AVAILABLE.is(e) || SqlState.QUERY_CANCELED.is(e)) {
                throw new IbexException(IbexException.DATABASE, capitalized(working) + " on db \"" + source.name()
                        + "\" is busy: other transactions kept it locked for " + LOCK_TIMEOUT
                        + ": retry when it is quieter (long transactions on it block adding or removing capture)",
                        PgErrors.firstLine(e.getMessage()), e);
            }
            throw new IbexException(IbexException.DATABASE, "Capturing " + working + " on db \"" + source.name()
                    + "\" failed: " + PgErrors.firstLine(e.getMessage()), null, e);
        }
    }

    /** Whether a table's capture objects already match: then it needs no DDL and no lock. */
    private boolean inPlace(CapturedTable t, LoggedTable registered) throws SQLException {
        if (registered == null || !registered.keycols().equals(t.keys())) {
            return false;
        }
        long oid = tableOid(t.schema(), t.table());
        if (oid == 0) {
            return false;
        }
        KeyTypes types = keyTypes(oid, t.keys());
        if (!types.names().equals(registered.keytypes()) || types.textSafe() == registered.ownDelta()
                || (registered.ownDelta() && !deltaColumns(registered.delta()).equals(t.keys()))) {
            return false;
        }
        Set<String> triggers = triggers(oid);
        return triggers.contains(CAPTURE_TRIGGER) && triggers.contains(TRUNCATE_TRIGGER);
    }

    /**
     * Locks every table the DDL will touch, all at once and without waiting, retrying until
     * lock_timeout. Taking them one by one (as each CREATE TRIGGER would) can deadlock with an
     * application transaction that writes the same tables in another order, and PostgreSQL may
     * then cancel the application's transaction; a NOWAIT attempt that fails holds nothing.
     */
    private void lockAll(List<CapturedTable> changed, List<LoggedTable> stale, Map<String, LoggedTable> current)
            throws SQLException {
        Map<String, String> names = new java.util.TreeMap<>(); // quoted name -> schema.table
        for (CapturedTable t : changed) {
            addIfExists(names, t.schema(), t.table());
            LoggedTable was = current.get(CapturedTable.key(t.schema(), t.table()));
            if (was != null && was.ownDelta()) {
                addIfExists(names, "ibex", was.delta());
            }
        }
        for (LoggedTable r : stale) {
            addIfExists(names, r.schema(), r.table());
            if (r.ownDelta()) {
                addIfExists(names, "ibex", r.delta());
            }
        }
        addIfExists(names, "ibex", "truncate_log");
        if (names.isEmpty()) {
            return;
        }
        List<String> shown = names.values().stream().filter(n -> !n.startsWith("ibex.")).toList();
        working = shown.size() == 1 ? "table " + shown.get(0) : "tables " + String.join(", ", shown);
        String sql = "LOCK TABLE " + String.join(", ", names.keySet()) + " IN ACCESS EXCLUSIVE MODE NOWAIT";
        long deadline = System.nanoTime() + LOCK_WAIT_NANOS;
        while (true) {
            java.sql.Savepoint attempt = c.setSavepoint();
            try {
                exec(sql);
                c.releaseSavepoint(attempt);
                return;
            } catch (SQLException e) {
                c.rollback(attempt);
                if (!SqlState.LOCK_NOT_AVAILABLE.is(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                pause();
            }
        }
    }

    private void addIfExists(Map<String, String> names, String schema, String table) throws SQLException {
        if (tableOid(schema, table) != 0) {
            names.put(Identifiers.qualified(schema, table), schema + "." + table);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20 + java.util.concurrent.ThreadLocalRandom.current().nextInt(80));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Creates or replaces the table's capture function and triggers. A table captured anew, or
     * under another key or key type, gets a new number in ibex.log (rows logged under the old
     * one are left to the purge) and a logged truncate: every sync whose S_prev is older copies it
     * whole once, since its changes before now were not logged in the new form.
     */
    private void capture(CapturedTable t, LoggedTable was) throws SQLException {
        long oid = tableOid(t.schema(), t.table());
        if (oid == 0) {
            throw IbexException.badInput("Table " + t.display() + " does not exist on db \"" + source.name()
                    + "\": create it there, or remove it from its relgroup");
        }
        KeyTypes types = keyTypes(oid, t.keys());
        for (String k : t.keys()) {
            if (!types.byName().containsKey(k)) {
                throw IbexException.badInput("Table " + t.display() + " on db \"" + source.name()
                        + "\" has no key column \"" + k + "\": update the relation's key columns");
            }
            if ("txid".equals(k) && !types.textSafe()) {
                throw IbexException.badInput("Table " + t.display() + " has a key column named txid, which ibex's "
                        + "delta table uses itself: such a table cannot be captured yet");
            }
        }
        String delta = types.textSafe() ? null : t.delta();
        boolean same = was != null && was.keycols().equals(t.keys()) && was.keytypes().equals(types.names())
                && Objects.equals(was.delta(), delta) && (delta == null || deltaColumns(delta).equals(t.keys()));
        if (was != null && was.ownDelta() && !same) {
            exec("DROP TABLE IF EXISTS ibex." + Identifiers.quote(was.delta()));
        }
        int tab = same ? was.tab() : register(t, types, delta);
        if (!same) {
            logTruncate(t);
        }
        Map<String, String> n = names(t, types, tab);
        if (delta != null && deltaColumns(delta).isEmpty()) {
            exec(CaptureSql.deltaTable().fill(n));
        }
        exec((delta == null ? CaptureSql.captureFunction() : CaptureSql.deltaFunction()).fill(n));
        Set<String> triggers = triggers(oid);
        if (!triggers.contains(CAPTURE_TRIGGER)) {
            exec("DROP TRIGGER IF EXISTS " + CAPTURE_TRIGGER + " ON " + t.quoted()); // disabled by hand
            exec(CaptureSql.captureTrigger().fill(n));
        }
        if (!triggers.contains(TRUNCATE_TRIGGER)) {
            exec("DROP TRIGGER IF EXISTS " + TRUNCATE_TRIGGER + " ON " + t.quoted());
            exec(CaptureSql.truncateTrigger().fill(n));
        }
    }

    /** Records the table in ibex.captured under a new number, which it returns (the table is locked). */
    private int register(CapturedTable t, KeyTypes types, String delta) throws SQLException {
        try (PreparedStatement del = c.prepareStatement(
                "DELETE FROM ibex.captured WHERE schemaname = ? AND tablename = ?")) {
            del.setString(1, t.schema());
            del.setString(2, t.table());
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO ibex.captured (schemaname, tablename, keycols, keytypes, delta, function)
                VALUES (?, ?, ?, ?, ?, ?) RETURNING tab""")) {
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

    /**
     * Schema ibex and its shared objects, each made only when missing: one path for every version
     * (IF NOT EXISTS is 9.1 to 9.5, depending on the object).
     */
    private void createSchema() throws SQLException {
        if (!schemaExists()) {
            exec(CaptureSql.namespace());
        }
        if (tableOid("ibex", "captured") == 0) {
            exec(CaptureSql.schema());
        }
    }

    private void uncapture(LoggedTable r) throws SQLException {
        if (tableOid(r.schema(), r.table()) != 0) {
            for (String trigger : List.of(CAPTURE_TRIGGER, TRUNCATE_TRIGGER)) {
                exec("DROP TRIGGER IF EXISTS " + trigger + " ON " + Identifiers.qualified(r.schema(), r.table()));
            }
        }
        String function = new CapturedTable(r.schema(), r.table(), r.keycols()).function();
        exec(CaptureSql.dropTable().fill(Map.of("function", Identifiers.quote(function))));
        if (r.ownDelta()) {
            exec("DROP TABLE IF EXISTS ibex." + Identifiers.quote(r.delta()));
        }
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM ibex.captured WHERE schemaname = ? AND tablename = ?")) {
            ps.setString(1, r.schema());
            ps.setString(2, r.table());
            ps.executeUpdate();
        }
    }

    /** Drops what schema.sql made, then the schema if nothing else (the repository, say) lives in it. */
    private void dropSchemaObjects() throws SQLException {
        exec(CaptureSql.dropSchema().text());
        // DROP SCHEMA would lock every object left in it (the repository's, say) before refusing
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_namespace n ON n.oid = d.refobjid
                WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass AND n.nspname = 'ibex' LIMIT 1""")) {
            if (rs.next()) {
                return;
            }
        }
        var savepoint = c.setSavepoint();
        try {
            exec("DROP SCHEMA ibex");
            c.releaseSavepoint(savepoint);
        } catch (SQLException e) {
            if (!SqlState.DEPENDENT_OBJECTS_STILL_EXIST.is(e)) {
                throw e;
            }
            c.rollback(savepoint);
        }
    }

    private Map<String, String> names(CapturedTable t, KeyTypes types, int tab) {
        Map<String, String> n = new LinkedHashMap<>();
        n.put("table", t.quoted());
        n.put("tab", Integer.toString(tab));
        n.put("delta", Identifiers.quote(t.delta()));
        n.put("delta_index", Identifiers.quote(t.deltaIndex()));
        n.put("function", Identifiers.quote(t.function()));
        n.put("key_defs", t.keys().stream().map(k -> Identifiers.quote(k) + " " + types.byName().get(k) + " NOT NULL")
                .collect(Collectors.joining(",\n  ")));
        n.put("keys", Identifiers.quoteList(t.keys()));
        n.put("new_keys", t.keys().stream().map(k -> "NEW." + Identifiers.quote(k)).collect(Collectors.joining(", ")));
        n.put("old_keys", t.keys().stream().map(k -> "OLD." + Identifiers.quote(k)).collect(Collectors.joining(", ")));
        n.put("log_keys", String.join(", ", ChangeLog.keyColumns(t.keys().size())));
        n.put("new_key", asText("NEW.", t.keys()));
        n.put("old_key", asText("OLD.", t.keys()));
        return n;
    }

    private static String asText(String prefix, List<String> keys) {
        return keys.stream().map(k -> prefix + Identifiers.quote(k) + "::text").collect(Collectors.joining(", "));
    }

    /** ibex.captured as it is, by schema and table; empty when it does not exist yet. */
    private Map<String, LoggedTable> registered() throws SQLException {
        Map<String, LoggedTable> out = new LinkedHashMap<>();
        if (tableOid("ibex", "captured") == 0) {
            return out;
        }
        requireLogLayout();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT tab, schemaname, tablename, keycols, keytypes, delta FROM ibex.captured ORDER BY 2, 3")) {
            while (rs.next()) {
                LoggedTable t = ChangeLog.loggedTable(rs);
                out.put(CapturedTable.key(t.schema(), t.table()), t);
            }
        }
        return out;
    }

    /** Capture made by a development build before the shared log cannot be taken over in place. */
    private void requireLogLayout() throws SQLException {
        if (tableOid("ibex", "log") == 0) {
            throw IbexException.badInput("Capture on db \"" + source.name() + "\" was installed by an earlier "
                    + "development build of ibex (no ibex.log): deactivate its syncs with that build, or drop the "
                    + "ibex_capture triggers and the ibex.captured, ibex.truncate_log and ibex.delta_* tables, "
                    + "then activate again (the tables are copied whole once)");
        }
    }

    private long tableOid(String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')""")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private boolean schemaExists() throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'ibex'")) {
            return rs.next();
        }
    }

    /**
     * The key columns' base types, as format_type writes them (a domain is logged as its base type
     * so the domain can still be dropped), and whether the keys go to ibex.log as text: at most
     * four columns, each one's text reading back as the same value whatever the writer's settings.
     *
     * @param byName the type of each key column, by name
     * @param names  the types in key order
     */
    record KeyTypes(Map<String, String> byName, List<String> names, boolean textSafe) {
    }

    /**
     * Base types whose text form does not depend on a session setting: not dates and times
     * (DateStyle, IntervalStyle, TimeZone), floats (extra_float_digits) or money (lc_monetary).
     * bool, bytea, "char", name, int8, int2, int4, text, oid, cidr, inet, macaddr, bpchar,
     * varchar, bit, varbit, numeric, uuid; and every enum.
     */
    static final String KEY_TYPES = """
            SELECT a.attname, pg_catalog.format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid),
                                                     CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END),
                   b.oid IN (16, 17, 18, 19, 20, 21, 23, 25, 26, 650, 869, 829, 1042, 1043, 1560, 1562, 1700, 2950)
                   OR b.typtype = 'e'
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            JOIN pg_catalog.pg_type b ON b.oid = coalesce(nullif(t.typbasetype, 0), a.atttypid)
            WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY (?)""";

    private KeyTypes keyTypes(long oid, List<String> keys) throws SQLException {
        Map<String, String> byName = new LinkedHashMap<>();
        boolean safe = true;
        try (PreparedStatement ps = c.prepareStatement(KEY_TYPES)) {
            ps.setLong(1, oid);
            ps.setArray(2, c.createArrayOf("text", keys.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byName.put(rs.getString(1), rs.getString(2));
                    safe &= rs.getBoolean(3);
                }
            }
        }
        return new KeyTypes(byName, keys.stream().map(k -> byName.getOrDefault(k, "")).toList(),
                safe && keys.size() <= ChangeLog.KEY_COLUMNS);
    }

    private List<String> deltaColumns(String delta) throws SQLException {
        long oid = tableOid("ibex", delta);
        List<String> out = new ArrayList<>();
        if (oid == 0) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT attname FROM pg_catalog.pg_attribute
                WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped AND attname <> 'txid' ORDER BY attnum""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private void logTruncate(CapturedTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO ibex.truncate_log (schemaname, tablename) VALUES (?, ?)")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.table());
            ps.executeUpdate();
        }
    }

    /** The table's ibex triggers that fire: one disabled by hand counts as missing. */
    private Set<String> triggers(long oid) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT tgname FROM pg_catalog.pg_trigger "
                + "WHERE tgrelid = ? AND tgname LIKE 'ibex\\_%' AND tgenabled <> 'D'")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private void exec(String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
