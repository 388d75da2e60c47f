package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.SqlFiles;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Apply as a target user who is not superuser: triggers and foreign keys on the target must not
 * fire, through Aiven's function or the RDS shim; with neither, the run refuses and says why.
 */
class SuppressionIT {

    private record Setup(TestDb src, TestDb dst, String role) {
    }

    /** A target whose tables belong to a plain role, with an audit trigger and a foreign key. */
    private static Setup setup() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        String role = "applier_" + dst.name();
        src.exec("CREATE TABLE child (id int PRIMARY KEY, parent int, v text)");
        dst.exec("CREATE ROLE " + role + " LOGIN",
                "CREATE TABLE parent (id int PRIMARY KEY)",
                "CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent, v text)",
                "CREATE TABLE audit (what text)",
                "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS "
                        + "$$BEGIN INSERT INTO audit VALUES (TG_OP); RETURN NULL; END$$",
                "CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON child FOR EACH ROW EXECUTE PROCEDURE audit()",
                "ALTER TABLE child OWNER TO " + role,
                "GRANT SELECT, INSERT ON audit TO " + role,
                "GRANT SELECT, REFERENCES ON parent TO " + role,
                "INSERT INTO parent VALUES (1)",
                "INSERT INTO child VALUES (-1, 1, 'probe')", "DELETE FROM child WHERE id = -1");
        assertEquals("2", dst.scalar("SELECT count(*) FROM audit"), "the audit trigger works outside ibex");
        src.exec("INSERT INTO child SELECT g, g, 'v' || g FROM generate_series(1, 20) g");
        return new Setup(src, dst, role);
    }

    private static SyncRunner.Result replicate(Setup s, Model m, DbPools pools) {
        m.db("src", s.src()).db("dst", s.dst(), s.role(), null);
        m.sync("s1", false, List.of(m.table("src", "public", "child", "id")), "src", "dst").capture("src");
        s.src().exec("INSERT INTO child SELECT g, g, 'v' || g FROM generate_series(21, 40) g",
                "UPDATE child SET v = 'changed' WHERE id % 2 = 0", "DELETE FROM child WHERE id = 3");
        return new SyncRunner(m.repo(), pools).runOnce("s1");
    }

    private static void assertAppliedSilently(Setup s, Model m, DbPools pools, SyncRunner.Result r, String mode)
            throws Exception {
        assertEquals("good", r.state(), r.toString());
        assertEquals("2", s.dst().scalar("SELECT count(*) FROM audit"), "no trigger fired during apply");
        String srcRows = s.src().checksum("(SELECT * FROM child WHERE id > 20)", "id");
        assertEquals(srcRows, s.dst().checksum("(SELECT * FROM child WHERE id > 20)", "id"));
        assertEquals(mode, m.repoDb().scalar("SELECT suppression FROM ibex.sync_state WHERE sync = 's1'"));
        // every pooled connection went back with the role reset
        for (int i = 0; i < DbPools.MAX_POOL_SIZE; i++) {
            try (Connection c = pools.connection(m.dbRow("dst")); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SHOW session_replication_role")) {
                rs.next();
                assertEquals("origin", rs.getString(1));
            }
        }
    }

    private static void dropRole(Setup s) {
        s.dst().exec("DROP OWNED BY " + s.role(), "DROP ROLE " + s.role());
    }

    @Test
    void aivenExtrasFunction() throws Exception {
        Setup s = setup();
        s.dst().exec("CREATE SCHEMA aiven_extras",
                "CREATE FUNCTION aiven_extras.session_replication_role(arg_parameter text) RETURNS text "
                        + "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS "
                        + "$$BEGIN PERFORM set_config('session_replication_role', arg_parameter, false); "
                        + "RETURN arg_parameter; END$$",
                "GRANT USAGE ON SCHEMA aiven_extras TO " + s.role());
        try (Model m = Model.create(); DbPools pools = new DbPools()) {
            SyncRunner.Result r = replicate(s, m, pools);
            assertAppliedSilently(s, m, pools, r, "aiven_extras");
        } finally {
            dropRole(s);
        }
    }

    @Test
    void rdsShimFromSqlShims() throws Exception {
        Setup s = setup();
        String shim = SqlFiles.read("sql/shims/rds_session_replication_role.sql");
        assertTrue(shim.contains(":\"grantee\""));
        s.dst().exec(shim.replace(":\"grantee\"", Identifiers.quote(s.role())));
        // only the named role may call it, and only with the three values
        assertEquals("f", s.dst().scalar("SELECT has_function_privilege('public', "
                + "'rds_session_replication_role(text)', 'EXECUTE')"));
        try (Connection c = s.dst().connect(s.role(), ""); Statement st = c.createStatement()) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> st.execute("SELECT rds_session_replication_role('always')"));
            assertTrue(e.getMessage().contains("must be origin, replica or local"), e.getMessage());
        }
        try (Model m = Model.create(); DbPools pools = new DbPools()) {
            SyncRunner.Result r = replicate(s, m, pools);
            assertAppliedSilently(s, m, pools, r, "rds_shim");
        } finally {
            dropRole(s);
        }
    }

    @Test
    void grantSetOnParameterOn15AndLater() throws Exception {
        Setup s = setup();
        try (Model m = Model.create(); DbPools pools = new DbPools()) {
            org.junit.jupiter.api.Assumptions.assumeTrue(
                    Integer.parseInt(s.dst().scalar("SHOW server_version_num")) >= 150000, "PostgreSQL 15+ only");
            s.dst().exec("GRANT SET ON PARAMETER session_replication_role TO " + s.role());
            SyncRunner.Result r = replicate(s, m, pools);
            assertAppliedSilently(s, m, pools, r, "set");
            s.dst().exec("REVOKE SET ON PARAMETER session_replication_role FROM " + s.role());
        } finally {
            dropRole(s);
        }
    }

    @Test
    void refusesWithTheThreeWays() {
        Setup s = setup();
        String before = s.dst().checksum("child", "id");
        try (Model m = Model.create(); DbPools pools = new DbPools()) {
            SyncRunner.Result r = replicate(s, m, pools);
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().startsWith("Cannot turn off triggers and foreign keys on db \"dst\" for user \""
                    + s.role() + "\""), r.error());
            assertTrue(r.error().contains("GRANT SET ON PARAMETER session_replication_role"), r.error());
            assertTrue(r.error().contains("aiven_extras.session_replication_role(text)"), r.error());
            assertTrue(r.error().contains("sql/shims/rds_session_replication_role.sql"), r.error());
            assertEquals(1, r.error().lines().count());
            assertEquals(before, s.dst().checksum("child", "id"));
            assertEquals(r.error(), m.repoDb().scalar("SELECT error FROM ibex.run WHERE id = " + r.runId()));
            assertEquals("42501", r.sqlstate(), "a missing grant needs a person");
        } finally {
            dropRole(s);
        }
    }

    /**
     * The one-time copy's refusal lost its SQLSTATE on the way to the run row, so a sync whose first
     * run met a target without suppression showed as Bad, retrying for ever, instead of Needs attention.
     */
    @Test
    void refusedOnAOneTimeCopyNeedsAPersonToo() {
        Setup s = setup();
        try (Model m = Model.create(); DbPools pools = new DbPools()) {
            m.db("src", s.src()).db("dst", s.dst(), s.role(), null);
            m.sync("s1", false, List.of(m.table("src", "public", "child", "id")), "src", "dst").capture("src");
            m.sql("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's1'");
            SyncRunner.Result r = new SyncRunner(m.repo(), pools).runOnce("s1");
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().startsWith("Cannot turn off triggers and foreign keys on db \"dst\""), r.error());
            assertEquals("42501", r.sqlstate(), r.toString());
            assertEquals("42501", m.repoDb().scalar("SELECT sqlstate FROM ibex.run WHERE id = " + r.runId()));
        } finally {
            dropRole(s);
        }
    }

    @Test
    void aFunctionPlantedInPublicByAPlainUserIsNotTheShim() {
        Setup s = setup();
        String mallory = "mallory_" + s.dst().name();
        try (Model m = Model.create(); DbPools pools = new DbPools()) {
            s.dst().exec("CREATE ROLE " + mallory, "GRANT CREATE ON SCHEMA public TO " + mallory,
                    "SET ROLE " + mallory + "; CREATE FUNCTION public.rds_session_replication_role(role text) "
                            + "RETURNS text LANGUAGE sql SECURITY DEFINER AS $$SELECT role$$; "
                            + "GRANT EXECUTE ON FUNCTION public.rds_session_replication_role(text) TO " + s.role()
                            + "; RESET ROLE");
            SyncRunner.Result r = replicate(s, m, pools);
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().startsWith("Cannot turn off triggers and foreign keys"), r.error());
        } finally {
            s.dst().exec("DROP OWNED BY " + mallory, "DROP ROLE " + mallory);
            dropRole(s);
        }
    }

    @Test
    void superuserIsPlainSet() {
        try (ReplicaSet set = ReplicaSet.create(); SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("CREATE TABLE child (id int PRIMARY KEY, parent int)");
            dst.exec("CREATE TABLE parent (id int PRIMARY KEY)", "CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent)");
            m.sync("s1", false, List.of(m.table("src", "public", "child", "id")), "src", "dst").capture("src");
            src.exec("INSERT INTO child VALUES (1, 99)");
            assertEquals("good", runner.runOnce("s1").state());
            assertSameRows(src, dst, "child", "id");
            assertEquals("set", m.repoDb().scalar("SELECT suppression FROM ibex.sync_state"));
        }
    }
}
