package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.LoggerFactory;

/** Kids, kicks and the sync switches against a controller running in this JVM (every run fails: the target lacks the table). */
class KidIT {

    /**
     * The controller is up and the kid of "s" has failed its start-up run; with kid_retry_min at 60 s
     * it now waits, so every run from then on is one a kick asks for.
     */
    private static void startUpRunFailed(InProcessController c, Model m) throws InterruptedException {
        c.assertRunning();
        eventually(Duration.ofSeconds(20), "the start-up run", () -> m.runs("s", "bad") == 1);
    }

    /** Runs the CLI, which must succeed printing exactly {@code out}. */
    private static void succeeds(TestDb repo, String out, String... args) {
        Cli.Result r = Cli.run(repo, args);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(out, r.out());
    }

    /** Runs the CLI, which must fail (exit 1) saying {@code err}. */
    private static void fails(TestDb repo, String err, String... args) {
        Cli.Result r = Cli.run(repo, args);
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains(err), r.toString());
    }

    /** What the appender holds so far (it appends under its own lock, from the kids' threads). */
    private static List<ILoggingEvent> logged(ListAppender<ILoggingEvent> lines) {
        synchronized (lines) {
            return List.copyOf(lines.list);
        }
    }

    @Test
    void failedRunsAreRecordedAndRetriedWithGrowingDelay() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.4'), ('kid_retry_max', '1.6')");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            eventually(Duration.ofSeconds(30), "five failed runs", () -> m.runs("s", "bad") >= 5);
        }
        // from the end of a failed run to the start of the next: the back-off alone, not how long a
        // run took to fail, which a busy machine stretches
        List<String> gaps = repo.column("SELECT extract(epoch FROM started - lag(ended) OVER (ORDER BY id)) "
                + "FROM ibex.run WHERE sync = 's' ORDER BY id");
        double[] g = gaps.stream().skip(1).mapToDouble(Double::parseDouble).toArray();
        // 0.4, 0.8, 1.6, 1.6: doubling, then the cap; each below the step after it
        assertTrue(g[0] >= 0.35 && g[0] < 0.8, "first retry after about 0.4 s: " + gaps);
        assertTrue(g[1] >= 0.75 && g[1] < 1.6, "second retry after about 0.8 s: " + gaps);
        assertTrue(g[2] >= 1.5 && g[2] < 3.2, "third retry at the cap: " + gaps);
        assertTrue(g[3] >= 1.5 && g[3] < 3.2, "the cap holds: " + gaps);
        assertTrue(repo.scalar("SELECT error FROM ibex.run WHERE sync = 's' ORDER BY id DESC LIMIT 1")
                .contains("Table public.t does not exist on target db \"s_dst\""));
    }

    @Test
    void kickWaitsForARunStartedAfterTheKickAndReportsItsFailure() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        m.failingSync("off");
        repo.exec("UPDATE ibex.sync SET status = 'inactive' WHERE name = 'off'");
        fails(repo, "the ibex controller is not running", "kick", "s", "5");

        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '60')");
        try (InProcessController c = new InProcessController(repo)) {
            startUpRunFailed(c, m);
            // the kid now waits 60 s before retrying; an urgent kick cuts that short
            Cli.Result killed = Cli.run(repo, "kick", "s", "20");
            assertEquals(2, killed.exit(), killed.toString());
            assertTrue(killed.out().startsWith("Kick s: KILLED!"), killed.toString());
            assertTrue(killed.out().contains("Table public.t does not exist on target db \"s_dst\""), killed.toString());
            assertEquals(2, m.runs("s", "bad"));

            succeeds(repo, "Kicked sync s\n", "kick", "s");

            Cli.Result inactive = Cli.run(repo, "kick", "off", "1");
            assertEquals(1, inactive.exit(), inactive.toString());
            assertEquals("Cannot kick inactive sync \"off\"\n", inactive.err());

            fails(repo, "No sync named \"nosuch\"", "kick", "nosuch");
        }
    }

    /**
     * A controller reconnecting to the repository holds no liveness lock (it went with its
     * session) but beat its heartbeat a moment ago: a kick must not take it for stopped, as it
     * did when the lock alone decided. Played here by a controller row without its lock; one
     * silent past controller_lease (10 s) is dead, also while a kick waits.
     */
    @Test
    void aKickTakesAControllerThatBeatWithinTheLeaseForAliveButNotOneSilentLonger() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        repo.exec("INSERT INTO ibex.controller (id, pid, host, heartbeat) VALUES (1, 1, 'here', now() - interval '11 s')");
        fails(repo, "the ibex controller is not running", "kick", "s");

        repo.exec("UPDATE ibex.controller SET heartbeat = now() WHERE id = 1");
        succeeds(repo, "Kicked sync s\n", "kick", "s");
        // no run comes, and the heartbeat is still young when the wait runs out
        Cli.Result waited = Cli.run(repo, "kick", "s", "4");
        assertEquals(1, waited.exit(), waited.toString());
        assertEquals("Timed out!\n", waited.err());

        // silent past the lease while the kick waits: reported at the next check, not at the time-out
        repo.exec("UPDATE ibex.controller SET heartbeat = now() - interval '9 s' WHERE id = 1");
        long start = System.nanoTime();
        Cli.Result dead = Cli.run(repo, "kick", "s", "60");
        assertEquals(1, dead.exit(), dead.toString());
        assertTrue(dead.err().contains("The ibex controller stopped before sync s finished a run"), dead.toString());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "reported promptly: " + dead);
    }

    /** Bucardo's kick --retry: a failed run is kicked again, and the first good one ends the wait. */
    @Test
    void kickRetryKicksAgainAfterAFailedRun() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '60')");
        try (InProcessController c = new InProcessController(repo)) {
            startUpRunFailed(c, m);
            Cli.Result failing = Cli.run(repo, "kick", "s", "20", "--retry=2");
            assertEquals(2, failing.exit(), failing.toString());
            assertEquals(3, failing.out().split("Kick s: KILLED!", -1).length - 1, failing.toString());
            assertTrue(failing.out().contains("Retrying sync s (2 of 2)\n"), failing.toString());
            assertEquals(4, m.runs("s", "bad"));

            // the target gets its table while the kick sleeps before its retry
            CompletableFuture<Cli.Result> kick = CompletableFuture.supplyAsync(
                    () -> Cli.run(repo, "kick", "s", "20", "--retry", "3", "--retrysleep=2"));
            eventually(Duration.ofSeconds(20), "the first failed run", () -> m.runs("s", "bad") == 5);
            TestDb target = new TestDb(repo.server(), repo.host(), repo.port(),
                    repo.scalar("SELECT dbname FROM ibex.db WHERE name = 's_dst'"), repo.user());
            target.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
            Cli.Result fixed = kick.get(30, TimeUnit.SECONDS);
            assertEquals(0, fixed.exit(), fixed.toString());
            assertTrue(fixed.out().matches("(?s)Kick s: KILLED!.*Retrying sync s \\(1 of 3\\) in 2 s\nKick s: DONE!\n"),
                    fixed.toString());
            assertEquals("1", target.scalar("SELECT count(*) FROM t"));
        }
    }

    @Test
    void kickTimesOutWhenNoRunEndsAndKicksDuringARunCoalesce() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '60')");
        try (InProcessController c = new InProcessController(repo)) {
            startUpRunFailed(c, m);
            // a run that never ends: the kid cannot record its failure while the run table is locked
            try (var lock = repo.connect()) {
                lock.setAutoCommit(false);
                lock.createStatement().execute("LOCK TABLE ibex.run IN EXCLUSIVE MODE");
                Cli.Result r = Cli.run(repo, "kick", "s", "2");
                assertEquals(1, r.exit(), r.toString());
                assertEquals("Kick s: \n", r.out());
                assertEquals("Timed out!\n", r.err());
                for (int i = 0; i < 3; i++) {
                    assertEquals(0, Cli.run(repo, "kick", "s").exit());
                }
                lock.rollback();
            }
            // the blocked run ends, then the three kicks made during it run once, then the back-off holds:
            // once the kid sits in its 60 s back-off wait, no kick is left for it to run (kicks that had
            // queued a run each would have run before it got there), and only a new urgent kick wakes it
            eventually(Duration.ofSeconds(20), "two more runs", () -> m.runs("s", "bad") == 3);
            eventually(Duration.ofSeconds(20), "the kid backs off after its third failed run", () -> c.kidBacksOff("s"));
            assertEquals(3, m.runs("s", "bad"));
        }
    }

    /**
     * A sync removed just as its kid starts a run ('ibex remove sync' racing a kick): the run row's
     * insert saw the sync and waited for the removal's delete, whose commit then broke its foreign
     * key. The kid gives the sync up without an error; it used to log the run at ERROR as one that
     * "needs attention", a failure nobody can fix, seen when a busy machine lined the two up.
     */
    @Test
    void aSyncRemovedAsItsRunStartsIsGivenUpWithoutAnError() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '60'), ('kid_retry_max', '60')");
        Logger kidLog = (Logger) LoggerFactory.getLogger(Kid.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        kidLog.addAppender(lines);
        try (InProcessController c = new InProcessController(repo)) {
            startUpRunFailed(c, m);
            int before = logged(lines).size(); // the start-up run's own error is logged
            try (Connection removing = repo.connect(); Statement st = removing.createStatement()) {
                removing.setAutoCommit(false);
                st.execute("DELETE FROM ibex.sync WHERE name = 's'"); // 'ibex remove sync s', not committed yet
                assertEquals(0, Cli.run(repo, "kick", "s").exit());
                eventually(Duration.ofSeconds(30), "the run's start waits for the removal", () -> !"0".equals(
                        repo.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")));
                removing.commit();
            }
            eventually(Duration.ofSeconds(30), "the kid gives the sync up", () -> logged(lines).stream()
                    .anyMatch(e -> e.getFormattedMessage().contains("this controller gives the sync up")));
            c.assertRunning();
            List<ILoggingEvent> all = logged(lines);
            List<String> errors = all.subList(before, all.size()).stream()
                    .filter(e -> e.getLevel() == Level.ERROR).map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(List.of(), errors);
        } finally {
            kidLog.detachAppender(lines);
        }
    }

    /**
     * 'ibex deactivate S N' (and activate, pause, resume) waits for the controller's answer to its
     * own reload, not to an earlier one: 'ibex resume S' (which does not wait) answered after the deactivate started listening
     * was taken for the deactivate's, which then said OK while the kid still ran (KidIT's pause
     * case failed so under load). Here the repository's controller is played by a session that
     * holds its lock: it answers a stale request first, and the command must not take that.
     */
    @Test
    void aSwitchWaitsForTheAnswerToItsOwnReloadNotAnEarlierOne() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        try (Connection controller = repo.connect(); Statement st = controller.createStatement()) {
            st.execute("INSERT INTO ibex.controller (id, pid, host, heartbeat) VALUES (1, 1, 'here', now())");
            st.execute("SELECT pg_advisory_lock(" + RunningController.CONTROLLER_LOCK_CLASS + ", 1)");
            st.execute("LISTEN " + Channels.RELOAD);
            for (boolean answers : List.of(false, true)) {
                CompletableFuture<Cli.Result> deactivate = CompletableFuture.supplyAsync(
                        () -> Cli.run(repo, answers ? "activate" : "deactivate", "s", answers ? "60" : "3"));
                String request = reloadRequest(controller);
                // the answer to an earlier 'ibex resume s', sent after this command listens
                st.execute("NOTIFY " + Channels.RELOADED + ", 's'");
                if (answers) {
                    st.execute("SELECT pg_notify('" + Channels.RELOADED + "', '" + request + "')");
                }
                Cli.Result r = deactivate.get(90, TimeUnit.SECONDS);
                if (answers) {
                    assertEquals(0, r.exit(), r.toString());
                    assertEquals("Activating sync s...OK\n", r.out());
                } else {
                    assertEquals(1, r.exit(), "an earlier request's answer is not this one's: " + r);
                    assertTrue(r.err().contains("did not confirm within 3 s"), r.toString());
                }
            }
        }
    }

    /** The payload of the next reload request the session listening on RELOAD receives. */
    private static String reloadRequest(Connection listening) throws Exception {
        PGConnection pg = listening.unwrap(PGConnection.class);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            PGNotification[] ns = pg.getNotifications(1000);
            if (ns != null) {
                for (PGNotification n : ns) {
                    if (n.getName().equals(Channels.RELOAD)) {
                        return n.getParameter();
                    }
                }
            }
        }
        throw new AssertionError("no reload request within 60 s");
    }

    @Test
    void pauseStopsTheKidAndResumeRestartsIt() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.2'), ('kid_retry_max', '0.2')");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            eventually(Duration.ofSeconds(20), "runs", () -> m.runs("s", "bad") >= 2);
            succeeds(repo, "Syncs paused: s...OK\n", "pause", "s", "10");
            long after = m.runs("s", "bad");
            // a sync runs only on its kid's thread: once that has ended, nothing can run it
            eventually(Duration.ofSeconds(10), "the kid of the paused sync ends", () -> c.kid("s").isEmpty());
            assertEquals(after, m.runs("s", "bad"), "a paused sync does not run");
            fails(repo, "Cannot kick paused sync \"s\"", "kick", "s");

            succeeds(repo, "Syncs resumed: s\n", "resume", "s");
            eventually(Duration.ofSeconds(10), "runs after resume", () -> m.runs("s", "bad") > after);

            succeeds(repo, "Deactivating sync s...OK\n", "deactivate", "s", "10");
            long stopped = m.runs("s", "bad");
            eventually(Duration.ofSeconds(10), "the kid of the inactive sync ends", () -> c.kid("s").isEmpty());
            assertEquals(stopped, m.runs("s", "bad"), "an inactive sync does not run");
            assertEquals("inactive", repo.scalar("SELECT status FROM ibex.sync WHERE name = 's'"));

            succeeds(repo, "Activating sync s\n", "activate", "s");
            eventually(Duration.ofSeconds(10), "runs after activate", () -> m.runs("s", "bad") > stopped);
        }
    }

    /**
     * A lone controller says what happened to a sync whose kid it stops: it used to say the sync
     * went "to another controller" after 'ibex deactivate' or 'ibex pause', with no other controller.
     */
    @Test
    void aStoppedKidIsLoggedWithWhatHappenedToItsSync() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '60')");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        List<Logger> loggers = List.of((Logger) LoggerFactory.getLogger(Controller.class),
                (Logger) LoggerFactory.getLogger(Kid.class));
        loggers.forEach(l -> {
            l.addAppender(lines);
            l.setLevel(Level.INFO); // Kids says why it stops a kid at INFO, as the controller's decision
        });
        try (InProcessController c = new InProcessController(repo)) {
            startUpRunFailed(c, m);
            succeeds(repo, "Syncs paused: s...OK\n", "pause", "s", "10");
            eventually(Duration.ofSeconds(10), "the kid of the paused sync ends", () -> c.kid("s").isEmpty());
            succeeds(repo, "Syncs resumed: s\n", "resume", "s");
            eventually(Duration.ofSeconds(10), "the kid of the resumed sync", () -> c.kid("s").isPresent());
            succeeds(repo, "Deactivating sync s...OK\n", "deactivate", "s", "10");
            eventually(Duration.ofSeconds(10), "the kid of the inactive sync ends", () -> c.kid("s").isEmpty());
            succeeds(repo, "Activating sync s\n", "activate", "s");
            eventually(Duration.ofSeconds(10), "the kid of the active sync", () -> c.kid("s").isPresent());
            assertEquals(0, Cli.run(repo, "remove", "sync", "s").exit());
            eventually(Duration.ofSeconds(10), "the kid of the removed sync ends", () -> c.kid("s").isEmpty());
            List<String> said = logged(lines).stream().map(ILoggingEvent::getFormattedMessage).toList();
            for (String what : List.of("Sync s was paused", "Sync s was made inactive", "Sync s was removed")) {
                assertTrue(said.stream().anyMatch(l -> l.startsWith(what)), what + " in " + said);
            }
            assertTrue(said.stream().noneMatch(l -> l.contains("another controller")), said.toString());
        } finally {
            loggers.forEach(l -> {
                l.detachAppender(lines);
                l.setLevel(null);
            });
        }
    }

    @Test
    void reloadStartsNewSyncsWithoutRestart() throws Exception {
        Model m = Model.create().failingSync("a");
        TestDb repo = m.repoDb();
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            m.failingSync("b");
            succeeds(repo, "Reloading configuration ... DONE!\n", "reload");
            eventually(Duration.ofSeconds(10), "a run of the new sync", () -> m.runs("b", "bad") >= 1);
            m.failingSync("c");
            Cli.Result kick = Cli.run(repo, "kick", "c", "20");
            assertEquals(2, kick.exit(), "a kick starts a sync added since the last reload: " + kick);
            // the kick ended with the first failed run; its kid may have retried since (back-off 1 s)
            assertTrue(m.runs("c", "bad") >= 1, "the kicked run of c");
        }
        fails(repo, "not running", "reload");
    }
}
