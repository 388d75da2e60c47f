package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several controllers on one repository, as real processes started through bin/ibex, each with a
 * pid and log directory of its own (as on hosts of their own): the syncs are spread over them, a
 * killed one's syncs move within 15 s, and a stopped-and-resumed one applies no stale batch.
 */
class MultiControllerIT {

    private static final String TABLE = "(id int PRIMARY KEY, v int, note text)";

    /** One controller: its pid and directories. */
    private record Ctl(long pid, Path piddir, Path logDir) {
        String log() {
            try {
                return Files.readString(ControllerLog.file(logDir));
            } catch (IOException e) {
                return "(no log)";
            }
        }
    }

    private ReplicaSet set;
    private TestDb repo;
    private TestDb src;
    private TestDb dst;
    private final List<Ctl> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Ctl c : started) {
            if (ProcessHandle.of(c.pid()).map(ProcessHandle::isAlive).orElse(false)) {
                signal("CONT", c.pid());
                ProcessHandle.of(c.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        if (set != null) {
            set.close();
        }
    }

    private void setUp(String... syncs) {
        List<String> schema = new ArrayList<>();
        for (String s : syncs) {
            schema.add("CREATE TABLE " + s + "_t " + TABLE);
        }
        set = ReplicaSet.create(schema.toArray(String[]::new));
        repo = set.repoDb();
        src = set.src();
        dst = set.dst();
        model(set.model(), syncs);
    }

    private static void model(Model m, String... syncs) {
        for (String s : syncs) {
            m.sync(s, "src", List.of("dst"), "public." + s + "_t:id");
        }
        m.capture("src");
    }

    private Cli.Result ibex(Path piddir, Path logDir, String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of(repo.repositoryOptions()));
        all.addAll(List.of("--piddir", piddir.toString(), "--log-dir", logDir.toString()));
        return Cli.process(Map.of(), all.toArray(String[]::new));
    }

    private Ctl start() throws IOException {
        Path piddir = Files.createTempDirectory("ibex-pid");
        Path logDir = Files.createTempDirectory("ibex-log");
        Cli.Result r = ibex(piddir, logDir, "start");
        assertEquals(0, r.exit(), r.toString());
        Matcher m = ControllerIT.STARTED.matcher(r.out().strip());
        assertTrue(m.matches(), r.toString());
        Ctl c = new Ctl(Long.parseLong(m.group(1)), piddir, logDir);
        started.add(c);
        return c;
    }

    private static void signal(String sig, long pid) {
        try {
            new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The pid of the controller holding the sync's claim, or -1. */
    private long holder(String sync) {
        String pid = repo.scalar("SELECT c.pid FROM ibex.sync_claim k JOIN ibex.controller c ON c.id = k.controller "
                + "WHERE k.sync = '" + sync + "'");
        return pid == null ? -1 : Long.parseLong(pid);
    }

    private long count(String sql) {
        return Long.parseLong(repo.scalar(sql));
    }

    private void kickAndCompare(String... syncs) {
        for (String s : syncs) {
            Cli.Result k = Cli.run(repo, "kick", s, "0");
            assertEquals(0, k.exit(), k.toString());
        }
        for (String s : syncs) {
            ReplicaSet.assertSameRows(src, dst, s + "_t", "id");
        }
    }

    @Test
    void aKilledControllersSyncsMoveWithin15sAndNothingIsLost() throws Exception {
        setUp("s1", "s2", "s3");
        Ctl a = start();
        Ctl b = start();
        Ctl c = start();
        eventually(Duration.ofSeconds(30), "the syncs spread over the three controllers",
                () -> count("SELECT count(DISTINCT controller) FROM ibex.sync_claim") == 3
                        && count("SELECT count(*) FROM ibex.sync_claim") == 3);
        Cli.Result status = Cli.run(repo, "status");
        assertEquals(3, status.out().lines().filter(l -> l.startsWith("PID of ibex controller: ")).count(),
                status.toString());
        Cli.Result json = Cli.run(repo, "status", "--json");
        assertTrue(json.out().contains("\"controllers\""), json.toString());
        long owner = holder("s2");
        Cli.Result detail = Cli.run(repo, "status", "s2");
        assertTrue(detail.out().lines().anyMatch(l -> l.startsWith("Controller") && l.contains("pid " + owner + " ")),
                detail.toString());

        try (Writers busy = Writers.start(src, 3, 1000, "s1_t");
             Writers light = Writers.start(src, 1, 1000, "s2_t", "s3_t")) {
            busy.awaitCommits(300);
            light.awaitCommits(50);
            eventually(Duration.ofSeconds(30), "good runs of s1",
                    () -> count("SELECT count(*) FROM ibex.run WHERE sync = 's1' AND state = 'good'") > 0);
            long victim = holder("s1");
            Ctl dead = started.stream().filter(x -> x.pid() == victim).findFirst().orElseThrow();
            String epoch = repo.scalar("SELECT epoch FROM ibex.sync_claim WHERE sync = 's1'");
            long killed = System.nanoTime();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();
            eventually(Duration.ofSeconds(20), "another controller to take s1",
                    () -> holder("s1") != -1 && holder("s1") != victim);
            double seconds = (System.nanoTime() - killed) / 1e9;
            assertTrue(seconds < 15, "taken over after " + seconds + " s");
            assertNotEquals(epoch, repo.scalar("SELECT epoch FROM ibex.sync_claim WHERE sync = 's1'"));
            String since = repo.scalar("SELECT claimed FROM ibex.sync_claim WHERE sync = 's1'");
            long before = busy.committed();
            busy.awaitCommits(before + 200);
            eventually(Duration.ofSeconds(30), "a good run of s1 by its new controller",
                    () -> count("SELECT count(*) FROM ibex.run WHERE sync = 's1' AND state = 'good' AND started > '"
                            + since + "'") > 0);
            assertTrue(count("SELECT count(*) FROM ibex.sync_claim") == 3, "every sync is held");
            assertTrue(started.stream().filter(x -> x != dead).anyMatch(x -> x.log().contains("Took sync s1 over from")),
                "the new owner says so in its log");
        }
        kickAndCompare("s1", "s2", "s3");
        Cli.Result stop = ibex(a.piddir(), a.logDir(), "stop", "--all");
        assertEquals(0, stop.exit(), stop.toString());
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.controller c WHERE " + RunningController.LOCKED));
        for (Ctl x : List.of(a, b, c)) {
            ProcessHandle.of(x.pid()).ifPresent(p -> p.onExit().join());
        }
    }

    @Test
    void everyControllerResumesAfterTheRepositoryRestarts() throws Exception {
        Path data = Files.createTempDirectory("ibex-repository");
        EmbeddedPostgres server = startKeepingData(data, 0);
        int port = server.getPort();
        try {
            repo = new TestDb(server, "localhost", port, "postgres", "postgres");
            src = PgServers.source();
            dst = PgServers.target();
            for (String s : List.of("s1", "s2")) {
                src.exec("CREATE TABLE " + s + "_t " + TABLE);
                dst.exec("CREATE TABLE " + s + "_t " + TABLE);
            }
            try (Model m = Model.on(repo)) {
                m.db("src", src).db("dst", dst);
                model(m, "s1", "s2");
            }
            repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_max', '2')");
            Ctl a = start();
            Ctl b = start();
            eventually(Duration.ofSeconds(30), "one sync each",
                    () -> count("SELECT count(DISTINCT controller) FROM ibex.sync_claim") == 2);
            try (Writers w = Writers.start(src, 2, 200, "s1_t", "s2_t")) {
                w.awaitCommits(200);
                server.close();
                w.awaitCommits(w.committed() + 200);
                server = startKeepingData(data, port);
                repo = new TestDb(server, "localhost", port, "postgres", "postgres");
                String back = repo.scalar("SELECT now()");
                eventually(Duration.ofSeconds(60), "both controllers back, one sync each, good runs of both",
                        () -> count("SELECT count(DISTINCT k.controller) FROM ibex.sync_claim k JOIN ibex.controller c "
                                + "ON c.id = k.controller WHERE " + RunningController.LOCKED) == 2
                                && count("SELECT count(DISTINCT sync) FROM ibex.run WHERE state = 'good' AND started > '"
                                        + back + "'") == 2);
                assertTrue(ProcessHandle.of(a.pid()).map(ProcessHandle::isAlive).orElse(false), "a runs");
                assertTrue(ProcessHandle.of(b.pid()).map(ProcessHandle::isAlive).orElse(false), "b runs");
            }
            kickAndCompare("s1", "s2");
            Cli.Result stop = ibex(a.piddir(), a.logDir(), "stop", "--all");
            assertEquals(0, stop.exit(), stop.toString());
        } finally {
            for (Ctl c : started) {
                ProcessHandle.of(c.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
            server.close();
        }
    }

    /** A server whose data survives close(), so it can come back on the same port with the same rows. */
    private static EmbeddedPostgres startKeepingData(Path data, int port) throws IOException {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false)
                .setServerConfig("fsync", "off").setServerConfig("listen_addresses", "127.0.0.1")
                .setPGStartupWait(Duration.ofSeconds(60));
        if (port > 0) {
            b.setPort(port);
        }
        return b.start();
    }

    @Test
    void aStoppedAndResumedControllerAppliesNoStaleBatchAndGivesTheSyncUp() throws Exception {
        setUp("s1", "s2");
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('controller_lease', '4')");
        Ctl a = start();
        Ctl b = start();
        eventually(Duration.ofSeconds(30), "one sync each",
                () -> count("SELECT count(DISTINCT controller) FROM ibex.sync_claim") == 2
                        && count("SELECT count(*) FROM ibex.sync_claim") == 2);
        try (Writers w = Writers.start(src, 3, 500, "s1_t", "s2_t")) {
            w.awaitCommits(300);
            long frozen = holder("s1");
            Ctl stopped = frozen == a.pid() ? a : b;
            Ctl other = stopped == a ? b : a;
            eventually(Duration.ofSeconds(30), "good runs of s1",
                    () -> count("SELECT count(*) FROM ibex.run WHERE sync = 's1' AND state = 'good'") > 0);
            signal("STOP", frozen);
            try {
                long t0 = System.nanoTime();
                eventually(Duration.ofSeconds(30), "the other controller to take s1 over",
                        () -> holder("s1") == other.pid());
                assertTrue((System.nanoTime() - t0) / 1e9 < 15, "taken over within 15 s");
                String since = repo.scalar("SELECT claimed FROM ibex.sync_claim WHERE sync = 's1'");
                long before = w.committed();
                w.awaitCommits(before + 200);
                eventually(Duration.ofSeconds(30), "newer changes applied by the new owner",
                        () -> count("SELECT count(*) FROM ibex.run WHERE sync = 's1' AND state = 'good' "
                                + "AND inserts + deletes > 0 AND started > '" + since + "'") > 0);
            } finally {
                signal("CONT", frozen);
            }
            eventually(Duration.ofSeconds(40), "the resumed controller to give s1 up",
                    () -> stopped.log().contains("Sync s1 is run by another controller now")
                            || stopped.log().contains("s1\" is now run by another controller")
                            || stopped.log().contains("Sync s1 is now run by another controller"));
            assertTrue(ProcessHandle.of(frozen).map(ProcessHandle::isAlive).orElse(false),
                    "the resumed controller carries on");
            eventually(Duration.ofSeconds(30), "the syncs shared out again",
                    () -> count("SELECT count(DISTINCT controller) FROM ibex.sync_claim") == 2);
            w.awaitCommits(w.committed() + 100);
        }
        kickAndCompare("s1", "s2");
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.run WHERE state = 'running' AND ended IS NULL "
                + "AND started < now() - interval '60 seconds'"));
        Cli.Result stop = ibex(a.piddir(), a.logDir(), "stop");
        assertEquals(0, stop.exit(), stop.toString());
        assertFalse(ProcessHandle.of(a.pid()).map(ProcessHandle::isAlive).orElse(false), "stop stops this host's");
        assertTrue(ProcessHandle.of(b.pid()).map(ProcessHandle::isAlive).orElse(false), "and only this host's");
        eventually(Duration.ofSeconds(20), "the last controller to hold both syncs",
                () -> count("SELECT count(*) FROM ibex.sync_claim k JOIN ibex.controller c ON c.id = k.controller "
                        + "WHERE c.pid = " + b.pid()) == 2);
        Cli.Result stopB = ibex(b.piddir(), b.logDir(), "stop");
        assertEquals(0, stopB.exit(), stopB.toString());
    }
}
