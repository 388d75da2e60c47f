package dev.ibex.replicate;

import static dev.ibex.test.Eventually.eventually;
import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.capture.DeltaPurge;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Repository;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The model of a running sync changed while applications write: a controller runs, writers change
 * the source, and the CLI changes what the sync reads. Each case ends with every target equal to
 * the source by count and checksum of ordered rows.
 */
class ModelChangeIT {

    private static final String TABLE = "CREATE TABLE %s (id int PRIMARY KEY, v int, note text)";

    private final Writers.Running running = new Writers.Running();

    @AfterEach
    void stopWriters() {
        running.stopAll();
    }

    /**
     * A table x that sync s2 captures too is taken out of sync s1 (s1 switched to a relgroup
     * without it) and put back. While s1 does not read x, the purge moves s1's S_prev past x's
     * changes (s1's other table is idle). Put back, x must be copied whole to s1's target: the
     * changes in between were never read for it.
     */
    @Test
    void aSharedTableTakenOutOfASyncAndPutBackIsCopiedWhole() throws Exception {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        tables(src, a, b);
        src.exec("INSERT INTO x SELECT g, g, 'n' FROM generate_series(1, 100) g");
        try (Model m = Model.create()) {
            TestDb repo = m.repoDb();
            m.db("src", src).db("a", a).db("b", b);
            int t1 = m.table("src", "public", "t1", "id");
            int x = m.table("src", "public", "x", "id");
            m.sync("s1", true, List.of(t1, x), "src", "a");
            m.sync("s2", true, List.of(x), "src", "b").capture("src");
            repo.exec("UPDATE ibex.sync SET onetimecopy = 1");
            ok(m, "add", "relgroup", "r1b", "public.t1", "db=src");
            ok(m, "set", "purge_interval=1");
            try (InProcessController c = new InProcessController(repo)) {
                Writers writers = running.keep(Writers.start(src, 2, 200, "x"));
                eventually(Duration.ofSeconds(30), "s1 and s2 copied and running",
                        () -> m.runs("s1", "good") >= 2 && m.runs("s2", "good") >= 2);

                ok(m, "update", "sync", "s1", "relgroup=r1b");
                long after = Long.parseLong(src.scalar("SELECT txid_current()"));
                writers.awaitCommits(writers.committed() + 50);
                eventually(Duration.ofSeconds(30), "the purge moves s1's S_prev past x's changes",
                        () -> TxidSnapshot.parse(repo.scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's1'"))
                                .xmin() > after + 10);

                ok(m, "update", "sync", "s1", "relgroup=s1_rel");
                writers.awaitCommits(writers.committed() + 50);
                writers.stop();
                // no kick: x's changes alone wake s1 again (autokick follows the model)
                eventually(Duration.ofSeconds(30), "s1 and s2 caught up by autokick",
                        () -> src.checksum("x", "id").equals(a.checksum("x", "id"))
                                && src.checksum("x", "id").equals(b.checksum("x", "id")));
                assertSameRows(src, b, "x", "id");
                assertSameRows(src, a, "x", "id");
                c.assertRunning();
            }
        }
    }

    /**
     * A table another sync already captures (so its capture stays as it is) added to a running
     * sync while nothing writes to the source: the controller kicks the sync that gained it, and
     * the table arrives whole without a write. The controller used to learn of the new table only
     * for later changes: what the watch had reported before the reload kicked the other sync
     * alone, so on a quiet source, or when the writes stopped before the controller reloaded (a
     * busy machine), the table never arrived (ModelChangeIT's shared-table case failed so).
     */
    @Test
    void aTableAddedToARunningSyncOnAQuietSourceArrivesWithoutAWrite() throws Exception {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        tables(src, a, b);
        src.exec("INSERT INTO t1 SELECT g, g, 'n' FROM generate_series(1, 10) g",
                "INSERT INTO x SELECT g, g, 'n' FROM generate_series(1, 100) g");
        try (Model m = Model.create()) {
            TestDb repo = m.repoDb();
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", true, List.of(m.table("src", "public", "t1", "id")), "src", "a");
            m.sync("s2", true, List.of(m.table("src", "public", "x", "id")), "src", "b").capture("src");
            repo.exec("UPDATE ibex.sync SET onetimecopy = 1");
            try (InProcessController c = new InProcessController(repo)) {
                eventually(Duration.ofSeconds(30), "s1 and s2 copied",
                        () -> a.count("t1") == 10 && b.count("x") == 100
                                && m.runs("s1", "good") >= 1 && m.runs("s2", "good") >= 1);
                ok(m, "add", "table", "public.x", "db=src", "relgroup=s1_rel");
                // no write and no kick from here on
                eventually(Duration.ofSeconds(30), "x on s1's target",
                        () -> src.checksum("x", "id").equals(a.checksum("x", "id")));
                assertSameRows(src, a, "x", "id");
                c.assertRunning();
            }
        }
    }

    /**
     * The race of the case above: x, captured for s2, was just added to s1, whose run (its first
     * since, which copies x whole) is under way when a command takes x out of s1 again. The
     * command changes nothing on the source, so it did not wait for the run, which recorded its
     * snapshot as covering x after the command had committed. Put back later, x must still be
     * copied whole: its changes in between were never read for s1.
     */
    @Test
    void aTableTakenOutOfASyncDuringARunIsNotCoveredByIt() throws Exception {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        tables(src, a, b);
        src.exec("INSERT INTO x SELECT g, g, 'n' FROM generate_series(1, 100) g");
        ExecutorService thread = Executors.newSingleThreadExecutor();
        ExecutorService command = Executors.newSingleThreadExecutor();
        try (Model m = Model.create(); Repository own = Repository.open(Model.spec(m.repoDb()));
             SyncRunner runner = new SyncRunner(own); DbPools pools = new DbPools()) {
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", false, List.of(m.table("src", "public", "t1", "id")), "src", "a");
            m.sync("s2", false, List.of(m.table("src", "public", "x", "id")), "src", "b").capture("src");
            m.repoDb().exec("UPDATE ibex.sync SET onetimecopy = 1");
            ok(m, "add", "relgroup", "r1b", "public.t1", "db=src");
            assertNotEquals("bad", runner.runOnce("s1").state());
            assertEquals("good", runner.runOnce("s2").state());
            ok(m, "add", "table", "public.x", "db=src", "relgroup=s1_rel");
            src.exec("INSERT INTO t1 VALUES (1, 1, 'n')");
            Future<SyncRunner.Result> run;
            try (Connection lock = a.connect(); Statement st = lock.createStatement()) {
                lock.setAutoCommit(false);
                st.execute("LOCK TABLE t1");
                run = thread.submit(() -> runner.runOnce("s1"));
                eventually(Duration.ofSeconds(8), "the run of s1 waits for t1 on a", () -> !"0".equals(a.scalar(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted AND database = "
                                + "(SELECT oid FROM pg_database WHERE datname = current_database())")));
                Future<Cli.Result> out = command.submit(() -> m.run("update", "sync", "s1", "relgroup=r1b"));
                eventually(Duration.ofSeconds(8), "the command ends, or waits for the run", () -> out.isDone()
                        || !"0".equals(m.repoDb().scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                + "AND NOT granted")));
                lock.commit();
                assertEquals(0, out.get().exit(), out.get().toString());
            }
            assertEquals("good", run.get().state(), run.get().toString());

            src.exec("UPDATE x SET v = v + 1 WHERE id <= 10", "DELETE FROM x WHERE id > 90");
            assertEquals("good", runner.runOnce("s2").state());
            DeltaPurge.purge(own, pools, m.dbRow("src"));
            ok(m, "update", "sync", "s1", "relgroup=s1_rel");
            SyncRunner.Result again = runner.runOnce("s1");
            assertNotEquals("bad", again.state(), again.toString());
            assertSameRows(src, a, "x", "id");
        } finally {
            thread.shutdownNow();
            command.shutdownNow();
        }
    }

    /**
     * A table that another sync already captures on the first source of a swap sync, added to the
     * swap sync: the second source captures it anew, which logs a truncate there, while the first
     * logs none. The first source's rows must reach the second, not the second's (empty) table
     * replace the first's.
     */
    @Test
    void aTableCapturedOnTheFirstSourceAddedToASwapSyncKeepsTheFirstSourcesRows() {
        TestDb one = PgServers.source();
        TestDb two = PgServers.source();
        TestDb c = PgServers.target();
        tables(one, two, c);
        one.exec("INSERT INTO x SELECT g, g, 'n' FROM generate_series(1, 100) g");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("a", one).db("b", two).db("c", c);
            m.sync("s", false, List.of(m.table("a", "public", "t1", "id")), "a", "b:source");
            m.sync("s2", false, List.of(m.table("a", "public", "x", "id")), "a", "c").capture("a").capture("b");
            m.repoDb().exec("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's2'");
            assertNotEquals("bad", runner.runOnce("s").state());
            assertEquals("good", runner.runOnce("s2").state());
            ok(m, "add", "table", "public.x", "db=a", "relgroup=s_rel");
            for (int i = 0; i < 5; i++) {
                SyncRunner.Result r = runner.runOnce("s");
                assertNotEquals("bad", r.state(), r.toString());
            }
            assertEquals(100, one.count("x"));
            assertSameRows(one, two, "x", "id");
        }
    }

    /**
     * One sync's model changed step by step under writes to both its tables, each step while the
     * controller runs it: a table another sync captures added to it, the sync made inactive and
     * active again, the other sync removed, the table removed (its capture goes) and added again
     * (captured anew). Nothing is lost or applied twice on the way.
     */
    @Test
    void aRunningSyncGainsLosesAndRegainsATableAndPausesUnderWrites() throws Exception {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        tables(src, a, b);
        src.exec("INSERT INTO t1 SELECT g, g, 'n' FROM generate_series(1, 100) g",
                "INSERT INTO x SELECT g, g, 'n' FROM generate_series(1, 100) g");
        try (Model m = Model.create()) {
            TestDb repo = m.repoDb();
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", true, List.of(m.table("src", "public", "t1", "id")), "src", "a");
            m.sync("s2", true, List.of(m.table("src", "public", "x", "id")), "src", "b").capture("src");
            repo.exec("UPDATE ibex.sync SET onetimecopy = 1");
            ok(m, "set", "purge_interval=1");
            try (InProcessController c = new InProcessController(repo)) {
                Writers writers = running.keep(Writers.start(src, 3, 200, "t1", "x"));
                awaitGoodRuns(m, writers, "s1", "s2");
                ok(m, "add", "table", "public.x", "db=src", "relgroup=s1_rel");
                writers = settle(m, writers, src, a, "t1", "x");
                ok(m, "update", "sync", "s1", "inactive");
                writers.awaitCommits(writers.committed() + 100);
                ok(m, "activate", "s1", "30");
                writers = settle(m, writers, src, a, "t1", "x");
                ok(m, "remove", "sync", "s2");
                writers = settle(m, writers, src, a, "t1", "x");
                ok(m, "remove", "table", "public.x", "--force");
                writers = settle(m, writers, src, a, "t1");
                ok(m, "add", "table", "public.x", "db=src", "relgroup=s1_rel");
                settle(m, writers, src, a, "t1", "x").stop();
                c.assertRunning();
            }
        }
    }

    /**
     * A target added to a running sync under writes, with onetimecopy=2 in the same command
     * (copies only into its empty tables: the old target keeps following the stream), then the
     * old target taken out: the new one gets every row, then follows on its own.
     */
    @Test
    void aTargetAddedToARunningSyncWithOnetimecopy2GetsEveryRow() throws Exception {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb n = PgServers.target();
        tables(src, a, n);
        src.exec("INSERT INTO t1 SELECT g, g, 'n' FROM generate_series(1, 100) g",
                "INSERT INTO x SELECT g, g, 'n' FROM generate_series(1, 100) g");
        try (Model m = Model.create()) {
            TestDb repo = m.repoDb();
            m.db("src", src).db("a", a).db("n", n);
            m.sync("s1", true, List.of(m.table("src", "public", "t1", "id"), m.table("src", "public", "x", "id")),
                    "src", "a").capture("src");
            repo.exec("UPDATE ibex.sync SET onetimecopy = 1");
            try (InProcessController c = new InProcessController(repo)) {
                Writers writers = running.keep(Writers.start(src, 3, 200, "t1", "x"));
                awaitGoodRuns(m, writers, "s1");
                ok(m, "update", "sync", "s1", "dbs=src:source,a:target,n:target", "onetimecopy=2");
                writers = settle(m, writers, src, List.of(a, n), "t1", "x");
                ok(m, "update", "sync", "s1", "dbs=src:source,n:target");
                settle(m, writers, src, n, "t1", "x").stop();
                c.assertRunning();
            }
        }
    }

    /**
     * Writers go on for two more good runs of s1, then stop; once a kick has run s1, its targets
     * hold the source's rows of {@code tables}. Returns new writers of t1 and x.
     */
    private Writers settle(Model m, Writers writers, TestDb src, TestDb dst, String... tables) throws InterruptedException {
        return settle(m, writers, src, List.of(dst), tables);
    }

    private Writers settle(Model m, Writers writers, TestDb src, List<TestDb> dsts, String... tables)
            throws InterruptedException {
        awaitGoodRuns(m, writers, "s1");
        writers.stop();
        ok(m, "kick", "s1", "60");
        for (TestDb dst : dsts) {
            for (String t : tables) {
                assertSameRows(src, dst, t, "id");
            }
        }
        return running.keep(Writers.start(src, 3, 200, "t1", "x"));
    }

    /** Writers go on until each sync has had two more good runs. */
    private static void awaitGoodRuns(Model m, Writers writers, String... syncs) throws InterruptedException {
        long[] before = new long[syncs.length];
        for (int i = 0; i < syncs.length; i++) {
            before[i] = m.runs(syncs[i], "good");
        }
        writers.awaitCommits(writers.committed() + 50);
        for (int i = 0; i < syncs.length; i++) {
            String sync = syncs[i];
            long from = before[i];
            eventually(Duration.ofSeconds(30), "two more good runs of " + sync, () -> m.runs(sync, "good") >= from + 2);
        }
    }

    /**
     * Commands refused in the middle of a running sync under writes (a keyless table, a table that
     * does not exist, an unreachable db added as a target or a source): each leaves the repository
     * and the source as they were, and the sync goes on losing nothing.
     */
    @Test
    void refusedCommandsChangeNothingWhileASyncRuns() throws Exception {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        for (TestDb db : List.of(src, a)) {
            db.exec(TABLE.formatted("t1"), TABLE.formatted("x"), "CREATE TABLE nokey (id int, v int)");
        }
        try (Model m = Model.create()) {
            TestDb repo = m.repoDb();
            m.db("src", src).db("a", a).unreachableDb("dead");
            m.sync("s1", true, List.of(m.table("src", "public", "t1", "id"), m.table("src", "public", "x", "id")),
                    "src", "a").capture("src");
            try (InProcessController c = new InProcessController(repo)) {
                Writers writers = running.keep(Writers.start(src, 3, 200, "t1", "x"));
                awaitGoodRuns(m, writers, "s1");
                String model = model(repo);
                String capture = capture(src);
                for (String[] command : List.of(
                        new String[] {"add", "table", "public.nokey", "db=src", "relgroup=s1_rel"},
                        new String[] {"add", "table", "public.nope", "db=src", "relgroup=s1_rel"},
                        new String[] {"update", "dbgroup", "s1_dbs", "dead:target"},
                        new String[] {"update", "dbgroup", "s1_dbs", "dead:source"},
                        new String[] {"update", "sync", "s1", "dbs=src:source,a:target,dead:target"})) {
                    Cli.Result r = m.run(command);
                    assertNotEquals(0, r.exit(), r.toString());
                    String named = command[1].equals("table") ? command[2] : "dead";
                    assertTrue(r.err().contains(named), r.toString());
                    assertEquals(model, model(repo), String.join(" ", command));
                    assertEquals(capture, capture(src), String.join(" ", command));
                }
                awaitGoodRuns(m, writers, "s1");
                writers.stop();
                ok(m, "kick", "s1", "60");
                assertSameRows(src, a, "t1", "id");
                assertSameRows(src, a, "x", "id");
                assertEquals("0", a.scalar("SELECT count(*) FROM nokey"));
                c.assertRunning();
            }
        }
    }

    /** The repository's model, and each S_prev's tables. */
    private static String model(TestDb repo) {
        return repo.scalar("""
                SELECT concat_ws(' | ',
                  (SELECT string_agg(relgroup || ':' || relation, ',' ORDER BY 1) FROM ibex.relgroup_member),
                  (SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM ibex.relation),
                  (SELECT string_agg(dbgroup || ':' || db || ':' || role, ',' ORDER BY 1) FROM ibex.dbgroup_member),
                  (SELECT string_agg(name || ':' || relgroup || ':' || dbgroup || ':' || status, ',' ORDER BY 1) FROM ibex.sync),
                  (SELECT string_agg(sync || ':' || source || ':' || target || ':' || tables::text, ',' ORDER BY 1)
                   FROM ibex.sync_state))""");
    }

    /** The source's triggers and captured tables. */
    private static String capture(TestDb src) {
        return src.scalar("""
                SELECT concat_ws(' | ',
                  (SELECT string_agg(tgrelid::regclass || ':' || tgname, ',' ORDER BY 1) FROM pg_trigger WHERE NOT tgisinternal),
                  (SELECT string_agg(schemaname || '.' || tablename || ':' || tab, ',' ORDER BY 1) FROM ibex.captured))""");
    }

    /**
     * 'ibex add table x relgroup=...' for a sync with two sources, refused because x is busy on the
     * second (a transaction keeps it locked past capture's lock wait): the command changes
     * nothing, neither in the repository nor on the first source, whose capture had committed.
     */
    @Test
    void aCommandRefusedOnItsSecondSourceLeavesTheFirstAsItWas() throws Exception {
        TestDb one = PgServers.source();
        TestDb two = PgServers.target();
        tables(one, two);
        try (Model m = Model.create(); Connection busy = two.connect(); Statement st = busy.createStatement()) {
            m.db("a_src", one).db("b_src", two);
            m.sync("s", false, List.of(m.table("a_src", "public", "t1", "id")), "a_src", "b_src:source")
                    .capture("a_src").capture("b_src");
            busy.setAutoCommit(false);
            st.execute("INSERT INTO x VALUES (1, 1, 'open')");
            Cli.Result r = m.run("add", "table", "public.x", "db=a_src", "relgroup=s_rel");
            busy.rollback();
            assertNotEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("b_src"), r.toString());
            assertEquals("0", m.repoDb().scalar("SELECT count(*) FROM ibex.relation WHERE tablename = 'x'"));
            for (TestDb db : List.of(one, two)) {
                assertEquals("0", db.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'x'::regclass"), db.name());
                assertEquals("0", db.scalar("SELECT count(*) FROM ibex.captured WHERE tablename = 'x'"), db.name());
            }
        }
    }

    /** Tables t1 and x on each db. */
    private static void tables(TestDb... dbs) {
        for (TestDb db : dbs) {
            db.exec(TABLE.formatted("t1"), TABLE.formatted("x"));
        }
    }

    private static Cli.Result ok(Model m, String... args) {
        Cli.Result r = m.run(args);
        assertEquals(0, r.exit(), r.toString());
        return r;
    }
}
