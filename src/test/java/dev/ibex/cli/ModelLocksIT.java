package dev.ibex.cli;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.ExitCode;
import dev.ibex.capture.ModelLocks;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A command that changes what reads a source waits for a run of the source's syncs to end
 * (ModelLocks); past model_lock_wait it stops with one line naming the run, and neither the
 * repository nor the source has changed. Once the run has ended the same command goes through, and
 * the table it added reaches the target whole.
 */
class ModelLocksIT {

    /**
     * 'ibex remove sync' waits for a run of the sync under way like the other commands: deleting
     * the sync under a running run used to deadlock with it in the repository under load (the
     * delete cascades to the run rows and the claim the run writes and checks), failing the
     * command (a ModelChangeIT failure). Past model_lock_wait it stops and the sync stays.
     */
    @Test
    void removeSyncWaitsForARunUnderWayAndGivesUpChangingNothing() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v text)")) {
            TestDb repo = set.repoDb();
            set.sync("s1", "t");
            CliChecks.ok(repo, "set", "model_lock_wait=1");
            try (Connection running = repo.connect(); Statement st = running.createStatement()) {
                // what a run of s1 holds while it works (SyncRunner)
                st.execute("SELECT pg_advisory_lock(" + ModelLocks.SYNC_RUN + ", hashtext('s1'))");
                CliChecks.fails(repo, ExitCode.DATABASE.code(), List.of("a run of sync \"s1\"", "after 1 s",
                        "nothing was changed"), "remove", "sync", "s1");
                assertEquals("1", repo.scalar("SELECT count(*) FROM ibex.sync WHERE name = 's1'"));
            }
            CliChecks.ok(repo, "remove", "sync", "s1");
            assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.sync WHERE name = 's1'"));
        }
    }

    @Test
    void aCommandGivesUpOnARunThatGoesOnAndChangesNothing() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v text)",
                "CREATE TABLE u (id int PRIMARY KEY, v text)")) {
            TestDb repo = set.repoDb();
            TestDb src = set.src();
            set.sync("s1", "t");
            src.exec("INSERT INTO u SELECT g, 'v' FROM generate_series(1, 10) g");
            CliChecks.ok(repo, "set", "model_lock_wait=1");
            try (Connection running = repo.connect(); Statement st = running.createStatement()) {
                // what a run of s1 holds while it works (SyncRunner)
                st.execute("SELECT pg_advisory_lock(" + ModelLocks.SYNC_RUN + ", hashtext('s1'))");
                CliChecks.fails(repo, ExitCode.DATABASE.code(), List.of("a run of sync \"s1\"", "after 1 s",
                        "nothing was changed"), "add", "table", "public.u", "db=src", "relgroup=s1_rel");
                assertEquals("0", src.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'u'::regclass"));
            }
            CliChecks.ok(repo, "add", "table", "public.u", "db=src", "relgroup=s1_rel");
            set.goodRun("s1");
            assertSameRows(src, set.dst(), "u", "id");
        }
    }
}
