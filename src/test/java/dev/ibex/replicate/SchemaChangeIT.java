package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static dev.ibex.replicate.ReplicateIT.bothExec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A runner keeps table shapes and target checks between runs (as the controller's kid does): a
 * schema change between two runs, with rows changed before and after it, must still leave the
 * target equal to the source, and without a failed run in between.
 */
class SchemaChangeIT {

    @Test
    void columnAddedOnBothIsCopiedAtOnce() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)",
                "CREATE TABLE u (id int PRIMARY KEY, n int)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t", "u");
            src.exec("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 20) g",
                    "INSERT INTO u SELECT g, g FROM generate_series(1, 20) g");
            set.goodRun("s1");

            bothExec(src, dst, "ALTER TABLE t ADD COLUMN b text");
            src.exec("UPDATE t SET b = 'b' || id WHERE id <= 10", "INSERT INTO t VALUES (21, 'a21', 'b21')",
                    "UPDATE u SET n = -n WHERE id <= 5");
            SyncRunner.Result r = set.goodRun("s1");
            assertEquals(15, r.deletes(), "10 + 5 rows there before, deleted in one round trip: " + r);
            assertEquals(16, r.inserts(), r.toString());
            assertSameRows(src, dst, "t", "id");
            assertSameRows(src, dst, "u", "id");

            // the same change again, with the runner's shapes now of the three-column table
            bothExec(src, dst, "ALTER TABLE t ADD COLUMN c int DEFAULT 7");
            src.exec("UPDATE t SET c = id WHERE id > 10");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }

    @Test
    void columnDroppedRenamedAndRetyped() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text, b varchar(5), c int, d text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a' || g, 'b', g, 'd' FROM generate_series(1, 20) g");
            set.goodRun("s1");

            // a type change that rewrites the table, one that does not, a drop and a rename
            bothExec(src, dst, "ALTER TABLE t ALTER COLUMN c TYPE bigint", "ALTER TABLE t ALTER COLUMN b TYPE varchar(50)",
                    "ALTER TABLE t DROP COLUMN a", "ALTER TABLE t RENAME COLUMN d TO e");
            src.exec("UPDATE t SET c = c * 10000000000, b = 'a longer value than before', e = 'e' WHERE id <= 10",
                    "INSERT INTO t (id, b, c, e) VALUES (21, 'twenty-one', 21, 'e21')");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }

    @Test
    void tableDroppedAndRecreatedWithOtherColumns() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 20) g");
            set.goodRun("s1");

            bothExec(src, dst, "DROP TABLE t", "CREATE TABLE t (x int, id int PRIMARY KEY, a text, y text)");
            // the triggers went with the table: what 'ibex reload' does for a sync
            m.capture("src");
            src.exec("INSERT INTO t SELECT g, g, 'new' || g, 'y' FROM generate_series(1, 30) g");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
            assertEquals("30", dst.scalar("SELECT count(y) FROM t"));
        }
    }

    @Test
    void keyChangedBetweenRuns() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE k (id int PRIMARY KEY, code text NOT NULL UNIQUE, v text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            int rel = set.sync("s1", "k").get(0);
            src.exec("INSERT INTO k SELECT g, 'c' || g, 'v' FROM generate_series(1, 10) g");
            set.goodRun("s1");

            bothExec(src, dst, "ALTER TABLE k DROP CONSTRAINT k_pkey", "ALTER TABLE k ADD PRIMARY KEY (code)");
            m.repo().update("UPDATE ibex.relation SET keycols = '{code}', keytypes = '{text}' WHERE id = ?", rel);
            m.capture("src");
            src.exec("UPDATE k SET v = 'changed', id = id + 100 WHERE id <= 5", "INSERT INTO k VALUES (11, 'c11', 'v')",
                    "DELETE FROM k WHERE id = 10");
            set.goodRun("s1");
            assertSameRows(src, dst, "k", "code");
        }
    }

    /** A generated column made plain (13+) touches pg_attribute only: from then on it is copied. */
    @Test
    void generatedColumnMadePlain() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            assumeTrue(Integer.parseInt(db.scalar("SHOW server_version_num")) >= 130000, "DROP EXPRESSION is 13+");
        }
        try (ReplicaSet set = ReplicaSet.on(src, dst,
                "CREATE TABLE g (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED)")) {
            set.sync("s1", "g");
            src.exec("INSERT INTO g (id, a) SELECT g, g FROM generate_series(1, 10) g");
            set.goodRun("s1");

            bothExec(src, dst, "ALTER TABLE g ALTER COLUMN b DROP EXPRESSION");
            src.exec("UPDATE g SET b = -id WHERE id <= 5", "INSERT INTO g VALUES (11, 11, 0)");
            set.goodRun("s1");
            assertSameRows(src, dst, "g", "id");
        }
    }

    /** The runner keeps the plan too: a table added to the relgroup between two runs is in the next one. */
    @Test
    void tableAddedToTheSyncBetweenRuns() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text)",
                "CREATE TABLE later (id int PRIMARY KEY, a text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 20) g");
            set.goodRun("s1");

            m.sql("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES ('s1_rel', ?)",
                    m.table("src", "public", "later", "id"));
            m.capture("src");
            src.exec("INSERT INTO later SELECT g, 'l' || g FROM generate_series(1, 20) g", "UPDATE t SET a = 'x'");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
            assertSameRows(src, dst, "later", "id");
        }
    }

    /** A target that lost a column fails the run; the next run reads afresh and says what is missing. */
    @Test
    void targetThatLostAColumnIsNamedAfterTheFailedRun() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, a text, b text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "t");
            src.exec("INSERT INTO t SELECT g, 'a', 'b' FROM generate_series(1, 5) g");
            set.goodRun("s1");

            dst.exec("ALTER TABLE t DROP COLUMN b");
            src.exec("UPDATE t SET a = 'again'");
            assertEquals("bad", set.runner().runOnce("s1").state());
            SyncRunner.Result r = set.runner().runOnce("s1");
            assertEquals("bad", r.state());
            assertTrue(r.error().contains("has no column \"b\""), r.error());

            dst.exec("ALTER TABLE t ADD COLUMN b text");
            set.goodRun("s1");
            assertSameRows(src, dst, "t", "id");
        }
    }
}
