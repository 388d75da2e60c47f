package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

/**
 * Column changes made on the source before the target (or only on it): the run that cannot apply
 * fails with the table, the column and the fix, keeps its batch, and the run after the fix
 * applies every change made meanwhile.
 */
class ColumnDdlIT {

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
}
