package dev.ibex.replicate;

import static dev.ibex.replicate.ReplicateIT.bothExec;
import static dev.ibex.test.ReplicaSet.assertSameRows;

import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

/**
 * A key column whose type is widened in place (ALTER COLUMN ... TYPE varchar(10), numeric(10,4)):
 * the capture function logs NEW.key::text and keeps working without a reload, so the next run
 * must read the new, longer keys as they are. The controller reconciles capture only when it
 * starts or a sync is reloaded, and nothing tells the user to reload after such an ALTER.
 */
class KeyTypeChangeIT {

    @Test
    void varcharKeyWidenedOnBothKeepsItsLongerKeys() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (code varchar(3) PRIMARY KEY, v text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t:code");
            src.exec("INSERT INTO t VALUES ('abc', 'old'), ('xyz', 'old')");
            set.goodRun("s1");

            bothExec(src, dst, "ALTER TABLE t ALTER COLUMN code TYPE varchar(10)");
            src.exec("INSERT INTO t VALUES ('abcdefghij', 'new')", "UPDATE t SET code = 'xyz-longer' WHERE code = 'xyz'");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "code");
        }
    }

    @Test
    void numericKeyGivenMoreScaleOnBothKeepsItsDigits() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE n (id numeric(5,2) PRIMARY KEY, v text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "n");
            src.exec("INSERT INTO n VALUES (1.25, 'old')");
            set.goodRun("s1");

            bothExec(src, dst, "ALTER TABLE n ALTER COLUMN id TYPE numeric(10,4)");
            src.exec("INSERT INTO n VALUES (1.2345, 'new')", "INSERT INTO n VALUES (7.0001, 'new')");
            set.goodRun("s1");
            assertSameRows(src, dst, "n", "id");
        }
    }
}
