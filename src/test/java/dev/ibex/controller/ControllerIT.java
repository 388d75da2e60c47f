package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The controller as users run it: `ibex start` through bin/ibex, a JVM of its own in the background. */
class ControllerIT {

    /** What `ibex start` prints. */
    static final Pattern STARTED = Pattern.compile("Started the ibex controller \\(pid (\\d+)\\); log: (.+)");

    private Model model;
    private TestDb repo;
    private Path piddir;
    private Path logDir;
    private final List<Long> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    private Cli.Result ibex(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of(repo.repositoryOptions()));
        all.addAll(List.of("--piddir", piddir.toString(), "--log-dir", logDir.toString()));
        return Cli.process(Map.of(), all.toArray(String[]::new));
    }

    private long start() {
        Cli.Result r = ibex("start");
        assertEquals(0, r.exit(), r + "\n--- log\n" + log());
        Matcher m = STARTED.matcher(r.out().strip());
        assertTrue(m.matches(), r.toString());
        long pid = Long.parseLong(m.group(1));
        started.add(pid);
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "controller process runs");
        assertEquals(pid, new PidFile(piddir).read().orElse(-1L), "pid file");
        return pid;
    }

    private String log() {
        try {
            return Files.readString(ControllerLog.file(logDir));
        } catch (java.io.IOException e) {
            return "(no log)";
        }
    }

    private void setUp() throws Exception {
        model = Model.create().failingSync("s");
        repo = model.repoDb();
        piddir = Files.createTempDirectory("ibex-pid");
        logDir = Files.createTempDirectory("ibex-log");
    }

    @Test
    void startStopRestartAndASecondStartIsRefused() throws Exception {
        setUp();
        long pid = start();
        Cli.Result status = Cli.run(repo, "status");
        assertTrue(status.out().startsWith("PID of ibex controller: " + pid + " on host "), status.toString());

        Cli.Result second = ibex("start");
        assertEquals(1, second.exit(), second.toString());
        assertTrue(second.err().startsWith("Another ibex controller is running on this repository (pid " + pid
                + " on host "), second.toString());
        assertTrue(ProcessHandle.of(pid).get().isAlive(), "the first controller still runs");

        Cli.Result restart = ibex("restart");
        assertEquals(0, restart.exit(), restart.toString());
        assertTrue(restart.out().startsWith("Stopping the ibex controller (pid " + pid), restart.toString());
        Matcher m = STARTED.matcher(restart.out().lines().reduce((a, b) -> b).orElse(""));
        assertTrue(m.matches(), restart.toString());
        long second2 = Long.parseLong(m.group(1));
        started.add(second2);
        assertNotEquals(pid, second2);
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the old controller is gone");

        Cli.Result stop = ibex("stop");
        assertEquals(0, stop.exit(), stop.toString());
        assertTrue(stop.out().strip().endsWith("... Done"), stop.toString());
        assertFalse(ProcessHandle.of(second2).map(ProcessHandle::isAlive).orElse(false), "stopped controller is gone");
        assertFalse(Files.exists(piddir.resolve(PidFile.NAME)), "pid file removed");
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.controller"));
        assertTrue(log().contains("ibex controller stopped"), log());
        assertTrue(log().contains("[ibex-sync-s] s "), "kid log lines carry thread and sync: " + log());

        Cli.Result again = ibex("stop");
        assertEquals(0, again.exit(), again.toString());
        assertEquals("The ibex controller is not running\n", again.out());
        Cli.Result after = Cli.run(repo, "status");
        assertTrue(after.out().startsWith("The ibex controller is not running\n"), after.toString());
    }

    @Test
    void startAfterKill9TakesOverTheLockAndTheStalePidFile() throws Exception {
        setUp();
        long pid = start();
        eventually(Duration.ofSeconds(20), "the start-up run", () -> model.runs("s", "bad") >= 1);
        repo.exec("INSERT INTO ibex.run (sync) VALUES ('s')");  // a run the killed controller leaves open
        ProcessHandle.of(pid).get().destroyForcibly();
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
        eventually(Duration.ofSeconds(20), "the lock to be released",
                () -> Cli.run(repo, "status").out().startsWith("The ibex controller is not running"));
        assertTrue(Files.exists(piddir.resolve(PidFile.NAME)), "kill -9 leaves the pid file");

        long next = start();
        assertNotEquals(pid, next);
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.run WHERE state = 'running' AND error IS NULL "
                + "AND id < (SELECT max(id) FROM ibex.run)"));
        assertTrue(repo.scalar("SELECT string_agg(error, ',') FROM ibex.run").contains("Old entry ended"),
                "the open run was ended");
        Cli.Result stop = ibex("stop");
        assertEquals(0, stop.exit(), stop.toString());
    }

    @Test
    void sigtermStopsGracefully() throws Exception {
        setUp();
        long pid = start();
        ProcessHandle p = ProcessHandle.of(pid).orElseThrow();
        p.destroy();
        p.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertFalse(Files.exists(piddir.resolve(PidFile.NAME)), "pid file removed");
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.controller"));
        assertTrue(log().contains("Stopping on a signal") && log().contains("ibex controller stopped"), log());
        assertTrue(Cli.run(repo, "status").out().startsWith("The ibex controller is not running"));
    }
}
