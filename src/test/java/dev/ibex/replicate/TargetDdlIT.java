package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

/**
 * Schema changes that leave a target unable to take the rows, or without the rows it had: the run
 * that cannot apply fails with the table, the cause and the fix, keeps its batch, and following
 * the fix leaves the target equal to the source.
 */
class TargetDdlIT {

    /** The source dropped a column the target still has NOT NULL without a default: no copied row fits. */
    @Test
    void aColumnDroppedOnTheSourceThatTheTargetRequiresIsNamedWithTheFix() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text, b text NOT NULL)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a', 'b' FROM generate_series(1, 10) g");
            set.goodRun("s1");

            src.exec("ALTER TABLE t DROP COLUMN b");
            src.exec("UPDATE t SET a = 'changed' WHERE id <= 5", "INSERT INTO t VALUES (11, 'new')", "DELETE FROM t WHERE id = 10");
            SyncRunner.Result r = set.runner().runOnce("s1");
            assertEquals("bad", r.state());
            r = set.runner().runOnce("s1");
            assertEquals("bad", r.state());
            assertTrue(r.error().contains("Table public.t on target db \"dst\" has column \"b\" NOT NULL without a default, "
                    + "which the source does not have"), r.error());
            assertTrue(r.error().contains("drop it there too, or give it a default"), r.error());

            dst.exec("ALTER TABLE t DROP COLUMN b");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }

    /**
     * A target table dropped and made anew (empty) while replicated: the runs fail until it
     * exists, then apply only the changes since, so every row it had is gone on the target. The
     * error's fix must say how to get them back, and that way must work.
     */
    @Test
    void aTargetTableDroppedAndMadeAnewIsNamedWithTheWayToItsRows() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 50) g");
            set.goodRun("s1");

            dst.exec("DROP TABLE t");
            src.exec("UPDATE t SET a = 'changed' WHERE id <= 5");
            assertEquals("bad", set.runner().runOnce("s1").state()); // PostgreSQL's error; the next run checks
            SyncRunner.Result r = set.runner().runOnce("s1");
            assertEquals("bad", r.state());
            assertTrue(r.error().contains("Table public.t does not exist on target db \"dst\": create it there"), r.error());
            assertTrue(r.error().contains("ibex compare s1 --repair"), r.error());

            dst.exec("CREATE TABLE t (id int PRIMARY KEY, a text)");
            set.goodRun("s1");
            Cli.Result repair = set.model().run("compare", "s1", "--repair");
            assertEquals(0, repair.exit(), repair.toString());
            assertSameRows(src, dst, "t", "id");
        }
    }
}
