package dev.ibex;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ibex.controller.ControllerLog;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.ScramServer;
import dev.ibex.test.TestDb;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The security promises: passwords are never shown, whatever path they take; the capture objects
 * on a source let an application's role log its changes and nothing else; ibex's SECURITY DEFINER
 * functions and the RDS shim cannot be steered through search_path.
 */
class SecurityIT {

    /** The password every role of the password test has: it must appear nowhere ibex writes. */
    static final String SENTINEL = "Sentinel-9f3a";
    /** What the target's role's password becomes, so that the stored one (the sentinel) is wrong. */
    static final String ROTATED = "Rotated-7c1e";

    static final Pattern STARTED = Pattern.compile("Started the ibex controller \\(pid (\\d+)\\); log: (.+)");

    static ScramServer server;

    @BeforeAll
    static void passwordServer() {
        server = ScramServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    // ---- 1. passwords are never shown ----------------------------------------------------------

    @Test
    void theSentinelPasswordAppearsNowhere() throws Exception {
        for (String role : List.of("ibex_repo", "ibex_src", "ibex_dst")) {
            server.role(role, SENTINEL);
        }
        server.exec("postgres", "GRANT SET ON PARAMETER session_replication_role TO ibex_dst");
        server.database("pw_repo", "ibex_repo");
        TestDb src = server.database("pw_src", "ibex_src");
        TestDb dst = server.database("pw_dst", "ibex_dst");
        src.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "ALTER TABLE t OWNER TO ibex_src",
                "INSERT INTO t SELECT g, 'before' FROM generate_series(1, 20) g");
        dst.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "ALTER TABLE t OWNER TO ibex_dst");
        TestDb repo = server.db("pw_repo");
        Path piddir = Files.createTempDirectory("ibex-sec-pid");
        Path logDir = Files.createTempDirectory("ibex-sec-log");
        String[] repoOptions = {"--db-host", ScramServer.HOST, "--db-port", Integer.toString(server.port()),
            "--db-name", "pw_repo", "--db-user", "ibex_repo"};
        List<String> seen = new ArrayList<>();
        // the CLI in this JVM: its arguments are not on any process's command line
        java.util.function.Function<String[], Cli.Result> ibex = args -> {
            Cli.Result r = Cli.run(Cli.args(Cli.args(args, repoOptions), "--db-pass", SENTINEL));
            seen.add("ibex " + String.join(" ", args).replace(SENTINEL, "<sentinel>") + "\n" + r);
            return r;
        };
        // bin/ibex in a process of its own, the repository's password in the environment
        java.util.function.Function<String[], Cli.Result> process = args -> {
            Cli.Result r = Cli.process(Map.of("IBEX_DB_PASS", SENTINEL), Cli.args(Cli.args(args, repoOptions),
                    "--piddir", piddir.toString(), "--log-dir", logDir.toString()));
            seen.add("bin/ibex " + String.join(" ", args).replace(SENTINEL, "<sentinel>") + "\n" + r);
            return r;
        };
        String[] where = {"host=" + ScramServer.HOST, "port=" + server.port()};
        Long pid = null;
        try {
            ok(ibex.apply(new String[] {"install", "--batch"}));
            ok(ibex.apply(Cli.args(new String[] {"add", "db", "src", "dbname=pw_src", "user=ibex_src",
                "pass=" + SENTINEL}, where)));
            ok(ibex.apply(Cli.args(new String[] {"add", "db", "dst", "dbname=pw_dst", "user=ibex_dst",
                "pass=" + SENTINEL}, where)));
            Cli.Result wrongAdd = ibex.apply(Cli.args(new String[] {"add", "db", "bad", "dbname=pw_dst",
                "user=ibex_dst", "pass=" + SENTINEL + "x"}, where));
            assertEquals(3, wrongAdd.exit(), wrongAdd.toString());
            ok(ibex.apply(new String[] {"add", "table", "public.t", "db=src", "relgroup=g"}));
            ok(ibex.apply(new String[] {"add", "sync", "s", "relgroup=g", "dbs=src:source,dst:target",
                "onetimecopy=1"}));
            ok(ibex.apply(new String[] {"update", "db", "dst", "pass=Temporary-1", "--force"}));
            ok(ibex.apply(new String[] {"update", "db", "dst", "pass=" + SENTINEL, "--debug"}));
            ok(ibex.apply(new String[] {"update", "db", "dst", "conn=sslmode=disable password=" + SENTINEL, "--force"}));
            ok(ibex.apply(new String[] {"update", "db", "dst", "conn=sslmode=disable", "--force"}));
            ok(ibex.apply(new String[] {"set", "kid_retry_max=2"}));
            ok(ibex.apply(new String[] {"list", "dbs"}));
            ok(ibex.apply(new String[] {"list", "all"}));
            ok(ibex.apply(new String[] {"validate", "s"}));
            ok(ibex.apply(new String[] {"validate", "s", "--json"}));

            Cli.Result start = process.apply(new String[] {"start", "--log-level", "debug"});
            assertEquals(0, start.exit(), start.toString());
            Matcher m = STARTED.matcher(start.out().strip());
            assertTrue(m.matches(), start.toString());
            pid = Long.parseLong(m.group(1));
            src.exec("INSERT INTO t SELECT g, 'while running' FROM generate_series(21, 40) g");
            eventually(Duration.ofSeconds(60), "the target has the source's rows",
                    () -> src.checksum("t", "id").equals(dst.checksum("t", "id")));

            // the process list while the controller runs: java, its options and ibex's, no password
            List<String> commandLines = ProcessHandle.allProcesses()
                    .map(p -> p.info().commandLine().orElse("")).collect(Collectors.toList());
            long controllerPid = pid;
            assertTrue(ProcessHandle.of(controllerPid).flatMap(p -> p.info().commandLine())
                    .map(c -> c.contains("--db-user ibex_repo")).orElse(false), "the controller's command line is read");
            seen.add("ProcessHandle command lines\n" + String.join("\n", commandLines));
            Process ps = new ProcessBuilder("ps", "-eo", "args").redirectErrorStream(true).start();
            String psOut = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            ps.waitFor();
            assertTrue(psOut.contains("--db-user ibex_repo"), "ps shows the controller:\n" + psOut);
            seen.add("ps -eo args\n" + psOut);

            ok(ibex.apply(new String[] {"kick", "s", "60"}));
            ok(ibex.apply(new String[] {"status"}));
            ok(ibex.apply(new String[] {"status", "s"}));
            ok(ibex.apply(new String[] {"status", "--json"}));

            // the target's password changes under ibex: the one it keeps (the sentinel) is now wrong
            server.exec("postgres", "ALTER ROLE ibex_dst PASSWORD '" + ROTATED + "'",
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'ibex_dst'");
            src.exec("INSERT INTO t VALUES (41, 'after the password changed')");
            eventually(Duration.ofSeconds(60), "the sync needs attention",
                    () -> Cli.run(Cli.args(Cli.args(new String[] {"status", "s", "--json"}, repoOptions), "--db-pass",
                            SENTINEL)).out().contains("\"needs_attention\": true"));
            Cli.Result kick = ibex.apply(new String[] {"kick", "s", "60"});
            assertEquals(2, kick.exit(), kick.toString());
            assertTrue(kick.out().contains("KILLED!") && (kick.out() + kick.err()).contains("password authentication failed"),
                    kick.toString());
            Cli.Result status = ibex.apply(new String[] {"status", "s"});
            assertTrue(status.out().contains("Needs attention"), status.toString());
            assertTrue(ibex.apply(new String[] {"status", "s", "--json"}).out().contains("\"sqlstate\": \"28P01\""),
                    seen.get(seen.size() - 1));
            ibex.apply(new String[] {"status", "--json"});
            Cli.Result validate = ibex.apply(new String[] {"validate", "s"});
            assertTrue(validate.exit() != 0 && (validate.out() + validate.err()).contains("password authentication failed"),
                    validate.toString());
            ibex.apply(new String[] {"validate", "s", "--json"});
            ibex.apply(new String[] {"validate", "s", "--debug"});
            ibex.apply(new String[] {"list", "all"});
            // a wrong password given to update is refused and not echoed either
            Cli.Result wrongUpdate = ibex.apply(new String[] {"update", "db", "dst", "pass=" + SENTINEL + "y"});
            assertEquals(3, wrongUpdate.exit(), wrongUpdate.toString());

            // the exceptions ibex makes of the failure, and how it prints the db
            try (Repository r = Repository.open(new ConnectionSpec("repository", ScramServer.HOST, server.port(),
                    "pw_repo", "ibex_repo", SENTINEL, null, null)); DbPools pools = new DbPools()) {
                Db row = r.db("dst").orElseThrow();
                seen.add("Db.toString " + row + "\nspec " + row.spec());
                RuntimeException e = assertThrows(RuntimeException.class, () -> pools.connection(row).close());
                seen.add("exception\n" + stackTrace(e));
                RuntimeException direct = assertThrows(RuntimeException.class, () -> row.spec().connect("test").close());
                seen.add("exception\n" + stackTrace(direct));
            }
            seen.add("ibex.run errors\n" + repo.scalar("SELECT string_agg(coalesce(error, '') || ' ' || coalesce(detail, ''),"
                    + " E'\\n') FROM ibex.run"));
            Cli.Result stopped = process.apply(new String[] {"stop"});
            assertEquals(0, stopped.exit(), stopped.toString());
        } finally {
            if (pid != null) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        String log = Files.readString(ControllerLog.file(logDir));
        assertTrue(log.contains("password authentication failed for user \"ibex_dst\""), "the log has the failure:\n" + log);
        assertTrue(log.contains("DEBUG"), "the controller logged at debug level");
        seen.add("controller log\n" + log);
        try (var files = Files.list(logDir)) {
            for (Path f : files.toList()) {
                seen.add(f + "\n" + Files.readString(f, StandardCharsets.ISO_8859_1));
            }
        }
        for (String s : seen) {
            assertFalse(s.contains(SENTINEL), "the password shows in: " + s);
            assertFalse(s.contains(ROTATED), "the new password shows in: " + s);
        }
        assertTrue(seen.size() > 30, "everything was looked at: " + seen.size());
    }

    private static void ok(Cli.Result r) {
        assertEquals(0, r.exit(), r.toString());
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return t + "\n" + w;
    }

    // ---- 3. the capture objects and PUBLIC ------------------------------------------------------

    @Test
    void aWriterLogsItsChangesButCannotReadOrChangeTheLogs() throws Exception {
        server.role("cap_ibex", "Cap-ibex-1");
        server.role("cap_writer", "Cap-writer-1");
        TestDb src = server.database("cap_src", "cap_ibex");
        src.exec("CREATE TABLE plain (id int PRIMARY KEY, v text)",
                "CREATE TABLE stamped (at timestamp PRIMARY KEY, v text)",
                "ALTER TABLE plain OWNER TO cap_ibex", "ALTER TABLE stamped OWNER TO cap_ibex",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON plain, stamped TO cap_writer");
        Model m = Model.create();
        m.db("src", src, "cap_ibex", "Cap-ibex-1").db("dst", PgServers.target());
        m.sync("a", "src", List.of("dst"), "public.plain:id");
        m.sync("b", "src", List.of("dst"), "public.stamped:at");
        m.capture("src");
        String delta = src.scalar("SELECT delta FROM ibex.captured WHERE tablename = 'stamped'");
        assertNotNull(delta, "a timestamp key gets its own delta table");
        assertEquals("cap_ibex", src.scalar("SELECT tableowner FROM pg_tables WHERE schemaname = 'ibex' AND tablename = 'log'"));
        String deltaTable = "ibex." + Identifiers.quote(delta);
        // ibex's own rows: the install logs each newly captured table as truncated
        String truncates = src.scalar("SELECT count(*) FROM ibex.truncate_log");

        try (Connection c = src.connect("cap_writer", "Cap-writer-1"); Statement st = c.createStatement()) {
            st.execute("INSERT INTO plain SELECT g, 'w' FROM generate_series(1, 10) g");
            st.execute("UPDATE plain SET v = 'u' WHERE id <= 5");
            st.execute("UPDATE plain SET id = 100 WHERE id = 10");
            st.execute("DELETE FROM plain WHERE id <= 2");
            st.execute("INSERT INTO stamped SELECT timestamp '2026-01-01' + g * interval '1 hour', 'w' "
                    + "FROM generate_series(1, 10) g");
            st.execute("UPDATE stamped SET v = 'u' WHERE at < timestamp '2026-01-01 05:00'");
            st.execute("DELETE FROM stamped WHERE at > timestamp '2026-01-01 08:00'");

            List<String> objects = List.of("ibex.log", "ibex.captured", deltaTable, "ibex.truncate_log");
            for (String o : objects) {
                refused(st, "SELECT * FROM " + o);
                refused(st, "SELECT count(*) FROM " + o);
                refused(st, "DELETE FROM " + o);
                refused(st, "TRUNCATE " + o);
            }
            refused(st, "UPDATE ibex.log SET k1 = 'x'");
            refused(st, "UPDATE ibex.log SET txid = 0");
            refused(st, "UPDATE ibex.captured SET delta = NULL");
            refused(st, "UPDATE " + deltaTable + " SET txid = 0");
            refused(st, "UPDATE ibex.truncate_log SET txid = 0");
            // nor write what only ibex writes: the txid of a log row, the capture catalog, a TRUNCATE event
            refused(st, "INSERT INTO ibex.log (txid, tab) VALUES (1, 1)");
            refused(st, "INSERT INTO ibex.captured (schemaname, tablename, keycols, keytypes, function) "
                    + "VALUES ('public', 'x', '{}', '{}', 'f')");
            refused(st, "INSERT INTO ibex.truncate_log (schemaname, tablename) VALUES ('public', 'plain')");
            refused(st, "INSERT INTO " + deltaTable + " (txid) VALUES (1)");
        }
        // every change of the writer was captured (as postgres, who may read the logs)
        int tab = Integer.parseInt(src.scalar("SELECT tab FROM ibex.captured WHERE tablename = 'plain'"));
        assertEquals("1,10,100,2,3,4,5,6,7,8,9", src.scalar("SELECT string_agg(DISTINCT k1, ',' ORDER BY k1) "
                + "FROM ibex.log WHERE tab = " + tab));
        assertEquals("10", src.scalar("SELECT count(DISTINCT at) FROM " + deltaTable));
        assertEquals(truncates, src.scalar("SELECT count(*) FROM ibex.truncate_log"), "no TRUNCATE event from the writer");
        m.close();
    }

    private static void refused(Statement st, String sql) throws SQLException {
        try {
            st.execute(sql);
            fail("allowed to a plain writer: " + sql);
        } catch (SQLException e) {
            assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
        }
    }

    // ---- 4. SECURITY DEFINER functions pin search_path ------------------------------------------

    @Test
    void securityDefinerFunctionsOfIbexPinSearchPath() {
        try (ReplicaSet rs = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v text)",
                "CREATE TABLE s (at timestamptz PRIMARY KEY)")) {
            rs.model().sync("a", "src", List.of("dst"), "public.t:id", "public.s:at").capture("src");
            TestDb src = rs.src();
            TestDb repo = rs.repoDb();
            for (TestDb db : List.of(src, repo)) {
                List<String> definers = db.column("SELECT p.oid::regprocedure || ' ' || coalesce(array_to_string(p.proconfig, '|'), "
                        + "'(none)') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                        + "WHERE n.nspname = 'ibex' AND p.prosecdef ORDER BY 1");
                if (db == src) {
                    assertTrue(definers.stream().anyMatch(d -> d.startsWith("ibex.log_truncate()")), definers.toString());
                }
                for (String d : definers) {
                    assertTrue(d.endsWith(" search_path=pg_catalog, pg_temp"), d);
                }
            }
            // the capture functions run as the writer (no SECURITY DEFINER): nothing to steer
            assertEquals("0", src.scalar("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    + "WHERE n.nspname = 'ibex' AND p.prosecdef AND p.proname <> 'log_truncate'"));
        }
    }

    @Test
    void theRdsShimSetsOnlyTheRoleOnlyForItsGranteeWhateverIsPlanted() throws Exception {
        server.role("shim_user", "Shim-user-1");
        server.role("shim_other", "Shim-other-1");
        TestDb db = server.database("shim", "postgres");
        String shim = Files.readString(Path.of("sql/shims/rds_session_replication_role.sql"))
                .replace(":\"grantee\"", Identifiers.quote("shim_user"));
        db.exec(shim);
        assertEquals("search_path=pg_catalog, pg_temp", db.scalar("SELECT array_to_string(proconfig, '|') FROM pg_proc "
                + "WHERE oid = 'public.rds_session_replication_role(text)'::regprocedure"));
        assertEquals("t", db.scalar("SELECT prosecdef FROM pg_proc WHERE oid = 'public.rds_session_replication_role(text)'::regprocedure"));
        // who may plant functions in public: the grantee itself, the worst case
        db.exec("GRANT CREATE ON SCHEMA public TO shim_user, shim_other");

        try (Connection c = db.connect("shim_other", "Shim-other-1"); Statement st = c.createStatement()) {
            refused(st, "SELECT public.rds_session_replication_role('replica')");
            assertEquals("origin", one(st, "SHOW session_replication_role"));
        }
        try (Connection c = db.connect("shim_user", "Shim-user-1"); Statement st = c.createStatement()) {
            assertEquals("replica", one(st, "SELECT public.rds_session_replication_role('replica')"));
            assertEquals("replica", one(st, "SHOW session_replication_role"));
            assertEquals("origin", one(st, "SELECT public.rds_session_replication_role('origin')"));
            for (String bad : List.of("'REPLICA'", "'replica '", "'off'", "''", "NULL",
                    "'replica'' ; RESET ALL; SELECT ''x'")) {
                try {
                    one(st, "SELECT public.rds_session_replication_role(" + bad + ")");
                    fail("the shim took " + bad);
                } catch (SQLException e) {
                    assertEquals("P0001", e.getSQLState(), bad + ": " + e.getMessage());
                    assertTrue(e.getMessage().contains("must be origin, replica or local"), e.getMessage());
                }
                assertEquals("origin", one(st, "SHOW session_replication_role"));
            }
            // the grantee may not set it itself
            refused(st, "SET session_replication_role = replica");

            // plant what the shim calls, in public and in pg_temp, first on the caller's search_path
            st.execute("CREATE FUNCTION public.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS "
                    + "$$BEGIN RAISE EXCEPTION 'planted public.set_config ran'; END$$");
            st.execute("CREATE FUNCTION pg_temp.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS "
                    + "$$BEGIN RAISE EXCEPTION 'planted pg_temp.set_config ran'; END$$");
            // an operator that would let any value through the shim's NOT IN check
            st.execute("CREATE FUNCTION public.always_equal(text, text) RETURNS boolean LANGUAGE sql AS $$SELECT true$$");
            st.execute("CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.always_equal)");
            st.execute("CREATE FUNCTION public.never_differ(text, text) RETURNS boolean LANGUAGE sql AS $$SELECT false$$");
            st.execute("CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.never_differ)");
            st.execute("SET search_path = public, pg_temp, pg_catalog");
            try {
                one(st, "SELECT set_config('application_name', 'x', false)");
                fail("the planted set_config is the one the caller's search_path finds");
            } catch (SQLException e) {
                assertTrue(e.getMessage().contains("planted"), e.getMessage());
            }
            assertEquals("replica", one(st, "SELECT public.rds_session_replication_role('replica')"));
            assertEquals("replica", one(st, "SHOW session_replication_role"));
            assertEquals("local", one(st, "SELECT public.rds_session_replication_role('local')"));
            try {
                one(st, "SELECT public.rds_session_replication_role('off')");
                fail("the planted operators let 'off' through");
            } catch (SQLException e) {
                assertEquals("P0001", e.getSQLState(), e.getMessage());
            }
            assertEquals("local", one(st, "SHOW session_replication_role"));
        }
    }

    private static String one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
