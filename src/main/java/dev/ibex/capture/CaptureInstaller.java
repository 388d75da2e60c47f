package dev.ibex.capture;

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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The DDL work of one reconcile, in the caller's transaction on the source. */
final class CaptureInstaller {

    /** Whether anything but the repository's objects depends on schema ibex. */
    static final String SCHEMA_USED = """
            SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_namespace n ON n.oid = d.refobjid
            WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass AND n.nspname = 'ibex' LIMIT 1""";

    private final Connection c;
    private final Db source;
    private final CaptureCatalog catalog;
    private final CaptureRegistry registry;
    private ServerVersion version;
    private String working = "schema ibex";
    /** Whether the work under way takes capture away: then a refusal is about owning the table. */
    private boolean removing;

    CaptureInstaller(Connection c, Db source) {
        this.c = c;
        this.source = source;
        this.catalog = new CaptureCatalog(c);
        this.registry = new CaptureRegistry(c, catalog, source.name());
    }

    /**
     * What a reconcile changes: tables to (re)capture, tables to give up, captured tables whose
     * key column is gone (whose triggers go), and whether schema ibex goes.
     */
    private record Plan(List<CapturedTable> changed, List<LoggedTable> stale, List<CapturedTable> keyGone,
            boolean dropSchema) {
        boolean nothing() {
            return changed.isEmpty() && stale.isEmpty() && keyGone.isEmpty() && !dropSchema;
        }
    }

    /** @param beforeChange runs once it is clear that something on the source changes, before it does */
    void install(List<CapturedTable> desired, Runnable beforeChange) throws SQLException {
        try {
            version = ServerVersion.of(c);
            version.requireSupportedSource(source.name());
            // before 9.3 only statement_timeout bounds a wait; every statement here is short
            String timeout = version.has(SqlFeature.LOCK_TIMEOUT) ? "lock_timeout" : "statement_timeout";
            exec("SET LOCAL " + timeout + " = " + Identifiers.literal(LOCK_TIMEOUT));
            Map<String, LoggedTable> current = registry.registered();
            boolean oldLog = !current.isEmpty() && !catalog.hasColumn("log", "origin");
            Plan plan = plan(desired, current);
            if (plan.nothing() && !oldLog) {
                return; // already as wanted: take no lock at all, so a busy source is not disturbed
            }
            beforeChange.run();
            if (!plan.nothing()) {
                if (!desired.isEmpty()) {
                    Plpgsql.ensure(c, source.name());
                }
                lockAll(plan, current);
            }
            // after the tables' locks: a writer holds its table's before it waits for ibex.log's
            if (oldLog) {
                addLogColumns(current);
            }
            apply(plan, current, !desired.isEmpty());
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    private Plan plan(List<CapturedTable> desired, Map<String, LoggedTable> current) throws SQLException {
        List<CapturedTable> changed = new ArrayList<>();
        List<CapturedTable> keyGone = new ArrayList<>();
        Set<String> keep = new HashSet<>();
        for (CapturedTable t : desired) {
            LoggedTable registered = current.get(CapturedTable.key(t.schema(), t.table()));
            keep.add(CapturedTable.key(t.schema(), t.table()));
            if (inPlace(t, registered)) {
                continue;
            }
            long oid = catalog.tableOid(t.schema(), t.table());
            if (registered != null && oid != 0 && !KeyTypes.of(c, oid, t.keys()).byName().keySet().containsAll(t.keys())) {
                // renamed or dropped since: its function still names it, and every write to the table fails
                if (!catalog.triggers(oid).isEmpty()) {
                    keyGone.add(t);
                }
                continue;
            }
            changed.add(t);
        }
        List<LoggedTable> stale = current.entrySet().stream().filter(e -> !keep.contains(e.getKey()))
                .map(Map.Entry::getValue).toList();
        return new Plan(changed, stale, keyGone, desired.isEmpty() && catalog.schemaExists());
    }

    private void apply(Plan plan, Map<String, LoggedTable> current, boolean captures) throws SQLException {
        if (captures) {
            createSchema();
        }
        for (CapturedTable t : plan.changed()) {
            working = "table " + t.display();
            capture(t, current.get(CapturedTable.key(t.schema(), t.table())));
        }
        removing = true;
        for (LoggedTable r : plan.stale()) {
            working = "table " + r.display();
            uncapture(r);
        }
        for (CapturedTable t : plan.keyGone()) {
            working = "table " + t.display();
            exec(CaptureSql.dropTriggers().fill(Map.of("table", Identifiers.qualified(t.schema(), t.table()))));
        }
        if (plan.dropSchema()) {
            working = "schema ibex";
            dropSchemaObjects();
        }
    }

    private IbexException failure(SQLException e) {
        if (SqlState.LOCK_NOT_AVAILABLE.is(e) || SqlState.QUERY_CANCELED.is(e)) {
            return new IbexException(IbexException.DATABASE, capitalized(working) + " on db \"" + source.name()
                    + "\" is busy: other transactions kept it locked for " + LOCK_TIMEOUT
                    + ": retry when it is quieter (long transactions on it block adding or removing capture)",
                    PgErrors.firstLine(e.getMessage()), e);
        }
        if (removing && SqlState.INSUFFICIENT_PRIVILEGE.is(e)) {
            // PostgreSQL lets only a table's owner drop its triggers, though TRIGGER let ibex create them
            return new IbexException(IbexException.DATABASE, "Removing the capture of " + working + " on db \""
                    + source.name() + "\" failed: " + PgErrors.firstLine(e.getMessage()) + ": only the owner may "
                    + "drop its triggers, so run this with the db's user= set to the owner, or have the owner run "
                    + "DROP SCHEMA ibex CASCADE there (when no other sync reads from it) and run this again; nothing "
                    + "was changed", null, e);
        }
        return new IbexException(IbexException.DATABASE, (removing ? "Removing the capture of " : "Capturing ")
                + working + " on db \"" + source.name() + "\" failed: " + PgErrors.firstLine(e.getMessage()), null, e);
    }

    /** Whether a table's capture objects already match: then it needs no DDL and no lock. */
    private boolean inPlace(CapturedTable t, LoggedTable registered) throws SQLException {
        if (registered == null || !registered.keycols().equals(t.keys())) {
            return false;
        }
        long oid = catalog.tableOid(t.schema(), t.table());
        if (oid == 0) {
            return false;
        }
        KeyTypes types = KeyTypes.of(c, oid, t.keys());
        if (!types.names().equals(registered.keytypes()) || types.textSafe() == registered.ownDelta()
                || (registered.ownDelta() && !catalog.deltaColumns(registered.delta()).equals(t.keys()))) {
            return false;
        }
        Set<String> wanted = new HashSet<>(shape(oid).triggers());
        wanted.add(TRUNCATE_TRIGGER);
        return catalog.triggers(oid).equals(wanted);
    }

    /**
     * Whether the table's triggers may have let writes go unlogged: the truncate trigger or the
     * change triggers of both shapes are missing (or disabled), or it has the statement shape while
     * it needs the row one (it became a partition or child: its parent's deletes fired nothing).
     */
    private boolean missedWrites(long oid, TriggerShape wanted) throws SQLException {
        Set<String> firing = catalog.triggers(oid);
        boolean logging = firing.contains(TRUNCATE_TRIGGER)
                && Arrays.stream(TriggerShape.values()).anyMatch(s -> firing.containsAll(s.triggers()));
        return !logging || (wanted == TriggerShape.ROW && firing.containsAll(TriggerShape.STATEMENT.triggers()));
    }

    private TriggerShape shape(long oid) throws SQLException {
        // an older source is not asked whether the table is standalone: it gets the row trigger anyway
        return TriggerShape.of(version, version.has(SqlFeature.TRANSITION_TABLES) && catalog.standalone(oid));
    }

    /** Capture installed before ibex.log had ts and origin (log_columns.sql). */
    private void addLogColumns(Map<String, LoggedTable> current) throws SQLException {
        working = "ibex.log";
        exec(CaptureSql.get("log_columns.sql").text());
        for (LoggedTable t : current.values()) {
            if (t.ownDelta() && !catalog.hasColumn(t.delta(), "ibex_origin")) {
                exec(CaptureSql.get("log_delta_columns.sql").fill(Map.of("delta", Identifiers.quote(t.delta()))));
            }
        }
    }

    /** Locks the tables the DDL will touch (see {@link CaptureLocks}), naming them should it fail. */
    private void lockAll(Plan plan, Map<String, LoggedTable> current) throws SQLException {
        CaptureLocks locks = new CaptureLocks(c, catalog);
        for (CapturedTable t : plan.changed()) {
            locks.add(t.schema(), t.table());
            LoggedTable was = current.get(CapturedTable.key(t.schema(), t.table()));
            if (was != null && was.ownDelta()) {
                locks.add("ibex", was.delta());
            }
        }
        for (LoggedTable r : plan.stale()) {
            locks.add(r.schema(), r.table());
            if (r.ownDelta()) {
                locks.add("ibex", r.delta());
            }
        }
        for (CapturedTable t : plan.keyGone()) {
            locks.add(t.schema(), t.table());
        }
        locks.add("ibex", "truncate_log");
        List<String> shown = locks.shown();
        if (!shown.isEmpty()) {
            working = shown.size() == 1 ? "table " + shown.get(0) : "tables " + String.join(", ", shown);
        }
        locks.lock();
    }

    /**
     * Creates or replaces the table's capture function and triggers. A table captured anew, or
     * under another key or key type, gets a new number in ibex.log (rows logged under the old
     * one are left to the purge) and a logged truncate: every sync whose S_prev is older copies it
     * whole once, since its changes before now were not logged in the new form. A change of
     * trigger shape alone keeps the number: the table is locked while its triggers are swapped.
     * A registered table that lacked a trigger (dropped or disabled by hand, or the table dropped
     * and made anew) took writes nobody logged, and one captured by statement triggers that has
     * become a partition or child since missed the deletes made through its parent (which fire no
     * statement trigger of it): either is copied whole once too.
     */
    private void capture(CapturedTable t, LoggedTable was) throws SQLException {
        long oid = catalog.tableOid(t.schema(), t.table());
        KeyTypes types = checkedKeyTypes(t, oid);
        String delta = types.textSafe() ? null : t.delta();
        boolean same = was != null && was.keycols().equals(t.keys()) && was.keytypes().equals(types.names())
                && Objects.equals(was.delta(), delta) && (delta == null || catalog.deltaColumns(delta).equals(t.keys()));
        if (was != null && was.ownDelta() && !same) {
            dropDelta(was.delta());
        }
        int tab = same ? was.tab() : registry.register(t, types, delta);
        TriggerShape shape = shape(oid);
        if (!same || missedWrites(oid, shape)) {
            registry.logTruncate(t);
        }
        Map<String, String> n = TemplateValues.of(t, types, tab);
        if (delta != null && catalog.deltaColumns(delta).isEmpty()) {
            exec(CaptureSql.deltaTable().fill(n));
        }
        exec(shape.function(delta != null).fill(n));
        // every trigger anew (the table is locked): one disabled by hand, or of the other shape, goes
        exec(CaptureSql.dropTriggers().fill(n));
        exec(shape.triggerDdl().fill(n));
        exec(CaptureSql.truncateTrigger().fill(n));
    }

    /** The key's types; refuses a missing table or key column, and a typed key column named txid. */
    private KeyTypes checkedKeyTypes(CapturedTable t, long oid) throws SQLException {
        if (oid == 0) {
            throw IbexException.badInput("Table " + t.display() + " does not exist on db \"" + source.name()
                    + "\": create it there, or remove it from its relgroup");
        }
        KeyTypes types = KeyTypes.of(c, oid, t.keys());
        for (String k : t.keys()) {
            if (!types.byName().containsKey(k)) {
                throw IbexException.badInput("Table " + t.display() + " on db \"" + source.name()
                        + "\" has no key column \"" + k + "\" (renamed or dropped since it was added): name it back, "
                        + "or take the table out ('ibex remove table " + t.display() + " --force') and add it again");
            }
            if (Set.of("txid", "ibex_ts", "ibex_origin").contains(k) && !types.textSafe()) {
                throw IbexException.badInput("Table " + t.display() + " has a key column named " + k + ", which ibex's "
                        + "delta table uses itself: such a table cannot be captured yet");
            }
        }
        return types;
    }

    /**
     * Schema ibex and its shared objects, each made only when missing: one path for every version
     * (IF NOT EXISTS is 9.1 to 9.5, depending on the object).
     */
    private void createSchema() throws SQLException {
        if (!catalog.schemaExists()) {
            exec(CaptureSql.namespace());
        }
        if (catalog.tableOid("ibex", "captured") == 0) {
            exec(CaptureSql.schema());
        }
    }

    private void uncapture(LoggedTable r) throws SQLException {
        if (catalog.tableOid(r.schema(), r.table()) != 0) {
            exec(CaptureSql.dropTriggers().fill(Map.of("table", Identifiers.qualified(r.schema(), r.table()))));
        }
        String function = new CapturedTable(r.schema(), r.table(), r.keycols()).function();
        exec(CaptureSql.dropTable().fill(Map.of("function", Identifiers.quote(function))));
        if (r.ownDelta()) {
            dropDelta(r.delta());
        }
        registry.unregister(r.schema(), r.table());
    }

    /** Drops what schema.sql made, then the schema if nothing else (the repository, say) lives in it. */
    private void dropSchemaObjects() throws SQLException {
        exec(CaptureSql.dropSchema().text());
        // DROP SCHEMA would lock every object left in it (the repository's, say) before refusing
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(SCHEMA_USED)) {
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

    private void dropDelta(String delta) throws SQLException {
        exec(CaptureSql.dropDelta().fill(Map.of("delta", Identifiers.quote(delta))));
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
