package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.pg.SqlFeature;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

/**
 * Writes a source table took while it had no capture trigger (a user dropped or disabled
 * ibex's trigger, or dropped and recreated the table on the source alone) were never logged: the
 * reconcile that puts the triggers back (a reload, a controller start) must have every sync copy
 * the table whole once, or those rows are lost on the targets for good.
 */
class CaptureGapIT {

    /** Table t in sync s1, its first 20 rows applied to the target. */
    private static void firstRowsApplied(ReplicaSet set) {
        set.sync("s1", "t");
        set.src().exec("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 20) g");
        set.goodRun("s1");
    }

    /**
     * A table in the sync whose capture is not in place yet ('add table --force' with the source
     * unreachable, the controller's check not through yet): a run used to copy it whole and then
     * follow a log that held none of its writes. It now fails naming the table until the capture
     * is in place; then the table is copied whole, with the writes made meanwhile.
     */
    @Test
    void aTableInTheSyncWithoutItsCaptureIsCopiedOnlyOnceItIsCaptured() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)",
                "CREATE TABLE u (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            firstRowsApplied(set);
            src.exec("INSERT INTO u SELECT g, 'u' || g FROM generate_series(1, 10) g");
            set.model().sql("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES ('s1_rel', ?)",
                    set.model().table("src", "public", "u", "id"));
            SyncRunner.Result r = set.runner().runOnce("s1");
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().contains("public.u") && r.error().contains("not captured"), r.error());
            src.exec("INSERT INTO u VALUES (11, 'before the capture')", "UPDATE u SET a = 'changed' WHERE id <= 3");
            set.model().capture("src"); // what the controller's check does
            set.goodRun("s1");
            src.exec("UPDATE u SET a = 'after' WHERE id >= 9", "DELETE FROM u WHERE id = 5");
            set.goodRun("s1");
            set.assertSameRows("u", "id");
            set.assertSameRows("t", "id");
        }
    }

    @Test
    void writesWhileTheTriggerWasDroppedAreCopiedAfterTheReload() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            firstRowsApplied(set);

            src.exec("DROP TRIGGER IF EXISTS ibex_capture ON t", "DROP TRIGGER IF EXISTS ibex_rows ON t",
                    "DROP TRIGGER IF EXISTS ibex_delete ON t");
            src.exec("INSERT INTO t SELECT g, 'gap' || g FROM generate_series(21, 30) g", "UPDATE t SET a = 'gap' WHERE id <= 5",
                    "DELETE FROM t WHERE id BETWEEN 6 AND 8");
            set.model().capture("src"); // what 'ibex reload' does
            src.exec("INSERT INTO t VALUES (31, 'after')");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }

    @Test
    void writesWhileTheTriggerWasDisabledAreCopiedAfterTheReload() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            firstRowsApplied(set);

            src.exec("ALTER TABLE t DISABLE TRIGGER USER");
            src.exec("UPDATE t SET a = 'unlogged' WHERE id <= 5", "DELETE FROM t WHERE id = 20");
            set.model().capture("src");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }

    @Test
    void tableDroppedAndRecreatedOnTheSourceAloneIsCopiedWholeAfterTheReload() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            firstRowsApplied(set);

            // a reload script: the table anew with other rows, written before ibex's triggers are back
            src.exec("DROP TABLE t", "CREATE TABLE t (id int PRIMARY KEY, a text)",
                    "INSERT INTO t SELECT g, 'reloaded' || g FROM generate_series(10, 40) g");
            set.model().capture("src");
            src.exec("UPDATE t SET a = 'after' WHERE id = 40");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }

    /** 10+: attached as a partition, a table's statement-level DELETE trigger no longer sees deletes through the parent. */
    @Test
    void deletesThroughTheNewParentOfATableAttachedAsAPartitionAreCopiedAfterTheReload() {
        assumeTrue(PgServers.source().version().has(SqlFeature.TRANSITION_TABLES), "partitions and statement triggers with transition tables are 10+");
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            firstRowsApplied(set);

            src.exec("CREATE TABLE p (id int NOT NULL, a text) PARTITION BY RANGE (id)",
                    "ALTER TABLE p ATTACH PARTITION t FOR VALUES FROM (MINVALUE) TO (MAXVALUE)",
                    "DELETE FROM p WHERE id <= 5");
            set.model().capture("src"); // the reload README asks for after attaching
            src.exec("DELETE FROM p WHERE id = 20");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }
}
