package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ibex.config.Tunable;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.SqlFeature;
import dev.ibex.replicate.ClaimFence;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.repository.Repository;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TcpProxy;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The fencing layers one by one, each at the exact point a stale controller could strike (the
 * process test in MultiControllerIT cannot choose where SIGSTOP lands).
 */
class FencingIT {

    private static ReplicaSet setUp() {
        ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v int, note text)");
        set.model().sync("s", "src", List.of("dst"), "public.t:id").capture("src");
        return set;
    }

    @Test
    void aRunWhoseClaimWasTakenRecordsNothingAndApplyNothing() {
        try (ReplicaSet set = setUp()) {
            Model m = set.model();
            set.src().exec("INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 50) g");
            // controller c1 held the sync with epoch 1; controller c2 took it over (epoch 2)
            m.sql("INSERT INTO ibex.sync_claim (sync, controller, epoch, previous) VALUES ('s', 2, 2, 1)");
            String before = set.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's'");
            try (Repository r = Repository.open(Model.spec(set.repoDb()));
                 SyncRunner stale = new SyncRunner(r).fence(new ClaimFence("s", 1, 1))) {
                assertThrows(ClaimFence.Lost.class, () -> stale.runOnce("s"));
            }
            assertEquals(0, set.dst().count("t"), "no stale apply");
            assertEquals(before, set.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's'"),
                    "S_prev unchanged");
            assertEquals("0", set.repoDb().scalar("SELECT count(*) FROM ibex.run WHERE state IN ('good', 'running')"));

            try (Repository r = Repository.open(Model.spec(set.repoDb()));
                 SyncRunner owner = new SyncRunner(r).fence(new ClaimFence("s", 2, 2))) {
                assertEquals("good", owner.runOnce("s").state());
            }
            set.assertSameRows("t", "id");
        }
    }

    @Test
    void theNewOwnerEndsTheOldOwnersTargetSessionsBeforeItsFirstRun() throws Exception {
        try (ReplicaSet set = setUp(); DbPools pools = new DbPools().applicationName("ibex c2")) {
            // the old owner (c1) has a step open on the target, checked and about to commit, when it stands still
            Properties p = new Properties();
            p.setProperty("user", set.dst().user());
            p.setProperty("ApplicationName", "ibex c1");
            try (Connection stale = DriverManager.getConnection(set.dst().url(), p)) {
                stale.setAutoCommit(false);
                try (Statement st = stale.createStatement()) {
                    st.execute("INSERT INTO t VALUES (999, 0, 'stale')");
                }
                try (Repository r = Repository.open(Model.spec(set.repoDb()))) {
                    TargetFence.cutOff(r, pools, "s", 1, db -> true);
                }
                SQLException e = assertThrows(SQLException.class, stale::commit);
                assertTrue(e.getMessage() != null, e.toString());
            }
            assertEquals(0, set.dst().count("t"), "the stale step never committed");
        }
    }

    /**
     * A session of the old owner still on the target once the fence gave up waiting (its backend
     * stands still: SIGSTOP, as on a swamped host, defers the termination): the new owner carries
     * on, as the claim checks still fence the old one's runs, but says so once at WARN; it used to
     * say nothing at all.
     */
    @Test
    void sessionsLeftAfterTheCutAreLoggedOnce() throws Exception {
        Logger kidLog = (Logger) LoggerFactory.getLogger(Kid.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        kidLog.addAppender(lines);
        try (ReplicaSet set = setUp(); DbPools pools = new DbPools().applicationName("ibex c2");
             Repository r = Repository.open(Model.spec(set.repoDb()))) {
            Properties p = new Properties();
            p.setProperty("user", set.dst().user());
            p.setProperty("ApplicationName", "ibex c1 kid s");
            try (Connection old = DriverManager.getConnection(set.dst().url(), p); Statement st = old.createStatement()) {
                ResultSet rs = st.executeQuery("SELECT pg_backend_pid()");
                rs.next();
                long backend = rs.getLong(1);
                signal("STOP", backend);
                try {
                    TargetFence.cutOff(r, pools, "s", 1, db -> true);
                } finally {
                    signal("CONT", backend);
                }
            }
        } finally {
            kidLog.detachAppender(lines);
        }
        List<String> warned;
        synchronized (lines) {
            warned = lines.list.stream().filter(e -> e.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage).filter(l -> l.contains("of controller c1")).toList();
        }
        assertEquals(1, warned.size(), warned.toString());
        assertTrue(warned.get(0).startsWith("1 session(s) of controller c1 are still open on db "), warned.toString());
    }

    private static void signal(String sig, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor());
    }

    /**
     * The old owner's copy workers stand still while they connect to the target (a SIGSTOP that
     * lands there): the new owner takes the sync (ending the old one's repository sessions), ends
     * its sessions on the dbs (its source snapshot with them) and copies the table in parts; then
     * the old workers connect, after the cut, with nothing left to end them. The first to reach a
     * split table used to empty it on the target and commit (that needs no source), so the target
     * lost every row the new owner had copied, and nothing would ever copy them again.
     */
    @Test
    void aCopyWorkerThatConnectsAfterTheTakeoverWritesNothing() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        assumeTrue(src.version().has(SqlFeature.SNAPSHOT_EXPORT), "parts need an exported snapshot (9.2)");
        String table = "CREATE TABLE t (id int PRIMARY KEY, v int, note text)";
        src.exec(table, "INSERT INTO t SELECT g, g, repeat('x', 80) FROM generate_series(1, 20000) g",
                "VACUUM ANALYZE t");
        dst.exec(table);
        try (TcpProxy proxy = TcpProxy.to(dst); ReplicaSet set = ReplicaSet.on(src, proxy.address(dst))) {
            Model m = set.model();
            m.sync("s", "src", List.of("dst"), "public.t:id").capture("src");
            // a one-time copy in parts: two workers, and t (about 2 MB) is above the split size
            m.sql("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's'");
            m.sql("INSERT INTO ibex.config (name, setting) VALUES (?, '2'), (?, '0.5')", Tunable.COPY_PARALLEL.key(),
                    Tunable.COPY_SPLIT_MB.key());
            Thread stale = staleRunHeldAt(proxy, set, 2, "c1's two copy workers connecting to the target");

            takeOverAndRun(set);
            ReplicaSet.assertSameRows(src, dst, "t", "id");
            assertTrue(Long.parseLong(dst.scalar("SELECT count(DISTINCT xmin::text) FROM t")) > 1,
                    "the new owner copied t in parts");

            proxy.release();
            stale.join(60_000);
            eventually(Duration.ofSeconds(60), "c1's copy workers ending", () -> Thread.getAllStackTraces().keySet()
                    .stream().noneMatch(t -> t.getName().startsWith("ibex-copy-s-")));
            ReplicaSet.assertSameRows(src, dst, "t", "id");
            assertEquals("0", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's'"));
        }
    }

    /**
     * Controller c1 holds sync s (its row has no liveness lock, so c2 takes it for dead) and starts
     * a run, whose next {@code connections} connections to the target the proxy holds; returns
     * once they are held.
     */
    private static Thread staleRunHeldAt(TcpProxy proxy, ReplicaSet set, int connections, String what)
            throws InterruptedException {
        Model m = set.model();
        m.sql("INSERT INTO ibex.controller (id, pid, host) VALUES (1, 1, 'one'), (2, 2, 'two')");
        m.sql("INSERT INTO ibex.sync_claim (sync, controller) VALUES ('s', 1)");
        long epoch = Long.parseLong(set.repoDb().scalar("SELECT epoch FROM ibex.sync_claim WHERE sync = 's'"));
        proxy.holdNext(connections);
        Thread stale = new Thread(() -> staleRun(set, epoch), "stale-c1");
        stale.start();
        eventually(Duration.ofSeconds(30), what, () -> proxy.held() == connections);
        return stale;
    }

    /** Controller c1's run of sync s; its sessions are ended under it, so how it fails does not matter. */
    private static void staleRun(ReplicaSet set, long epoch) {
        try (Repository r = Repository.open(Model.spec(set.repoDb()), "ibex c1 kid s");
             DbPools pools = new DbPools().applicationName("ibex c1");
             SyncRunner runner = new SyncRunner(r, pools).fence(new ClaimFence("s", 1, epoch))) {
            runner.runOnce("s");
        } catch (RuntimeException e) {
            // expected: its repository session and source snapshot were ended
        }
    }

    /**
     * setval is not transactional, and a pool hands out a fresh connection in place of one the new
     * owner ended: the old owner read the sequence in its batch and stood still before it took a
     * target connection; the new owner took the sync, ended its sessions and set the newer value;
     * then the old one's pool connected again and set the older value back, a value the target's
     * sequence had already handed out.
     */
    @Test
    void aStaleRunSetsNoSequenceBackAfterTheTakeover() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v int)", "CREATE SEQUENCE ids");
        }
        src.exec("SELECT nextval('ids') FROM generate_series(1, 10)");
        try (TcpProxy proxy = TcpProxy.to(dst); ReplicaSet set = ReplicaSet.on(src, proxy.address(dst))) {
            Model m = set.model();
            m.sync("s", false, List.of(m.table("src", "public", "t", "id"), m.sequence("src", "ids")), "src", "dst")
                    .capture("src");
            // nothing changed in t: the sequence's setval is c1's first connection to the target
            Thread stale = staleRunHeldAt(proxy, set, 1, "c1 connecting to the target to set the sequence");
            src.exec("SELECT nextval('ids') FROM generate_series(1, 10)");
            takeOverAndRun(set);
            assertEquals("20", dst.scalar("SELECT last_value FROM ids"), "the new owner set the sequence");

            proxy.release();
            stale.join(60_000);
            assertTrue(!stale.isAlive(), "c1's run ended");
            assertEquals("20", dst.scalar("SELECT last_value FROM ids"), "c1 set no older value back");
        }
    }

    /**
     * A controller stopped (SIGSTOP) inside its own round of {@link Claims} holds the claims' lock
     * until its session ends, and every other controller's round waited for it for ever: nobody
     * took its syncs (MultiControllerIT saw a stop land there once). Now a round waits at most
     * {@link Claims#ROUND_WAIT}, cuts off a controller past its lease, and a later round takes its
     * syncs.
     */
    @Test
    void aControllerStoppedInsideItsRoundIsCutOffAndItsSyncsTaken() throws Exception {
        try (ReplicaSet set = setUp()) {
            Model m = set.model();
            m.sql("INSERT INTO ibex.controller (id, pid, host, heartbeat) VALUES "
                    + "(1, 1, 'one', now() - interval '1 minute'), (2, 2, 'two', now())");
            m.sql("INSERT INTO ibex.sync_claim (sync, controller) VALUES ('s', 1)");
            try (Repository c1 = Repository.open(Model.spec(set.repoDb()), "ibex c1 controller");
                 Repository c2 = Repository.open(Model.spec(set.repoDb()), "ibex c2 controller")) {
                // c1 lives by its lock, and stood still inside a round: the claims' lock held, uncommitted
                assertTrue(c1.one("SELECT pg_try_advisory_lock(?, ?)", rs -> rs.getBoolean(1),
                        RunningController.CONTROLLER_LOCK_CLASS, 1).orElseThrow());
                c1.commit();
                Claims.serialize(c1);

                try {
                    assertEquals(null, assertTimeoutPreemptively(Duration.ofSeconds(20),
                            () -> Claims.rebalance(c2, 2, Duration.ofSeconds(10), true),
                            "a round waits for c1's at most ROUND_WAIT"), "no round while c1 holds the claims' lock");
                } finally {
                    // a round still waiting would keep c2's connection busy, and closing it would wait too
                    set.repoDb().exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            + "WHERE application_name = 'ibex c1 controller'");
                }
                c2.commit();
                Claims.Balance[] taken = new Claims.Balance[1];
                eventually(Duration.ofSeconds(30), "a round of c2 that takes s", () -> {
                    taken[0] = Claims.rebalance(c2, 2, Duration.ofSeconds(10), true);
                    c2.commit();
                    return taken[0] != null && taken[0].held().containsKey("s");
                });
                assertEquals(Integer.valueOf(1), taken[0].held().get("s").previous(), "taken from c1");
                assertEquals("0", set.repoDb().scalar("SELECT count(*) FROM pg_stat_activity "
                        + "WHERE application_name = 'ibex c1 controller'"), "c1's session cut off");
            }
        }
    }

    /** Controller c2 takes sync s from c1 (dead: no liveness lock), ends c1's sessions and runs it once, well. */
    private static void takeOverAndRun(ReplicaSet set) {
        try (Repository r = Repository.open(Model.spec(set.repoDb()), "ibex c2 kid s");
             DbPools pools = new DbPools().applicationName("ibex c2")) {
            Claims.Balance b = Claims.rebalance(r, 2, Duration.ofSeconds(10), true);
            r.commit();
            Claims.Claim claim = b.held().get("s");
            assertEquals(Integer.valueOf(1), claim.previous(), b.toString());
            TargetFence.cutOff(r, pools, "s", 1, db -> true);
            try (SyncRunner owner = new SyncRunner(r, pools).fence(claim.fence(2))) {
                SyncRunner.Result run = owner.runOnce("s");
                assertTrue(!run.outcome().failed(), run.toString());
            }
        }
    }
}
