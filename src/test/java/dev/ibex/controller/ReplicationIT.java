package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.replicate.Writers;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The controller driving the real engine: rows on the target equal rows on the source. */
class ReplicationIT {

    /** Row ids the writer inserts, new for every insert. */
    private static final AtomicInteger IDS = new AtomicInteger();

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, v text)";
    private static final String CHANGES = "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g; "
            + "UPDATE t SET v = 'changed' WHERE id <= 10; DELETE FROM t WHERE id > 990";

    private Model model;
    private TestDb repo;
    private TestDb src;

    private TestDb model(TestDb dst, String syncOptions) {
        return model(PgServers.repository(), dst, syncOptions);
    }

    private TestDb model(TestDb source, TestDb dst, String syncOptions) {
        model = ReplicaSet.on(source, dst, TABLE).model();
        repo = model.repoDb();
        src = source;
        model.sync("s", "src", List.of("dst"), "public.t:id");
        if (!syncOptions.isEmpty()) {
            repo.exec("UPDATE ibex.sync SET " + syncOptions + " WHERE name = 's'");
        }
        return dst;
    }

    private void awaitStartupRun() throws InterruptedException {
        eventually(Duration.ofSeconds(30), "the start-up run",
                () -> model.runs("s", "empty") + model.runs("s", "good") >= 1);
    }

    private void assertSameRows(TestDb dst) {
        assertEquals(src.checksum("t", "id"), dst.checksum("t", "id"));
    }

    @Test
    void kickWithATimeoutWaitsForTheRunAndTheTargetThenEqualsTheSource() throws Exception {
        TestDb dst = model(PgServers.repository(), "autokick = false");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            awaitStartupRun();
            src.exec(CHANGES);
            assertEquals(0, dst.count("t"), "nothing moves without a kick");
            Cli.Result before = Cli.run(repo, "status", "s");
            assertTrue(before.out().contains("Backlog                  : 1020 change(s)\n"), before.out());
            Cli.Result r = Cli.run(repo, "kick", "s", "30", "--timer");
            assertEquals(0, r.exit(), r.toString());
            // Bucardo's counter: "[N s] " rewritten in place with backspaces, here with the run's progress
            assertTrue(r.out().matches("(?s)Kick s: \\[0 s\\] .*DONE!\n"), r.out());
            assertEquals(990, dst.count("t"));
            assertSameRows(dst);
            Cli.Result after = Cli.run(repo, "status", "s");
            assertTrue(after.out().contains("Backlog                  : 0 change(s)\nLag                      : 0s\n"),
                    after.out());
            assertTrue(after.out().contains("Rows deleted/inserted    : 0 / 990\n"), after.out());
        }
    }

    @Test
    void syncsAddedAndRemovedWithTheCliReachARunningControllerWithoutReload() throws Exception {
        TestDb dst = model(PgServers.repository(), "");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            awaitStartupRun();
            Cli.Result add = Cli.run(repo, "add", "sync", "second", "relgroup=s_rel", "dbs=s_dbs");
            assertEquals(0, add.exit(), add.toString());
            eventually(Duration.ofSeconds(20), "a worker for the new sync", () -> kidThreadRuns("second"));
            eventually(Duration.ofSeconds(20), "a run of the new sync",
                    () -> model.runs("second", "empty") + model.runs("second", "good") >= 1);
            Cli.Result remove = Cli.run(repo, "remove", "sync", "second");
            assertEquals(0, remove.exit(), remove.toString());
            eventually(Duration.ofSeconds(20), "the worker of the removed sync to stop", () -> !kidThreadRuns("second"));
            src.exec(CHANGES);
            eventually(Duration.ofSeconds(30), "the remaining sync replicating",
                    () -> dst.checksum("t", "id").equals(src.checksum("t", "id")));
        }
    }

    private static boolean kidThreadRuns(String sync) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("ibex-sync-" + sync));
    }

    @Test
    void autokickReplicatesAWriteWithoutAKick() throws Exception {
        TestDb dst = model(PgServers.repository(), "");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            awaitStartupRun();
            src.exec(CHANGES);
            eventually(Duration.ofSeconds(30), "the target to catch up by autokick",
                    () -> dst.checksum("t", "id").equals(src.checksum("t", "id")));
            assertEquals(990, dst.count("t"));
        }
    }

    /**
     * Autokick looks for committed changes: a transaction that was still open when the run it
     * caused began must be picked up once it commits, with no other write and no kick.
     */
    @Test
    void autokickSeesATransactionThatCommitsAfterTheRunItsWriteStarted() throws Exception {
        TestDb dst = model(PgServers.source(), PgServers.target(), "");
        try (InProcessController c = new InProcessController(repo);
             Connection late = src.connect(); Statement st = late.createStatement()) {
            c.assertRunning();
            awaitStartupRun();
            late.setAutoCommit(false);
            st.execute("INSERT INTO t VALUES (1, 'late')");
            src.exec("INSERT INTO t VALUES (2, 'early')");
            eventually(Duration.ofSeconds(30), "the committed row by autokick", () -> dst.count("t") == 1);
            long runs = model.runs("s", "good") + model.runs("s", "empty");
            late.commit();
            eventually(Duration.ofSeconds(30), "the late row by autokick", () -> dst.count("t") == 2);
            assertSameRows(dst);
            assertTrue(model.runs("s", "good") + model.runs("s", "empty") > runs);
        }
    }

    /** A long transaction elsewhere on the source keeps its xid in every snapshot; autokick still works. */
    @Test
    void autokickIsNotHeldBackByALongTransactionElsewhere() throws Exception {
        TestDb dst = model(PgServers.source(), PgServers.target(), "");
        src.exec("CREATE TABLE uncaptured (id int)");
        try (InProcessController c = new InProcessController(repo);
             Connection longOne = src.connect(); Statement st = longOne.createStatement()) {
            c.assertRunning();
            awaitStartupRun();
            longOne.setAutoCommit(false);
            st.execute("INSERT INTO uncaptured VALUES (1)");
            for (int round = 1; round <= 3; round++) {
                src.exec("INSERT INTO t SELECT g, 'r' FROM generate_series(" + round * 100 + ", " + (round * 100 + 9)
                        + ") g");
                int expected = round * 10;
                eventually(Duration.ofSeconds(30), "round " + round + " by autokick", () -> dst.count("t") == expected);
            }
            longOne.rollback();
            assertSameRows(dst);
        }
    }

    @Test
    void checktimeRunsASyncThatIsNeverKicked() throws Exception {
        TestDb dst = model(PgServers.repository(), "autokick = false, checktime = '1 second'");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            awaitStartupRun();
            src.exec(CHANGES);
            eventually(Duration.ofSeconds(30), "the target to catch up by checktime",
                    () -> dst.checksum("t", "id").equals(src.checksum("t", "id")));
            assertEquals(990, dst.count("t"));
        }
    }

    @Test
    void aTargetRestartedUnderLoadConvergesWithNoCommand() throws Exception {
        Path data = Files.createTempDirectory("ibex-target");
        EmbeddedPostgres target = startKeepingData(data, 0);
        int port = target.getPort();
        TestDb dst = model(new TestDb(target, "localhost", port, "postgres", "postgres"), "");
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.2'), ('kid_retry_max', '1')");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            awaitStartupRun();
            try (Writers writers = Writers.start(src, 1, 1, ReplicationIT::change)) {
                writers.awaitCommits(100);
                long badBefore = model.runs("s", "bad");
                target.close();
                eventually(Duration.ofSeconds(60), "a failed run while the target is down",
                        () -> model.runs("s", "bad") > badBefore);
                target = startKeepingData(data, port);
                writers.awaitCommits(writers.committed() + 100); // changes made while the target is back
                writers.stop();
                assertTrue(writers.committed() > 200, "the writer committed " + writers.committed());
            }
            eventually(Duration.ofSeconds(90), "the target to converge after its restart",
                    () -> dst.checksum("t", "id").equals(src.checksum("t", "id")));
            c.assertRunning();
        } finally {
            target.close();
        }
    }

    /** Inserts new rows, updates and deletes some of them. */
    private static String change(ThreadLocalRandom r) {
        int id = IDS.incrementAndGet();
        return switch (r.nextInt(4)) {
            case 0 -> "UPDATE t SET v = v || '+' WHERE id = " + (id / 2);
            case 1 -> "DELETE FROM t WHERE id = " + (id / 3);
            default -> "INSERT INTO t VALUES (" + id + ", 'w" + id + "')";
        };
    }

    /** A server whose data survives close(), so it can come back on the same port with the same rows. */
    private static EmbeddedPostgres startKeepingData(Path data, int port) throws IOException {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setDataDirectory(data)
                .setCleanDataDirectory(false)
                .setServerConfig("fsync", "off")
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setPGStartupWait(Duration.ofSeconds(60));
        if (port > 0) {
            b.setPort(port);
        }
        return b.start();
    }
}
