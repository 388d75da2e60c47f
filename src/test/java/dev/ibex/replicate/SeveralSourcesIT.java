package dev.ibex.replicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.ServerVersion;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Several sources in one sync (Bucardo's swap and multi-master): each source's changes reach every
 * other db, nothing ibex applies comes back (no echo), and a key changed on two sources between two
 * runs is settled by the sync's conflict strategy.
 */
class SeveralSourcesIT {

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, v int, note text)";

    /** Dbs a, b (sources) and c (target) with table t, in sync s under {@code strategy}. */
    private static final class Swap implements AutoCloseable {
        final TestDb a;
        final TestDb b;
        final TestDb c;
        final Model m = Model.create();
        final DbPools pools = new DbPools(2000);
        final SyncRunner runner = new SyncRunner(m.repo(), pools);

        Swap(TestDb a, TestDb b, TestDb c, String strategy, String... rows) {
            assumeWritable(a, b);
            this.a = a;
            this.b = b;
            this.c = c;
            for (TestDb db : List.of(a, b, c)) {
                db.exec(TABLE);
                for (String row : rows) {
                    db.exec("INSERT INTO t VALUES " + row);
                }
            }
            m.db("a", a).db("b", b).db("c", c);
            m.sync("s", false, List.of(m.table("a", "public", "t", "id")), "a", "b:source", "c");
            m.sql("UPDATE ibex.sync SET conflict_strategy = ? WHERE name = 's'", strategy);
            m.capture("a").capture("b");
        }

        Swap(String strategy, String... rows) {
            this(PgServers.source(), PgServers.source(), PgServers.target(), strategy, rows);
        }

        SyncRunner.Result run() {
            return runner.runOnce("s");
        }

        /** Runs until a run finds nothing to do; fails on a bad run. */
        void drain() {
            SeveralSourcesIT.drain(runner);
        }

        List<String> v(int id) {
            List<String> out = new ArrayList<>();
            for (TestDb db : List.of(a, b, c)) {
                out.add(db.scalar("SELECT coalesce((SELECT v::text FROM t WHERE id = " + id + "), 'none')"));
            }
            return out;
        }

        void assertAllEqual() {
            String want = FaultsIT.checksum(a, "t");
            assertEquals(want, FaultsIT.checksum(b, "t"), "b equals a");
            assertEquals(want, FaultsIT.checksum(c, "t"), "c equals a");
        }

        long conflicts(SyncRunner.Result r) {
            return Long.parseLong(m.repoDb().scalar("SELECT conflicts FROM ibex.run WHERE id = " + r.runId()));
        }

        @Override
        public void close() {
            runner.close();
            pools.close();
            m.close();
        }
    }

    /** Every source of a swap is written to (the legacy CI run that takes 9.3.5 for 8.4 skips these). */
    private static void assumeWritable(TestDb... sources) {
        for (TestDb db : sources) {
            assumeTrue(db.version().compareTo(ServerVersion.OLDEST_TARGET) >= 0, "a source too old to be written to");
        }
    }

    /**
     * A run while applications write to the dbs it applies to: an apply and a writer that lock the
     * same rows in other orders may deadlock, and a writer may insert a key between the apply's
     * delete and its copy twice in a row; the run is then retried, as the kid does.
     */
    private static SyncRunner.Result runUnderLoad(SyncRunner runner) {
        SyncRunner.Result r = runner.runOnce("s");
        assertTrue(!r.state().equals("bad") || List.of("40P01", "23505").contains(r.sqlstate()), r.toString());
        return r;
    }

    private static void drain(SyncRunner runner) {
        for (int i = 0; i < 30; i++) {
            SyncRunner.Result r = runner.runOnce("s");
            assertNotEquals("bad", r.state(), r.toString());
            if (r.state().equals("empty")) {
                return;
            }
        }
        throw new AssertionError("the sync did not settle in 30 runs");
    }

    @Test
    void eachSourceFeedsTheOthersAndNothingEchoes() {
        try (Swap s = new Swap("bucardo_latest", "(1, 0, 'x')")) {
            s.a.exec("INSERT INTO t SELECT g, g, 'from a' FROM generate_series(100, 199) g");
            s.b.exec("INSERT INTO t SELECT g, g, 'from b' FROM generate_series(200, 299) g",
                    "UPDATE t SET note = 'b was here' WHERE id = 1");
            String logA = s.a.scalar("SELECT count(*) FROM ibex.log");
            String logB = s.b.scalar("SELECT count(*) FROM ibex.log");
            SyncRunner.Result r = s.run();
            assertEquals("good", r.state(), r.toString());
            s.assertAllEqual();
            assertEquals("201", s.c.scalar("SELECT count(*) FROM t"));
            assertEquals(logA, s.a.scalar("SELECT count(*) FROM ibex.log"), "rows applied to a were not captured there");
            assertEquals(logB, s.b.scalar("SELECT count(*) FROM ibex.log"), "rows applied to b were not captured there");
            assertEquals("empty", s.run().state(), "no ping-pong");
            assertEquals(0, s.conflicts(r));
        }
    }

    @Test
    void twoSourcesUnderConcurrentWritersEndEqual() throws Exception {
        try (Swap s = new Swap("bucardo_latest")) {
            for (TestDb db : List.of(s.a, s.b, s.c)) {
                db.exec("INSERT INTO t SELECT g, g, 'seed' FROM generate_series(1, 300) g");
            }
            long conflicts = 0;
            try (Writers wa = Writers.start(s.a, 3, 600, "t"); Writers wb = Writers.start(s.b, 3, 600, "t")) {
                for (int i = 0; i < 12; i++) {
                    wa.awaitCommits(40L * (i + 1));
                    conflicts += s.conflicts(runUnderLoad(s.runner));
                }
                wa.stop();
                wb.stop();
            }
            s.drain();
            s.assertAllEqual();
            assertTrue(conflicts > 0, "overlapping writers on both sources made conflicts");
            assertEquals("empty", s.run().state());
        }
    }

    @Test
    void threeSourcesUnderConcurrentWritersEndEqual() throws Exception {
        TestDb a = PgServers.source();
        TestDb b = PgServers.source();
        TestDb c = PgServers.target();
        assumeWritable(a, b);
        try (Model m = Model.create(); DbPools pools = new DbPools(2000); SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            for (TestDb db : List.of(a, b, c)) {
                db.exec(TABLE, "INSERT INTO t SELECT g, g, 'seed' FROM generate_series(1, 200) g");
            }
            m.db("a", a).db("b", b).db("c", c);
            m.sync("s", false, List.of(m.table("a", "public", "t", "id")), "a", "b:source", "c:source");
            m.capture("a").capture("b").capture("c");
            try (Writers wa = Writers.start(a, 2, 400, "t"); Writers wb = Writers.start(b, 2, 400, "t");
                 Writers wc = Writers.start(c, 2, 400, "t")) {
                for (int i = 0; i < 8; i++) {
                    wa.awaitCommits(30L * (i + 1));
                    wb.awaitCommits(30L * (i + 1));
                    wc.awaitCommits(30L * (i + 1));
                    runUnderLoad(runner);
                }
            }
            drain(runner);
            String want = FaultsIT.checksum(a, "t");
            assertEquals(want, FaultsIT.checksum(b, "t"));
            assertEquals(want, FaultsIT.checksum(c, "t"));
        }
    }

    @Test
    void aNineSixAndAnEighteenSourceInOneSwap() {
        try (Swap s = new Swap(PgServers.database("9.6.24"), PgServers.database("18.6.0"), PgServers.target(),
                "latest", "(1, 1, 'x')")) {
            s.a.exec("INSERT INTO t VALUES (2, 2, 'from 9.6')", "UPDATE t SET v = 10 WHERE id = 1");
            s.b.exec("INSERT INTO t VALUES (3, 3, 'from 18')", "UPDATE t SET v = 20 WHERE id = 1");
            SyncRunner.Result r = s.run();
            assertEquals("good", r.state(), r.toString());
            assertEquals(1, s.conflicts(r));
            assertEquals(List.of("20", "20", "20"), s.v(1), "the 18 source changed the row last");
            s.assertAllEqual();
        }
    }

    /** Key 1 changed on a (v = 1) and then on b (v = 2): what each strategy leaves on a, b and c. */
    @Test
    void eachStrategySettlesAConflict() {
        Map<String, List<String>> expected = Map.of(
                "bucardo_latest", List.of("2", "2", "2"),
                "latest", List.of("2", "2", "2"),
                "bucardo_source", List.of("1", "1", "1"),
                "target", List.of("2", "2", "2"),
                "b a", List.of("2", "2", "2"),
                "a b", List.of("1", "1", "1"),
                "bucardo_skip", List.of("1", "2", "0"));
        expected.forEach((strategy, want) -> {
            try (Swap s = new Swap(strategy, "(1, 0, 'x')")) {
                s.a.exec("UPDATE t SET v = 1 WHERE id = 1");
                s.b.exec("UPDATE t SET v = 2 WHERE id = 1");
                SyncRunner.Result r = s.run();
                assertEquals("good", r.state(), strategy + ": " + r);
                assertEquals(1, s.conflicts(r), strategy);
                assertEquals(want, s.v(1), strategy);
                assertEquals("empty", s.run().state(), strategy + ": settled once");
            }
        });
    }

    /** A table truncated on one source is copied whole from it: what the others changed in it meanwhile loses. */
    @Test
    void aTruncateOnOneSourceWinsOverTheOthersChangesToThatTable() {
        try (Swap s = new Swap("latest", "(1, 0, 'x')", "(2, 0, 'x')")) {
            s.b.exec("UPDATE t SET v = 2 WHERE id = 1", "INSERT INTO t VALUES (3, 3, 'b')");
            s.a.exec("TRUNCATE t", "INSERT INTO t VALUES (10, 10, 'after the truncate')");
            SyncRunner.Result r = s.run();
            assertEquals("good", r.state(), r.toString());
            s.assertAllEqual();
            assertEquals("1", s.b.scalar("SELECT count(*) FROM t"));
            assertEquals(2, s.conflicts(r), "b's two changed keys lost to a's truncate");

            s.a.exec("TRUNCATE t", "INSERT INTO t VALUES (20, 20, 'a')");
            s.b.exec("TRUNCATE t", "INSERT INTO t VALUES (30, 30, 'b')");
            assertEquals("good", s.run().state());
            s.drain();
            s.assertAllEqual();
            assertEquals(List.of("20"), s.a.column("SELECT id FROM t"), "a is first in the dbgroup: its copy wins");
        }
    }

    /**
     * A target that missed a run: b's older change still owed to c and a's newer one of the same
     * key are one conflict (each source reads from its oldest S_prev), and the winner's row reaches
     * every db, c included.
     */
    @Test
    void aTargetThatMissedARunGetsTheWinnersRow() {
        try (Swap s = new Swap("latest", "(1, 0, 'x')")) {
            s.m.sql("UPDATE ibex.db SET status = 'inactive' WHERE name = 'c'");
            s.b.exec("UPDATE t SET v = 1 WHERE id = 1");
            assertEquals("good", s.run().state());
            assertEquals(List.of("1", "1", "0"), s.v(1), "c missed the run");
            s.m.sql("UPDATE ibex.db SET status = 'active' WHERE name = 'c'");
            s.a.exec("UPDATE t SET v = 2 WHERE id = 1");
            SyncRunner.Result r = s.run();
            assertEquals("good", r.state(), r.toString());
            assertEquals(1, s.conflicts(r));
            s.drain();
            assertEquals(List.of("2", "2", "2"), s.v(1));
            s.assertAllEqual();
        }
    }

    /**
     * onetimecopy=2 into a second source emptied after the sync was added: what that source
     * logged before the copy (its truncate) is replaced by the copy, and does not come back later
     * to win over the first source's new rows.
     */
    @Test
    void whatAnotherSourceLoggedBeforeTheOneTimeCopyDoesNotComeBack() {
        try (Swap s = new Swap("latest")) {
            s.a.exec("INSERT INTO t SELECT g, g, 'a' FROM generate_series(1, 5) g");
            s.b.exec("INSERT INTO t VALUES (99, 99, 'b')", "TRUNCATE t");
            s.m.sql("UPDATE ibex.sync SET onetimecopy = 2 WHERE name = 's'");
            SyncRunner.Result copy = s.run();
            assertEquals("good", copy.state(), copy.toString());
            assertEquals("0", s.m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's'"));
            s.a.exec("INSERT INTO t VALUES (6, 6, 'a')", "UPDATE t SET v = 100 WHERE id = 1");
            s.drain();
            s.assertAllEqual();
            assertEquals(List.of("100", "100", "100"), s.v(1));
            assertEquals(List.of("6", "6", "6"), s.v(6));
        }
    }

    @Test
    void randomIsTheSameForAKeyEveryTime() {
        Function<Integer, String> winner = id -> {
            try (Swap s = new Swap("bucardo_random", "(" + id + ", 0, 'x')")) {
                s.a.exec("UPDATE t SET v = 1 WHERE id = " + id);
                s.b.exec("UPDATE t SET v = 2 WHERE id = " + id);
                assertEquals("good", s.run().state());
                List<String> v = s.v(id);
                assertEquals(v.get(0), v.get(1));
                assertEquals(v.get(0), v.get(2));
                return v.get(0);
            }
        };
        List<String> first = new ArrayList<>();
        for (int id = 1; id <= 8; id++) {
            first.add(winner.apply(id));
        }
        assertEquals(first.get(0), winner.apply(1));
        assertEquals(first.get(5), winner.apply(6));
        assertTrue(first.contains("1") && first.contains("2"), "either source may win: " + first);
    }

    @Test
    void latestAllTablesLetsTheSourceWithTheLatestChangeWinEverything() {
        try (Swap s = new Swap("latest_all_tables", "(1, 0, 'x')", "(2, 0, 'x')")) {
            s.a.exec("UPDATE t SET v = 1 WHERE id = 1");
            s.b.exec("UPDATE t SET v = 2 WHERE id = 1");
            s.a.exec("UPDATE t SET v = 1 WHERE id = 2");
            SyncRunner.Result r = s.run();
            assertEquals("good", r.state(), r.toString());
            assertEquals(List.of("1", "1", "1"), s.v(1), "a changed something last");
            s.assertAllEqual();
        }
    }

    @Test
    void abortFailsNamesTheKeyAndChangesNothing() {
        try (Swap s = new Swap("bucardo_abort", "(1, 0, 'x')", "(7, 0, 'x')")) {
            s.a.exec("UPDATE t SET v = 1 WHERE id = 1", "INSERT INTO t VALUES (5, 5, 'only a')");
            s.b.exec("UPDATE t SET v = 2 WHERE id = 1", "UPDATE t SET v = 7 WHERE id = 7");
            String[] before = {FaultsIT.checksum(s.a, "t"), FaultsIT.checksum(s.b, "t"), FaultsIT.checksum(s.c, "t")};
            SyncRunner.Result r = s.run();
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().contains("public.t (1)") && r.error().contains("conflict_strategy abort"), r.error());
            assertEquals(before[0], FaultsIT.checksum(s.a, "t"));
            assertEquals(before[1], FaultsIT.checksum(s.b, "t"));
            assertEquals(before[2], FaultsIT.checksum(s.c, "t"));
            assertEquals("bad", s.run().state(), "and again, until a person settles it");
            s.b.exec("UPDATE t SET v = 1 WHERE id = 1");
            s.m.sql("UPDATE ibex.sync SET conflict_strategy = 'bucardo_source' WHERE name = 's'");
            assertEquals("good", s.run().state());
            s.assertAllEqual();
        }
    }

    @Test
    void makedeltaCarriesAppliedRowsDownAChain() {
        TestDb a = PgServers.source();
        TestDb b = PgServers.target();
        TestDb c = PgServers.target();
        try (Model m = Model.create(); DbPools pools = new DbPools(2000); SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            for (TestDb db : List.of(a, b, c)) {
                db.exec(TABLE);
            }
            m.db("a", a).db("b", b).db("c", c);
            m.sync("ab", false, List.of(m.table("a", "public", "t", "id")), "a", "b");
            m.sync("bc", false, List.of(m.table("b", "public", "t", "id")), "b", "c");
            m.capture("a").capture("b");
            a.exec("INSERT INTO t SELECT g, g, 'from a' FROM generate_series(1, 50) g");
            assertEquals("good", runner.runOnce("ab").state());
            assertEquals("empty", runner.runOnce("bc").state(), "without makedelta the rows stop at b");
            assertEquals(0, c.count("t"));

            m.sql("UPDATE ibex.db SET makedelta = true WHERE name = 'b'");
            a.exec("UPDATE t SET v = -v WHERE id <= 10", "DELETE FROM t WHERE id > 45",
                    "INSERT INTO t VALUES (100, 100, 'new')");
            assertEquals("good", runner.runOnce("ab").state());
            assertEquals("good", runner.runOnce("bc").state());
            assertEquals(a.checksum("(SELECT * FROM t WHERE id <= 10 OR id > 45)", "id"),
                    c.checksum("(SELECT * FROM t WHERE id <= 10 OR id > 45)", "id"));

            a.exec("TRUNCATE t", "INSERT INTO t VALUES (1, 1, 'after truncate')");
            assertEquals("good", runner.runOnce("ab").state());
            assertEquals("good", runner.runOnce("bc").state());
            assertEquals(FaultsIT.checksum(a, "t"), FaultsIT.checksum(c, "t"), "the truncate went down the chain");

            m.sql("UPDATE ibex.relation SET makedelta = false WHERE db = 'a'");
            a.exec("INSERT INTO t VALUES (500, 500, 'not carried')");
            assertEquals("good", runner.runOnce("ab").state());
            assertEquals("empty", runner.runOnce("bc").state(), "the table's own makedelta=false wins over its db's");
        }
    }

    @Test
    void aSwapSyncDoesNotReadBackWhatItsMakedeltaLogged() {
        try (Swap s = new Swap("latest", "(1, 0, 'x')")) {
            s.m.sql("UPDATE ibex.db SET makedelta = true WHERE name IN ('a', 'b')");
            s.a.exec("INSERT INTO t SELECT g, g, 'from a' FROM generate_series(10, 19) g");
            String logB = s.b.scalar("SELECT count(*) FROM ibex.log");
            assertEquals("good", s.run().state());
            assertEquals(Long.parseLong(logB) + 10, Long.parseLong(s.b.scalar("SELECT count(*) FROM ibex.log")),
                    "b logged the keys it took");
            assertEquals("s", s.b.scalar("SELECT DISTINCT origin FROM ibex.log WHERE origin IS NOT NULL"));
            SyncRunner.Result again = s.run();
            assertEquals("empty", again.state(), "no echo: " + again);
            s.assertAllEqual();
        }
    }

    /**
     * As on Aiven: ibex's user on both sources is a plain role that owns the tables, may create
     * schema ibex, and suppresses triggers through aiven_extras.session_replication_role.
     */
    @Test
    void twoNonSuperuserSourcesWithAivenExtras() {
        TestDb a = PgServers.source();
        TestDb b = PgServers.source();
        String role = "avnadmin_" + a.name();
        assumeWritable(a, b);
        try (Model m = Model.create(); DbPools pools = new DbPools(2000); SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            for (TestDb db : List.of(a, b)) {
                db.exec("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') THEN "
                                + "CREATE ROLE " + role + " LOGIN; END IF; END$$",
                        "GRANT CREATE ON DATABASE " + db.name() + " TO " + role,
                        TABLE, "ALTER TABLE t OWNER TO " + role,
                        "CREATE TABLE audit (what text)", "GRANT INSERT ON audit TO " + role,
                        "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS "
                                + "$f$BEGIN INSERT INTO audit VALUES (TG_OP); RETURN NULL; END$f$",
                        "CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW EXECUTE PROCEDURE audit()",
                        "CREATE SCHEMA aiven_extras",
                        "CREATE FUNCTION aiven_extras.session_replication_role(arg_parameter text) RETURNS text "
                                + "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS "
                                + "$f$BEGIN PERFORM set_config('session_replication_role', arg_parameter, false); "
                                + "RETURN arg_parameter; END$f$",
                        "GRANT USAGE ON SCHEMA aiven_extras TO " + role);
            }
            m.db("a", a, role, null).db("b", b, role, null);
            m.sync("s", false, List.of(m.table("a", "public", "t", "id")), "a", "b:source");
            m.capture("a").capture("b");
            a.exec("INSERT INTO t SELECT g, g, 'a' FROM generate_series(1, 20) g");
            b.exec("INSERT INTO t SELECT g, g, 'b' FROM generate_series(21, 40) g");
            SyncRunner.Result r = runner.runOnce("s");
            assertEquals("good", r.state(), r.toString());
            assertEquals(FaultsIT.checksum(a, "t"), FaultsIT.checksum(b, "t"));
            assertEquals("20", a.scalar("SELECT count(*) FROM audit"), "a's own inserts only: applied rows fired nothing");
            assertEquals("20", b.scalar("SELECT count(*) FROM audit"));
            assertEquals(List.of("aiven_extras", "aiven_extras"),
                    m.repoDb().column("SELECT suppression FROM ibex.sync_state WHERE sync = 's' ORDER BY source"));
            assertEquals("empty", runner.runOnce("s").state());
        }
    }
}
