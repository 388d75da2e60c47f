package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.replicate.ClaimFence;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.repository.Repository;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * A controller taking a sync over from another one that died: what the dead one had still to do
 * for the sync is done before the new owner's first run.
 */
class TakeoverIT {

    /** The id of the controller that dies: far above any a real controller of the test gets. */
    private static final int DEAD = 9001;

    /** Registers controller {@link #DEAD} as live, as its session would: liveness lock, row, heartbeat. */
    private static final String ANNOUNCE = """
            SELECT pg_advisory_lock(%d, %d);
            INSERT INTO ibex.controller (id, pid, host, backend) VALUES (%d, 1, 'elsewhere', pg_backend_pid());
            INSERT INTO ibex.sync_claim (sync, controller) VALUES ('s', %d)""".formatted(
            RunningController.CONTROLLER_LOCK_CLASS, DEAD, DEAD, DEAD);

    /** Controller {@link #DEAD}, live and holding sync s until its connection closes. */
    private static Connection deadOwner(ReplicaSet set) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", set.repoDb().user());
        p.setProperty("ApplicationName", ControllerSession.appPrefix(DEAD) + " controller");
        Connection dead = DriverManager.getConnection(set.repoDb().url(), p);
        try (Statement st = dead.createStatement()) {
            st.execute(ANNOUNCE);
        }
        return dead;
    }

    /** A good run of s under {@link #DEAD}'s claim. */
    private static void runAsTheDeadOwner(ReplicaSet set) {
        long epoch = Long.parseLong(set.repoDb().scalar("SELECT epoch FROM ibex.sync_claim WHERE sync = 's'"));
        try (Repository r = Repository.open(Model.spec(set.repoDb()));
             SyncRunner run = new SyncRunner(r).fence(new ClaimFence("s", DEAD, epoch))) {
            assertEquals("good", run.runOnce("s").state(), "the old owner's run");
        }
    }

    /**
     * A target the new owner cannot reach as it takes the sync over: the dead owner's sessions
     * there cannot be ended yet, so the runs leave that target out until they are, and the other
     * target goes on (every run used to fail on the unreachable one, stalling both); once it
     * answers, its sessions are ended and it catches up.
     */
    @Test
    void aTargetUnreachableAtTheTakeoverIsLeftOutAndTheOtherGoesOn() throws Exception {
        TestDb b = PgServers.target();
        b.exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v int)")) {
            Model m = set.model();
            m.db("b", b);
            m.sync("s", "src", List.of("dst", "b"), "public.t:id").capture("src");
            m.sql("INSERT INTO ibex.config (name, setting) VALUES ('controller_lease', '600'), "
                    + "('kid_retry_min', '1'), ('kid_retry_max', '2')");
            Connection dead = deadOwner(set);
            try {
                set.src().exec("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
                runAsTheDeadOwner(set);
                m.sql("UPDATE ibex.db SET port = 1 WHERE name = 'b'");
                try (InProcessController live = new InProcessController(set.repoDb())) {
                    eventually(Duration.ofSeconds(10), "the new controller's first rounds", () -> Long.parseLong(
                            set.repoDb().scalar("SELECT count(*) FROM ibex.controller")) == 2);
                    dead.close();
                    set.src().exec("INSERT INTO t SELECT g, g FROM generate_series(101, 200) g",
                            "UPDATE t SET v = -v WHERE id <= 50");
                    eventually(Duration.ofSeconds(30), "dst to take the writes after the takeover, b unreachable",
                            () -> set.src().checksum("t", "id").equals(set.dst().checksum("t", "id")));
                    assertEquals("100", b.scalar("SELECT count(*) FROM t"), "b was out of reach");
                    m.sql("UPDATE ibex.db SET port = ? WHERE name = 'b'", b.port());
                    eventually(Duration.ofSeconds(30), "b to catch up once it answers",
                            () -> set.src().checksum("t", "id").equals(b.checksum("t", "id")));
                    ReplicaSet.assertSameRows(set.src(), b, "t", "id");
                    set.assertSameRows("t", "id");
                    live.assertRunning();
                }
            } finally {
                dead.close();
            }
        }
    }

    /**
     * Table u joined sync s while its source's capture check could not go through ('ibex add
     * table --force' with the source unreachable; the owner's reload check failed too, and its
     * retries died with it). The controller that takes s over must check capture first, as a
     * reload does: it used to start the kid at once, which copied u whole and then, with no
     * trigger on u, never saw another write to it.
     */
    @Test
    void theCaptureOfASyncTakenFromADeadControllerIsCheckedBeforeItsFirstRun() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v int)",
                "CREATE TABLE u (id int PRIMARY KEY, v int)")) {
            Model m = set.model();
            m.sync("s", "src", List.of("dst"), "public.t:id").capture("src");
            // the lease outlasts the test: the dead controller is found by its lock going, at once
            m.sql("INSERT INTO ibex.config (name, setting) VALUES ('controller_lease', '600')");
            Connection dead = deadOwner(set);
            try {
                set.src().exec("INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
                runAsTheDeadOwner(set);
                try (InProcessController live = new InProcessController(set.repoDb())) {
                    eventually(Duration.ofSeconds(10), "the new controller's first rounds", () -> Long.parseLong(
                            set.repoDb().scalar("SELECT count(*) FROM ibex.controller")) == 2);
                    assertEquals(Integer.toString(DEAD), set.repoDb().scalar(
                            "SELECT controller FROM ibex.sync_claim WHERE sync = 's'"), "s stays with its live owner");
                    set.src().exec("INSERT INTO u SELECT g, g FROM generate_series(1, 100) g");
                    m.sql("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES ('s_rel', ?)",
                            m.table("src", "public", "u", "id"));
                    // it dies: its session, and with it its liveness lock, goes
                    dead.close();
                    eventually(Duration.ofSeconds(20), "the live controller to take s over and run it",
                            () -> Long.parseLong(set.repoDb().scalar("SELECT count(*) FROM ibex.run r "
                                    + "JOIN ibex.sync_claim k USING (sync) WHERE r.sync = 's' AND r.state = 'good' "
                                    + "AND r.started > k.claimed AND k.controller <> " + DEAD)) > 0);
                    set.src().exec("INSERT INTO u SELECT g, g FROM generate_series(101, 200) g",
                            "UPDATE u SET v = -v WHERE id <= 50", "INSERT INTO t SELECT g, g FROM generate_series(101, 200) g");
                    Cli.Result k = Cli.run(set.repoDb(), "kick", "s", "30");
                    assertEquals(0, k.exit(), k.toString());
                    set.assertSameRows("t", "id");
                    set.assertSameRows("u", "id");
                    live.assertRunning();
                }
            } finally {
                dead.close();
            }
        }
    }
}
