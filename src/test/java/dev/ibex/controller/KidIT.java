package dev.ibex.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Kids, kicks and the sync switches against a controller running in this JVM (every run fails: the target lacks the table). */
class KidIT {

    @Test
    void failedRunsAreRecordedAndRetriedWithGrowingDelay() throws Exception {
        TestDb repo = Model.repository();
        Model.failingSync(repo, "s");
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.4'), ('kid_retry_max', '1.6')");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            Model.eventually(Duration.ofSeconds(30), "five failed runs", () -> Model.runs(repo, "s", "bad") >= 5);
        }
        List<String> gaps = repo.column("SELECT extract(epoch FROM started - lag(started) OVER (ORDER BY id)) "
                + "FROM ibex.run WHERE sync = 's' ORDER BY id");
        double[] g = gaps.stream().skip(1).mapToDouble(Double::parseDouble).toArray();
        // 0.4, 0.8, 1.6, 1.6: doubling, then the cap
        assertTrue(g[0] >= 0.35 && g[0] < 1.0, "first retry after about 0.4 s: " + gaps);
        assertTrue(g[1] >= 0.75 && g[1] < 1.6, "second retry after about 0.8 s: " + gaps);
        assertTrue(g[2] >= 1.5 && g[2] < 2.6, "third retry at the cap: " + gaps);
        assertTrue(g[3] >= 1.5 && g[3] < 2.6, "the cap holds: " + gaps);
        assertTrue(repo.scalar("SELECT error FROM ibex.run WHERE sync = 's' ORDER BY id DESC LIMIT 1")
                .contains("Table public.t does not exist on target db \"s_dst\""));
    }

    @Test
    void kickWaitsForARunStartedAfterTheKickAndReportsItsFailure() throws Exception {
        TestDb repo = Model.repository();
        Model.failingSync(repo, "s");
        Model.failingSync(repo, "off");
        repo.exec("UPDATE ibex.sync SET status = 'inactive' WHERE name = 'off'");
        Cli.Result notRunning = Cli.run(repo, "kick", "s", "5");
        assertEquals(1, notRunning.exit(), notRunning.toString());
        assertTrue(notRunning.err().contains("the ibex controller is not running"), notRunning.toString());

        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '60')");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            Model.eventually(Duration.ofSeconds(20), "the start-up run", () -> Model.runs(repo, "s", "bad") == 1);
            // the kid now waits 60 s before retrying; an urgent kick cuts that short
            Cli.Result killed = Cli.run(repo, "kick", "s", "20");
            assertEquals(2, killed.exit(), killed.toString());
            assertTrue(killed.out().startsWith("Kick s: KILLED!"), killed.toString());
            assertTrue(killed.out().contains("Table public.t does not exist on target db \"s_dst\""), killed.toString());
            assertEquals(2, Model.runs(repo, "s", "bad"));

            Cli.Result queued = Cli.run(repo, "kick", "s");
            assertEquals(0, queued.exit(), queued.toString());
            assertEquals("Kicked sync s\n", queued.out());

            Cli.Result inactive = Cli.run(repo, "kick", "off", "1");
            assertEquals(1, inactive.exit(), inactive.toString());
            assertEquals("Cannot kick inactive sync \"off\"\n", inactive.err());

            Cli.Result unknown = Cli.run(repo, "kick", "nosuch");
            assertEquals(1, unknown.exit(), unknown.toString());
            assertTrue(unknown.err().contains("No sync named \"nosuch\""), unknown.toString());
        }
    }

    @Test
    void kickTimesOutWhenNoRunEndsAndKicksDuringARunCoalesce() throws Exception {
        TestDb repo = Model.repository();
        Model.failingSync(repo, "s");
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '60')");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            Model.eventually(Duration.ofSeconds(20), "the start-up run", () -> Model.runs(repo, "s", "bad") == 1);
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
            // the blocked run ends, then the three kicks made during it run once, then the back-off holds
            Model.eventually(Duration.ofSeconds(20), "two more runs", () -> Model.runs(repo, "s", "bad") == 3);
            Thread.sleep(1500);
            assertEquals(3, Model.runs(repo, "s", "bad"));
        }
    }

    @Test
    void pauseStopsTheKidAndResumeRestartsIt() throws Exception {
        TestDb repo = Model.repository();
        Model.failingSync(repo, "s");
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.2'), ('kid_retry_max', '0.2')");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            Model.eventually(Duration.ofSeconds(20), "runs", () -> Model.runs(repo, "s", "bad") >= 2);
            Cli.Result paused = Cli.run(repo, "pause", "s", "10");
            assertEquals(0, paused.exit(), paused.toString());
            assertEquals("Syncs paused: s...OK\n", paused.out());
            long after = Model.runs(repo, "s", "bad");
            Thread.sleep(1500);
            assertEquals(after, Model.runs(repo, "s", "bad"), "a paused sync does not run");
            Cli.Result kick = Cli.run(repo, "kick", "s");
            assertEquals(1, kick.exit(), kick.toString());
            assertTrue(kick.err().contains("Cannot kick paused sync \"s\""), kick.toString());

            Cli.Result resumed = Cli.run(repo, "resume", "s");
            assertEquals(0, resumed.exit(), resumed.toString());
            assertEquals("Syncs resumed: s\n", resumed.out());
            Model.eventually(Duration.ofSeconds(10), "runs after resume", () -> Model.runs(repo, "s", "bad") > after);

            Cli.Result off = Cli.run(repo, "deactivate", "s", "10");
            assertEquals(0, off.exit(), off.toString());
            assertEquals("Deactivating sync s...OK\n", off.out());
            long stopped = Model.runs(repo, "s", "bad");
            Thread.sleep(1000);
            assertEquals(stopped, Model.runs(repo, "s", "bad"), "an inactive sync does not run");
            assertEquals("inactive", repo.scalar("SELECT status FROM ibex.sync WHERE name = 's'"));

            Cli.Result on = Cli.run(repo, "activate", "s");
            assertEquals(0, on.exit(), on.toString());
            assertEquals("Activating sync s\n", on.out());
            Model.eventually(Duration.ofSeconds(10), "runs after activate", () -> Model.runs(repo, "s", "bad") > stopped);
        }
    }

    @Test
    void reloadStartsNewSyncsWithoutRestart() throws Exception {
        TestDb repo = Model.repository();
        Model.failingSync(repo, "a");
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            Model.failingSync(repo, "b");
            Cli.Result r = Cli.run(repo, "reload");
            assertEquals(0, r.exit(), r.toString());
            assertEquals("Reloading configuration ... DONE!\n", r.out());
            Model.eventually(Duration.ofSeconds(10), "a run of the new sync", () -> Model.runs(repo, "b", "bad") >= 1);
            Model.failingSync(repo, "c");
            Cli.Result kick = Cli.run(repo, "kick", "c", "20");
            assertEquals(2, kick.exit(), "a kick starts a sync added since the last reload: " + kick);
            // the reload's own kick and this urgent one may make a second (failing) run: at least one ran
            assertTrue(Model.runs(repo, "c", "bad") >= 1);
        }
        Cli.Result r = Cli.run(repo, "reload");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains("not running"), r.toString());
    }
}
