package dev.ibex.replicate;

import static dev.ibex.replicate.ReplicateIT.bothExec;
import static dev.ibex.test.ReplicaSet.assertSameRows;

import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * ALTER TABLE ... ADD COLUMN fills the rows already there without firing a trigger, on each side
 * by itself: the same statement on source and target leaves equal rows only when the default
 * gives every row the same value on both.
 */
class AddColumnIT {

    /** A constant default (the common case) gives the old rows the same value on both sides. */
    @Test
    void aColumnWithAConstantDefaultAddedOnBothUnderChanges() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 50) g");
            set.goodRun("s1");

            src.exec("ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 7", "UPDATE t SET n = id WHERE id <= 10",
                    "INSERT INTO t VALUES (51, 'new', 51)");
            // the target later, after more changes: the run in between fails and keeps its batch
            src.exec("UPDATE t SET a = 'again' WHERE id BETWEEN 11 AND 20");
            set.runner().runOnce("s1");
            dst.exec("ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 7");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }

    /**
     * A serial (or identity, random(), clock_timestamp()) column added on both numbers the old
     * rows in each side's physical order, and the target's differs once ibex has applied changes
     * (delete + COPY moves a row to the table's end): the untouched rows differ for good, with
     * every run good. Not fixed: the target cannot tell which rows the ALTER filled, and copying
     * a table whole whenever the source gains a column would cost every ADD COLUMN of a large
     * table a full copy. README says to add such a column on the source only and let a one-time
     * copy (or `ibex compare SYNC --repair`) bring the values.
     */
    @Test
    @Disabled("a serial column added on both sides numbers the old rows differently: README, Schema changes")
    void aSerialColumnAddedOnBothNumbersTheOldRowsAlike() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 50) g");
            set.goodRun("s1");
            for (int id = 48; id > 0; id -= 3) { // the source's new row versions in descending order
                src.exec("UPDATE t SET a = 'moved' WHERE id = " + id);
            }
            set.goodRun("s1");

            bothExec(src, dst, "ALTER TABLE t ADD COLUMN sn serial");
            src.exec("UPDATE t SET a = 'after' WHERE id = 1");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }
}
