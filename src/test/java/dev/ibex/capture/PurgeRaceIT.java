package dev.ibex.capture;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ibex.pg.DbPools;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.repository.Repository;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The purge and a sync being added at the same time. 'ibex add sync' (and update, reload) seeds the
 * new sync's S_prev with a snapshot of the source taken after its triggers went in, in the
 * command's repository transaction, and commits that transaction only after every source of the
 * sync is reconciled (Session.reconcile loops over them, each waiting up to 5 s for its locks). A
 * purge that runs in between does not see the new consumer: it must still not delete a change
 * that the seeded snapshot did not see. A run in between would read a plan without the table the
 * command adds, and record a snapshot past the table's whole-table copy. The command's locks
 * (ModelLocks) keep both out until it commits.
 */
class PurgeRaceIT {

    @Test
    void purgeWhileASyncIsBeingAddedKeepsWhatItsSeedDidNotSee() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        for (TestDb db : List.of(src, a, b)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)",
                    "INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g");
        }
        try (Model m = Model.create(); DbPools pools = new DbPools(2000);
             SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            m.db("src", src).db("a", a).db("b", b);
            int t = m.table("src", "public", "t", "id");
            m.sync("s1", false, List.of(t), "src", "a").capture("src");
            src.exec("UPDATE t SET v = 'one' WHERE id = 1");
            assertEquals("good", runner.runOnce("s1").state());

            b.exec("UPDATE t SET v = 'one' WHERE id = 1"); // b was loaded with src's rows (s2 has no one-time copy)

            // 'ibex add sync s2 relgroup=... dbs=src,b': its model rows and its seed, not committed yet
            try (Repository adding = Repository.open(Model.spec(m.repoDb()), "ibex add sync")) {
                adding.update("INSERT INTO ibex.relgroup (name) VALUES ('s2_rel')");
                adding.update("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES ('s2_rel', ?)", t);
                adding.update("INSERT INTO ibex.dbgroup (name) VALUES ('s2_dbs')");
                adding.update("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES ('s2_dbs', 'src', 'source')");
                adding.update("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES ('s2_dbs', 'b', 'target')");
                adding.update("INSERT INTO ibex.sync (name, relgroup, dbgroup, autokick) VALUES ('s2', 's2_rel', 's2_dbs', false)");
                Capture.reconcile(adding, adding.db("src").orElseThrow());

                // meanwhile: an application changes a row after s2's seed, and the purge comes round (a run
                // of s1 would wait for the command: runWhileATableIsBeingAddedStillCopiesItWhole)
                src.exec("UPDATE t SET v = 'after the seed of s2' WHERE id = 2");
                assertEquals(0, DeltaPurge.purge(m.repo(), pools, m.dbRow("src")), "the purge waits for the command");

                adding.commit();
            }
            assertEquals("good", runner.runOnce("s1").state());
            DeltaPurge.purge(m.repo(), pools, m.dbRow("src"));
            var r = runner.runOnce("s2");
            assertEquals("good", r.state(), "s2 must find the change made after its seed: " + r);
            assertSameRows(src, a, "t", "id");
            assertSameRows(src, b, "t", "id");
        }
    }

    @Test
    void runWhileATableIsBeingAddedStillCopiesItWhole() throws Exception {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        for (TestDb db : List.of(src, a)) {
            db.exec("CREATE TABLE t1 (id int PRIMARY KEY, v text)", "CREATE TABLE t2 (id int PRIMARY KEY, v text)");
        }
        src.exec("INSERT INTO t2 SELECT g, 'v' FROM generate_series(1, 10) g");
        try (Model m = Model.create(); DbPools pools = new DbPools(2000);
             SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            m.db("src", src).db("a", a);
            m.sync("s1", false, List.of(m.table("src", "public", "t1", "id")), "src", "a").capture("src");
            int t2 = m.table("src", "public", "t2", "id");
            src.exec("INSERT INTO t1 VALUES (1, 'one')");
            assertEquals("good", runner.runOnce("s1").state());

            // 'ibex add table t2 relgroup=s1_rel': captures t2 anew (and logs its truncate), not committed yet
            try (Repository adding = Repository.open(Model.spec(m.repoDb()), "ibex add table")) {
                adding.update("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES ('s1_rel', ?)", t2);
                Capture.reconcile(adding, adding.db("src").orElseThrow());
                // meanwhile s1 is kicked (autokick: t1 changed): its run waits for the command to commit
                src.exec("UPDATE t1 SET v = 'two' WHERE id = 1");
                CompletableFuture<SyncRunner.Result> run = CompletableFuture.supplyAsync(() -> runner.runOnce("s1"));
                eventually(Duration.ofSeconds(30), "the run waiting for the command's locks", () -> Long.parseLong(
                        m.repoDb().scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) > 0);
                assertFalse(run.isDone(), "a run must not read the plan while a command changes it");
                adding.commit();
                assertEquals("good", run.get(60, TimeUnit.SECONDS).state());
            }
            src.exec("UPDATE t2 SET v = 'w' WHERE id = 1");
            var r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, a, "t1", "id");
            assertSameRows(src, a, "t2", "id");
        }
    }
}
