package dev.ibex.replicate;

import static dev.ibex.test.Eventually.eventually;
import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.pg.DbPools;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TcpProxy;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TargetsIT {

    @Test
    void twoTargetsFromOneSourceAndADownTargetCatchesUpLater() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        for (TestDb db : List.of(src, a, b)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        try (Model m = Model.create(); DbPools pools = new DbPools(2000);
             SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "a", "b").capture("src");
            src.exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals(2000, r.inserts(), "one read of the source fed both targets");
            assertSameRows(src, a, "t", "id");
            assertSameRows(src, b, "t", "id");

            m.repo().update("UPDATE ibex.db SET port = 1 WHERE name = 'b'");
            m.repo().commit();
            src.exec("UPDATE t SET v = 'x' WHERE id <= 500", "DELETE FROM t WHERE id > 900");
            r = runner.runOnce("s1");
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().contains("Cannot connect to b at localhost:1"), r.error());
            assertSameRows(src, a, "t", "id");
            assertNotEquals(src.checksum("t", "id"), b.checksum("t", "id"));
            assertEquals("2", m.repoDb().scalar("SELECT count(DISTINCT snapshot) FROM ibex.sync_state"),
                    "the down target keeps its old snapshot");

            src.exec("INSERT INTO t VALUES (5000, 'while b was down')");
            m.repo().update("UPDATE ibex.db SET port = ? WHERE name = 'b'", b.port());
            m.repo().commit();
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, a, "t", "id");
            assertSameRows(src, b, "t", "id");
            assertEquals("1", m.repoDb().scalar("SELECT count(DISTINCT snapshot) FROM ibex.sync_state"));
            assertEquals("empty", runner.runOnce("s1").state());
        }
    }

    /**
     * A target that refuses connections from the start: the first run with it fails at once for
     * it (well under the pool's 12 s connection timeout, which it once waited out) and applies to
     * the other target.
     */
    @Test
    void aTargetThatRefusesConnectionsDoesNotHoldTheFirstRunForThePoolTimeout() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        for (TestDb db : List.of(src, a, b)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        try (Model m = Model.create(); DbPools pools = new DbPools();
             SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "a", "b").capture("src");
            m.repo().update("UPDATE ibex.db SET port = 1 WHERE name = 'b'");
            m.repo().commit();
            src.exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
            long start = System.nanoTime();
            SyncRunner.Result r = runner.runOnce("s1");
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().contains("Cannot connect to b at localhost:1"), r.error());
            assertSameRows(src, a, "t", "id");
            assertTrue(took.compareTo(Duration.ofSeconds(8)) < 0, "the run took " + took.toMillis() + " ms");
        }
    }

    /**
     * onetimecopy=1 with one target down: the other takes its whole copy once and then only the
     * changes, run after run (it took every table whole again in each run while the copy stayed
     * pending for the down one); once the down one answers it gets its copy and the copy ends.
     */
    @Test
    void aOneTimeCopyPendingForADownTargetCopiesTheOtherOnlyOnce() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        for (TestDb db : List.of(src, a, b)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        a.exec("INSERT INTO t VALUES (-1, 'stale')");
        src.exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
        try (Model m = Model.create(); DbPools pools = new DbPools();
             SyncRunner runner = new SyncRunner(m.repo(), pools).cache(new RunCache())
                     .downTargets(new DownTargets(Duration.ZERO, Duration.ZERO))) {
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "a", "b").capture("src");
            m.repo().update("UPDATE ibex.db SET port = 1 WHERE name = 'b'");
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 1");
            m.repo().commit();
            SyncRunner.Result first = runner.runOnce("s1");
            assertTrue(first.onlyTargetsDown(), first.toString());
            assertEquals(1000, first.inserts(), first.toString());
            assertSameRows(src, a, "t", "id");
            for (int i = 1; i <= 3; i++) {
                src.exec("UPDATE t SET v = 'changed' WHERE id = " + i);
                SyncRunner.Result r = runner.runOnce("s1");
                assertTrue(r.onlyTargetsDown(), r.toString());
                assertEquals(1, r.inserts(), "only the changed row goes to a: " + r);
                assertSameRows(src, a, "t", "id");
            }
            m.repo().update("UPDATE ibex.db SET port = ? WHERE name = 'b'", b.port());
            m.repo().commit();
            SyncRunner.Result back = runner.runOnce("s1");
            assertEquals("good", back.state(), back.toString());
            assertSameRows(src, a, "t", "id");
            assertSameRows(src, b, "t", "id");
            assertEquals("0", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
        }
    }

    @Test
    void fullcopyTargetGetsWholeTablesEveryRun() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        TestDb full = PgServers.target();
        for (TestDb db : List.of(src, dst, full)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        full.exec("INSERT INTO t VALUES (-1, 'stale')");
        src.exec("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("dst", dst).db("full", full);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "dst", "full:fullcopy")
                    .capture("src");
            src.exec("UPDATE t SET v = 'new' WHERE id = 1");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, full, "t", "id");
            assertEquals(List.of("1"), dst.column("SELECT id FROM t"), "the delta target got only the change");
        }
    }

    /**
     * One of two targets is cut off (every connection to it refused) while writers go on: the
     * other keeps getting each change within seconds, over several of the down target's back-off
     * periods, rather than once per back-off plus connection timeout; status still shows the down
     * target and why; once it answers again it catches up and both equal the source.
     */
    @Test
    void aDownTargetDoesNotHoldBackTheOther() throws Exception {
        String table = "CREATE TABLE t (id int PRIMARY KEY, v int, note text)";
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb bServer = PgServers.target();
        for (TestDb db : List.of(src, a, bServer)) {
            db.exec(table);
        }
        try (TcpProxy proxy = TcpProxy.to(bServer); Model m = Model.create()) {
            TestDb b = proxy.address(bServer);
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s", "src", List.of("a", "b"), "public.t:id");
            TestDb repo = m.repoDb();
            // short back-off periods, so that the markers below span several of them
            repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '1'), ('kid_retry_max', '4')");
            try (InProcessController c = new InProcessController(repo)) {
                FaultsIT.awaitCaptured(src, "t");
                try (Writers writers = Writers.start(src, 2, 30, FaultsIT.load(2000, null, "t"))) {
                    writers.awaitCommits(50);
                    eventually(Duration.ofSeconds(60), "rows on both targets",
                            () -> a.count("t") > 0 && bServer.count("t") > 0);
                    long bad = m.runs("s", "bad");
                    proxy.refuse(true);
                    proxy.dropAll();
                    eventually(Duration.ofSeconds(60), "a run that finds b down", () -> m.runs("s", "bad") > bad);
                    // three back-off periods of b (kid_retry_max 4 s) and more
                    long until = System.nanoTime() + Duration.ofSeconds(14).toNanos();
                    int marker = 100_000;
                    for (; System.nanoTime() < until; marker++) {
                        src.exec("INSERT INTO t VALUES (" + marker + ", 0, 'marker')");
                        String id = Integer.toString(marker);
                        eventually(Duration.ofSeconds(10), "marker " + id + " on a while b is down",
                                () -> !a.column("SELECT id FROM t WHERE id = " + id).isEmpty());
                    }
                    assertTrue(marker > 100_003, "markers written: " + (marker - 100_000));
                    assertTrue(bServer.column("SELECT id FROM t WHERE id = " + (marker - 1)).isEmpty(),
                            "b is cut off");
                    String status = Cli.run(repo, "status", "s").out();
                    assertTrue(status.contains("Target db \"b\" is down"), status);
                    proxy.refuse(false);
                    writers.stop();
                }
                eventually(Duration.ofSeconds(60), "both targets equal the source",
                        () -> src.checksum("t", "id").equals(a.checksum("t", "id"))
                                && src.checksum("t", "id").equals(bServer.checksum("t", "id")));
                c.assertRunning();
            }
            assertSameRows(src, a, "t", "id");
            assertSameRows(src, bServer, "t", "id");
        }
    }
}
