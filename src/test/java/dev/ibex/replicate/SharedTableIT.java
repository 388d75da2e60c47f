package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A table added to a running sync's relgroup. When no sync captured it yet, the capture logs a
 * truncate and the sync copies it whole once (CaptureInstaller.capture); when another sync of the
 * source already captures it, the capture is left in place, no truncate is logged, and the sync
 * reads the table's changes from its own S_prev on only: whatever the table held or changed before
 * never reaches that sync's target. The same command must leave the target equal either way.
 */
class SharedTableIT {

    @Test
    void tableAlreadyCapturedByAnotherSyncIsCopiedWholeWhenAddedToASync() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        for (TestDb db : List.of(src, a, b)) {
            db.exec("CREATE TABLE t1 (id int PRIMARY KEY, v text)", "CREATE TABLE t2 (id int PRIMARY KEY, v text)");
        }
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", false, List.of(m.table("src", "public", "t1", "id")), "src", "a");
            m.sync("s2", false, List.of(m.table("src", "public", "t2", "id")), "src", "b").capture("src");
            src.exec("INSERT INTO t1 SELECT g, 'v' FROM generate_series(1, 10) g",
                    "INSERT INTO t2 SELECT g, 'v' FROM generate_series(1, 10) g");
            assertEquals("good", runner.runOnce("s1").state());
            assertEquals("good", runner.runOnce("s2").state());

            // 'ibex add table t2 relgroup=s1_rel': t2 is captured already, for s2
            addT2ToS1AndRun(m, runner, src);
            assertSameRows(src, a, "t1", "id");
            assertSameRows(src, a, "t2", "id");
        }
    }

    /** The same with t2 captured by nobody before: copied whole (passes; for comparison). */
    @Test
    void tableCapturedAnewIsCopiedWholeWhenAddedToASync() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        for (TestDb db : List.of(src, a)) {
            db.exec("CREATE TABLE t1 (id int PRIMARY KEY, v text)", "CREATE TABLE t2 (id int PRIMARY KEY, v text)");
        }
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("a", a);
            m.sync("s1", false, List.of(m.table("src", "public", "t1", "id")), "src", "a").capture("src");
            src.exec("INSERT INTO t1 SELECT g, 'v' FROM generate_series(1, 10) g",
                    "INSERT INTO t2 SELECT g, 'v' FROM generate_series(1, 10) g");
            assertEquals("good", runner.runOnce("s1").state());

            addT2ToS1AndRun(m, runner, src);
            assertSameRows(src, a, "t2", "id");
        }
    }

    /** 'ibex add table t2 relgroup=s1_rel', a change to t2, and a good run of s1. */
    private static void addT2ToS1AndRun(Model m, SyncRunner runner, TestDb src) {
        m.sql("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES ('s1_rel', ?)",
                m.table("src", "public", "t2", "id"));
        m.capture("src");
        src.exec("UPDATE t2 SET v = 'w' WHERE id <= 3");
        SyncRunner.Result r = runner.runOnce("s1");
        assertEquals("good", r.state(), r.toString());
    }
}
