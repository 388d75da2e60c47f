package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sequences in a relgroup: their state reaches the targets on every run. */
class SequencesIT {

    static String state(TestDb db, String sequence) {
        return db.scalar("SELECT last_value || ' ' || is_called FROM " + sequence);
    }

    @Test
    void lastValueAndIsCalledReachTargetsOnEveryRun() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        TestDb full = PgServers.target();
        for (TestDb db : List.of(src, dst, full)) {
            db.exec("CREATE SEQUENCE ids", "CREATE SEQUENCE fresh START 10",
                    "CREATE TABLE t (id bigint PRIMARY KEY DEFAULT nextval('ids'), v text)");
        }
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("dst", dst).db("full", full);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id"), m.sequence("src", "ids"),
                    m.sequence("src", "fresh")), "src", "dst", "full:fullcopy").capture("src");
            src.exec("INSERT INTO t (v) SELECT 'v' || g FROM generate_series(1, 25) g");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, dst, "t", "id");
            for (TestDb target : List.of(dst, full)) {
                assertEquals("25 true", state(target, "ids"));
                assertEquals("10 false", state(target, "fresh"));
            }
            assertTrue(m.repoDb().scalar("SELECT detail FROM ibex.run WHERE id = " + r.runId()).endsWith("4 sequence values set"));

            src.exec("SELECT nextval('ids') FROM generate_series(1, 5)", "SELECT setval('fresh', 42, false)");
            r = runner.runOnce("s1");
            assertEquals(25, r.inserts(), "no row changed, only the fullcopy target's whole copy: " + r);
            for (TestDb target : List.of(dst, full)) {
                assertEquals(state(src, "ids"), state(target, "ids"));
                assertEquals("42 false", state(target, "fresh"));
            }
            dst.exec("INSERT INTO t (v) VALUES ('after cutover')");
            assertEquals("31", dst.scalar("SELECT max(id) FROM t"), "the target's next id follows the source's");
        }
    }

    @Test
    void aSequenceMissingOnATargetFailsTheRunByName() {
        try (ReplicaSet set = ReplicaSet.create(); SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("CREATE SEQUENCE only_here");
            src.exec("SELECT nextval('only_here')");
            m.sync("s1", false, List.of(m.sequence("src", "only_here")), "src", "dst").capture("src");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("bad", r.state(), r.toString());
            assertEquals("Sequence public.only_here does not exist on target db \"dst\": create it there "
                    + "(ibex copy schema copies sequences)", r.error());
            dst.exec("CREATE SEQUENCE only_here");
            assertEquals("empty", runner.runOnce("s1").state());
            assertEquals("1 true", state(dst, "only_here"));
        }
    }
}
