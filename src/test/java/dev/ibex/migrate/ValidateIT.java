package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValidateIT {

    private static final String TABLE = "CREATE TABLE public.items (id int PRIMARY KEY, name text, price numeric(10,2))";

    private static Model pair(TestDb source, TestDb target) {
        return ReplicaSet.on(source, target).model();
    }

    /** Sync "s1" over public.items, created alike on {@code source} and {@code target}. */
    private static Model items(TestDb source, TestDb target) {
        source.exec(TABLE);
        target.exec(TABLE);
        return pair(source, target).sync("s1", "src", List.of("dst"), "public.items:id");
    }

    /** ibex validate with {@code args}, which must end with {@code exit}. */
    private static Cli.Result validate(Model m, int exit, String... args) {
        Cli.Result r = m.run(Cli.args(new String[] {"validate"}, args));
        assertEquals(exit, r.exit(), r.toString());
        return r;
    }

    /** Lines of the output that start with the given status and mention the check. */
    private static List<String> lines(Cli.Result r, String status, String check) {
        return r.out().lines().filter(l -> l.startsWith(status + " ") && l.substring(6).startsWith(check + " ")).toList();
    }

    private static void assertLine(Cli.Result r, String status, String check, String... fragments) {
        List<String> lines = lines(r, status, check);
        assertTrue(lines.stream().anyMatch(l -> List.of(fragments).stream().allMatch(l::contains)),
                "expected a " + status + " " + check + " line with " + List.of(fragments) + "\n" + r);
    }

    private static void assertNoLine(Cli.Result r, String status, String check) {
        assertTrue(lines(r, status, check).isEmpty(), "unexpected " + status + " " + check + "\n" + r);
    }

    @Test
    void everyCheckPassesOnAGoodPair() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        Model m = items(source, target);

        Cli.Result r = validate(m, 0);
        for (String check : List.of("connection", "same-database", "version", "extensions", "languages", "tables",
                "keys", "constraints", "identifiers", "privileges", "suppression", "source-version", "plpgsql", "large-objects", "size")) {
            assertLine(r, "PASS", check);
        }
        assertTrue(r.out().lines().noneMatch(l -> l.startsWith("FAIL") || l.startsWith("WARN")), r.toString());
        if (source.version().atLeast(90600)) { // pg_control_system()
            assertTrue(r.out().contains("compared by system identifier and database oid"), r.toString());
        }
        assertTrue(r.out().contains("via superuser"), r.toString());

        Cli.Result json = validate(m, 0, "all", "--json");
        assertTrue(json.out().strip().startsWith("[{\"sync\":\"s1\",\"check\":\"connection\",\"status\":\"PASS\","),
                json.toString());
        assertTrue(json.out().contains("\"check\":\"suppression\",\"status\":\"PASS\""), json.toString());
        assertTrue(json.out().contains("\"fix\":null"), json.toString());
    }

    @Test
    void targetOlderThanSourceFails() {
        TestDb source = PgServers.database("default");
        TestDb target = PgServers.database("9.6.24");
        Model m = items(source, target);

        Cli.Result r = validate(m, 1, "s1");
        assertLine(r, "FAIL", "version", "runs PostgreSQL 9.6", "use a target server at PostgreSQL 17 or newer");
        assertLine(r, "PASS", "tables");
        assertLine(r, "PASS", "suppression");

        Cli.Result json = validate(m, 1, "s1", "--json");
        assertTrue(json.out().contains("\"check\":\"version\",\"status\":\"FAIL\""), json.toString());
    }

    @Test
    void newerTargetPasses() {
        TestDb source = PgServers.database("9.6.24");
        TestDb target = PgServers.database("default");
        Model m = items(source, target);
        Cli.Result r = validate(m, 0);
        assertLine(r, "PASS", "version", "runs PostgreSQL 17", "runs 9.6");
    }

    @Test
    void columnsMissingDifferingOrRequiredOnTheTargetFail() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        source.exec(TABLE, "CREATE TABLE public.other (id int PRIMARY KEY, a int)",
                "CREATE TABLE public.third (id int PRIMARY KEY)", "CREATE TABLE public.gone (id int PRIMARY KEY)");
        target.exec("CREATE TABLE public.items (id int PRIMARY KEY, name text)",
                "CREATE TABLE public.other (id int PRIMARY KEY, a bigint, b int NOT NULL)",
                "CREATE TABLE public.third (id int PRIMARY KEY, note text)");
        Model m = pair(source, target).sync("s1", "src", List.of("dst"), "public.items:id", "public.other:id",
                "public.third:id", "public.gone:id");

        Cli.Result r = validate(m, 1);
        assertLine(r, "FAIL", "tables", "public.items", "lacks column(s) price", "ADD COLUMN");
        assertLine(r, "FAIL", "tables", "public.other", "a is bigint on the target, integer on the source");
        assertLine(r, "FAIL", "tables", "public.other", "NOT NULL column(s) without default", "b");
        assertLine(r, "WARN", "tables", "public.third", "extra column(s) note");
        assertLine(r, "FAIL", "tables", "public.gone does not exist on target db dst", "ibex copy schema src dst");
        assertNoLine(r, "PASS", "tables");
    }

    @Test
    void keylessTableFailsForDeltaTargetsOnly() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        source.exec("CREATE TABLE public.log (at timestamptz, line text)");
        target.exec("CREATE TABLE public.log (at timestamptz, line text)");
        Model m = pair(source, target).sync("s1", "src", List.of("dst"), "public.log:");
        Cli.Result r = validate(m, 1);
        assertLine(r, "FAIL", "keys", "public.log has no primary key", "fullcopy");

        TestDb full = PgServers.target();
        full.exec("CREATE TABLE public.log (at timestamptz, line text)");
        m.db("full", full).sync("s2", "src", List.of("full:fullcopy"), "public.log:");
        Cli.Result r2 = validate(m, 0, "s2");
        assertLine(r2, "PASS", "keys", "no delta targets");
    }

    @Test
    void notValidCheckOnTheTargetWarns() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        source.exec("CREATE TABLE public.items (id int PRIMARY KEY, qty int)", "INSERT INTO public.items VALUES (1, -5)");
        target.exec("CREATE TABLE public.items (id int PRIMARY KEY, qty int)",
                "ALTER TABLE public.items ADD CONSTRAINT \"Qty positive\" CHECK (qty > 0) NOT VALID");
        Model m = pair(source, target).sync("s1", "src", List.of("dst"), "public.items:id");
        Cli.Result r = validate(m, 0);
        assertLine(r, "WARN", "constraints", "public.items (\"Qty positive\")", "VALIDATE CONSTRAINT");

        target.exec("ALTER TABLE public.items DROP CONSTRAINT \"Qty positive\"");
        assertLine(m.run("validate"), "PASS", "constraints");
    }

    @Test
    void extensionMissingOnTargetFailsAndNotCreatedWarns() {
        TestDb source = PgServers.database("9.6.24");
        TestDb target = PgServers.database("default");
        // chkpass left PostgreSQL in version 11: a 17 server cannot have it
        source.exec(TABLE, "CREATE EXTENSION chkpass", "CREATE EXTENSION citext");
        target.exec(TABLE);
        Model m = pair(source, target).sync("s1", "src", List.of("dst"), "public.items:id");
        Cli.Result r = validate(m, 1);
        assertLine(r, "FAIL", "extensions", "lacks extension(s)", "chkpass");
        assertLine(r, "WARN", "extensions", "citext", "available on target db dst but not created");

        target.exec("CREATE EXTENSION citext");
        source.exec("DROP EXTENSION chkpass");
        Cli.Result ok = validate(m, 0);
        assertLine(ok, "PASS", "extensions", "has citext");
    }

    @Test
    void nonSuperuserTargetNeedsASuppressionRoute() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        String user = "plain_" + target.name();
        source.exec(TABLE);
        target.exec(TABLE, "CREATE ROLE " + user + " LOGIN",
                "GRANT INSERT, DELETE, TRUNCATE ON public.items TO " + user);
        Model m = Model.create().db("src", source).db("dst", target, user, null)
                .sync("s1", "src", List.of("dst"), "public.items:id");

        Cli.Result r = validate(m, 1);
        assertLine(r, "FAIL", "suppression", "cannot set session_replication_role", "GRANT SET ON PARAMETER",
                "aiven_extras", "rds_session_replication_role");
        assertLine(r, "PASS", "privileges", "on target db dst has INSERT, DELETE, TRUNCATE");

        // Aiven's way: a SECURITY DEFINER wrapper owned by a superuser
        target.exec("CREATE SCHEMA aiven_extras", "GRANT USAGE ON SCHEMA aiven_extras TO " + user,
                "CREATE FUNCTION aiven_extras.session_replication_role(arg text) RETURNS text LANGUAGE plpgsql "
                + "SECURITY DEFINER SET search_path = pg_catalog AS $$ BEGIN "
                + "RETURN pg_catalog.set_config('session_replication_role', arg, false); END $$");
        Cli.Result aiven = validate(m, 0);
        assertLine(aiven, "PASS", "suppression", "aiven_extras.session_replication_role(text)");

        // PostgreSQL 15+: the parameter privilege comes first
        target.exec("GRANT SET ON PARAMETER session_replication_role TO " + user);
        Cli.Result granted = validate(m, 0);
        assertLine(granted, "PASS", "suppression", "SET privilege on session_replication_role");
    }

    @Test
    void nonSuperuserLacksTablePrivileges() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        String user = "reader_" + source.name();
        source.exec(TABLE, "CREATE ROLE " + user + " LOGIN", "REVOKE CREATE ON DATABASE " + source.name() + " FROM PUBLIC",
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        target.exec(TABLE, "CREATE ROLE " + "writer_" + source.name() + " LOGIN",
                "GRANT INSERT ON public.items TO writer_" + source.name());
        Model m = Model.create().db("src", source, user, null).db("dst", target, "writer_" + source.name(), null)
                .sync("s1", "src", List.of("dst"), "public.items:id");
        Cli.Result r = validate(m, 1);
        assertLine(r, "FAIL", "privileges", "on source db src lacks SELECT/UPDATE/TRIGGER on public.items", "GRANT SELECT, UPDATE, TRIGGER");
        assertLine(r, "FAIL", "privileges", "may not create schema ibex on source db src", "GRANT CREATE ON DATABASE");
        assertLine(r, "FAIL", "privileges", "on target db dst lacks DELETE/TRUNCATE on public.items");

        source.exec("GRANT SELECT, UPDATE, TRIGGER ON public.items TO " + user, "CREATE SCHEMA ibex AUTHORIZATION " + user);
        Cli.Result fixed = m.run("validate");
        assertLine(fixed, "PASS", "privileges", "on source db src has SELECT, UPDATE, TRIGGER");
        assertLine(fixed, "PASS", "privileges", "schema ibex on source db src exists and belongs to \"" + user + "\"");
    }

    @Test
    void sameDatabaseTwiceFails() {
        TestDb source = PgServers.source();
        source.exec(TABLE);
        Model m = pair(source, source).sync("s1", "src", List.of("dst"), "public.items:id");
        Cli.Result r = validate(m, 1);
        assertLine(r, "FAIL", "same-database", "are the same database", "ibex update db dst");
    }

    @Test
    void largeObjectsAndLongNamesWarn() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        String longName = "a_table_name_that_is_rather_long_for_its_own_good_indeed_x";
        String ddl = "CREATE TABLE public." + longName + " (id int PRIMARY KEY)";
        // with a page of data: before 9.0 a large object exists only as its pages in pg_largeobject
        source.exec(ddl, "SELECT lowrite(lo_open(lo_create(0), 131072), 'data')");
        target.exec(ddl);
        Model m = pair(source, target).sync("s1", "src", List.of("dst"), "public." + longName + ":id");
        Cli.Result r = validate(m, 0);
        assertLine(r, "WARN", "large-objects", "holds 1 large object(s)", "not replicate");
        assertLine(r, "WARN", "identifiers", "public." + longName + " -> delta_public_");
        assertLine(r, "PASS", "size", "source db src is");
    }

    @Test
    void unreachableDbFailsAndTheOtherChecksStillRun() {
        TestDb source = PgServers.source();
        source.exec(TABLE);
        Model m = Model.create().db("src", source).unreachableDb("dst").sync("s1", "src", List.of("dst"), "public.items:id");
        Cli.Result r = validate(m, 1);
        assertLine(r, "FAIL", "connection", "Cannot connect to dst at 127.0.0.1:1", "ibex update db dst");
        assertLine(r, "PASS", "connection", "db src");
        assertLine(r, "PASS", "privileges", "source db src");
        assertLine(r, "PASS", "large-objects");
    }

    @Test
    void unknownSyncIsOneLine() {
        Model m = Model.create();
        Cli.Result r = validate(m, 1, "nosuch");
        assertTrue(r.err().contains("No sync named \"nosuch\""), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.toString());
    }
}
