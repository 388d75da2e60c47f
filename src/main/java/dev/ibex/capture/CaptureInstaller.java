package dev.ibex.capture;

import static dev.ibex.capture.Capture.CAPTURE_TRIGGER;
import static dev.ibex.capture.Capture.LOCK_TIMEOUT;
import static dev.ibex.capture.Capture.TRUNCATE_TRIGGER;

import dev.ibex.IbexException;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
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
            Map<String, String[]> current = registered();
            List<CapturedTable> changed = new ArrayList<>();
            Set<String> keep = new HashSet<>();
            for (CapturedTable t : desired) {
                keep.add(key(t.schema(), t.table()));
                if (!inPlace(t, current.get(key(t.schema(), t.table())))) {
                    changed.add(t);
                }
            }
            List<String[]> stale = current.entrySet().stream().filter(e -> !keep.contains(e.getKey()))
                    .map(Map.Entry::getValue).toList();
            boolean dropSchema = desired.isEmpty() && schemaExists();
            if (changed.isEmpty() && stale.isEmpty() && !dropSchema) {
                return; // already as wanted: take no lock at all, so a busy source is not disturbed
            }
            if (!desired.isEmpty()) {
                Plpgsql.ensure(c, source.name());
            }
            lockAll(changed, stale);
            if (!desired.isEmpty()) {
                createSchema();
            }
            for (CapturedTable t : changed) {
                working = "table " + t.display();
                capture(t);
            }
            for (String[] r : stale) {
                working = "table " + r[0] + "." + r[1];
                uncapture(r[0], r[1], r[2], r[3]);
            }
            if (dropSchema) {
                working = "schema ibex";
                dropSchemaObjects();
            }
        } catch (SQLException e) {
            if ("55P03".equals(e.getSQLState()) || "57014".equals(e.getSQLState())) {
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
    private boolean inPlace(CapturedTable t, String[] registered) throws SQLException {
        if (registered == null || !registered[2].equals(t.delta()) || !registered[3].equals(t.function())) {
            return false;
        }
        long oid = tableOid(t.schema(), t.table());
        if (oid == 0 || !deltaColumns(t.delta()).equals(t.keys())) {
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
    private void lockAll(List<CapturedTable> changed, List<String[]> stale) throws SQLException {
        Map<String, String> names = new java.util.TreeMap<>(); // quoted name -> schema.table
        for (CapturedTable t : changed) {
            addIfExists(names, t.schema(), t.table());
            addIfExists(names, "ibex", t.delta());
        }
        for (String[] r : stale) {
            addIfExists(names, r[0], r[1]);
            addIfExists(names, "ibex", r[2]);
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
                if (!"55P03".equals(e.getSQLState()) || System.nanoTime() > deadline) {
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

    private void capture(CapturedTable t) throws SQLException {
        long oid = tableOid(t.schema(), t.table());
        if (oid == 0) {
            throw IbexException.badInput("Table " + t.display() + " does not exist on db \"" + source.name()
                    + "\": create it there, or remove it from its relgroup");
        }
        Map<String, String> types = keyTypes(oid, t.keys());
        for (String k : t.keys()) {
            if (!types.containsKey(k)) {
                throw IbexException.badInput("Table " + t.display() + " on db \"" + source.name()
                        + "\" has no key column \"" + k + "\": update the relation's key columns");
            }
            if ("txid".equals(k)) {
                throw IbexException.badInput("Table " + t.display() + " has a key column named txid, which ibex's "
                        + "delta table uses itself: such a table cannot be captured yet");
            }
        }
        List<String> deltaColumns = deltaColumns(t.delta());
        if (!deltaColumns.isEmpty() && !deltaColumns.equals(t.keys())) {
            // the key changed: the old delta table cannot hold the new key
            exec("DROP TABLE ibex." + Identifiers.quote(t.delta()));
        }
        if (!deltaColumns.equals(t.keys())) {
            // A new delta table knows nothing of changes made before it (while the table was not
            // captured, or under the old key): logging a truncate makes every sync whose S_prev
            // is older copy the table whole once; snapshots seeded from now on already see it.
            logTruncate(t);
        }
        Map<String, String> n = names(t, types);
        if (!deltaColumns.equals(t.keys())) {
            exec(CaptureSql.table().fill(n));
        }
        exec(CaptureSql.captureFunction().fill(n));
        Set<String> triggers = triggers(oid);
        if (!triggers.contains(CAPTURE_TRIGGER)) {
            exec("DROP TRIGGER IF EXISTS " + CAPTURE_TRIGGER + " ON " + t.quoted()); // disabled by hand
            exec(CaptureSql.captureTrigger().fill(n));
        }
        if (!triggers.contains(TRUNCATE_TRIGGER)) {
            exec("DROP TRIGGER IF EXISTS " + TRUNCATE_TRIGGER + " ON " + t.quoted());
            exec(CaptureSql.truncateTrigger().fill(n));
        }
        register(t);
    }

    /** Records the table's objects in ibex.captured (no ON CONFLICT before 9.5; the tables are locked). */
    private void register(CapturedTable t) throws SQLException {
        try (PreparedStatement up = c.prepareStatement(
                "UPDATE ibex.captured SET delta = ?, function = ? WHERE schemaname = ? AND tablename = ?")) {
            up.setString(1, t.delta());
            up.setString(2, t.function());
            up.setString(3, t.schema());
            up.setString(4, t.table());
            if (up.executeUpdate() > 0) {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO ibex.captured (schemaname, tablename, delta, function) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.table());
            ps.setString(3, t.delta());
            ps.setString(4, t.function());
            ps.executeUpdate();
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

    private void uncapture(String schema, String table, String delta, String function) throws SQLException {
        String quoted = Identifiers.qualified(schema, table);
        if (tableOid(schema, table) != 0) {
            for (String trigger : List.of(CAPTURE_TRIGGER, TRUNCATE_TRIGGER)) {
                exec("DROP TRIGGER IF EXISTS " + trigger + " ON " + quoted);
            }
        }
        exec(CaptureSql.dropTable().fill(Map.of("delta", Identifiers.quote(delta), "function",
                Identifiers.quote(function))));
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM ibex.captured WHERE schemaname = ? AND tablename = ?")) {
            ps.setString(1, schema);
            ps.setString(2, table);
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
            if (!"2BP01".equals(e.getSQLState())) {
                throw e;
            }
            c.rollback(savepoint);
        }
    }

    private Map<String, String> names(CapturedTable t, Map<String, String> types) {
        Map<String, String> n = new LinkedHashMap<>();
        n.put("table", t.quoted());
        n.put("delta", Identifiers.quote(t.delta()));
        n.put("delta_index", Identifiers.quote(t.deltaIndex()));
        n.put("function", Identifiers.quote(t.function()));
        n.put("key_defs", t.keys().stream().map(k -> Identifiers.quote(k) + " " + types.get(k) + " NOT NULL")
                .collect(Collectors.joining(",\n  ")));
        n.put("keys", Identifiers.quoteList(t.keys()));
        n.put("new_keys", t.keys().stream().map(k -> "NEW." + Identifiers.quote(k)).collect(Collectors.joining(", ")));
        n.put("old_keys", t.keys().stream().map(k -> "OLD." + Identifiers.quote(k)).collect(Collectors.joining(", ")));
        return n;
    }

    private Map<String, String[]> registered() throws SQLException {
        Map<String, String[]> out = new LinkedHashMap<>();
        if (tableOid("ibex", "captured") == 0) {
            return out;
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT schemaname, tablename, delta, function FROM ibex.captured ORDER BY 1, 2")) {
            while (rs.next()) {
                out.put(key(rs.getString(1), rs.getString(2)), new String[] {rs.getString(1), rs.getString(2),
                    rs.getString(3), rs.getString(4)});
            }
        }
        return out;
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

    /** Key column types; a domain is logged as its base type so the domain can still be dropped. */
    private Map<String, String> keyTypes(long oid, List<String> keys) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname,
                       CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                            ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END
                FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY (?)""")) {
            ps.setLong(1, oid);
            ps.setArray(2, c.createArrayOf("text", keys.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return out;
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

    private static String key(String schema, String table) {
        return schema + "\u0000" + table;
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
