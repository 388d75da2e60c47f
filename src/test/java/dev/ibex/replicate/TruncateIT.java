package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.test.Model;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A TRUNCATE on the source reaches the target, and the changes made after it apply on top. */
class TruncateIT {

    @Test
    void truncateThenLaterChanges() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE parent (id int PRIMARY KEY, v text)",
                        "CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent, v text)");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s1", false, List.of(m.table("src", "public", "parent", "id"),
                    m.table("src", "public", "child", "id")), "src", "dst").capture("src");
            src.exec("INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 1000) g",
                    "INSERT INTO child SELECT g, g, 'c' || g FROM generate_series(1, 1000) g");
            assertEquals("good", runner.runOnce("s1").state());
            assertEquals(1000, dst.count("child"));

            // truncated, refilled and changed again in one batch
            src.exec("TRUNCATE child, parent", "INSERT INTO parent SELECT g, 'again' || g FROM generate_series(1, 50) g",
                    "UPDATE parent SET v = 'changed' WHERE id <= 10", "DELETE FROM parent WHERE id = 50",
                    "INSERT INTO child VALUES (1, 1, 'x')");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals("2", m.repoDb().scalar("SELECT truncates FROM ibex.run WHERE id = " + r.runId()));
            assertSameRows(src, dst, "parent", "id");
            assertSameRows(src, dst, "child", "id");

            // later batches apply as changes on top of the truncated state
            src.exec("INSERT INTO parent VALUES (500, 'later')", "UPDATE parent SET v = 'later' WHERE id = 2",
                    "DELETE FROM child", "DELETE FROM parent WHERE id = 1", "INSERT INTO child VALUES (9, 500, 'y')");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals("0", m.repoDb().scalar("SELECT truncates FROM ibex.run WHERE id = " + r.runId()));
            assertEquals(3, r.deletes(), "parent 1 and 2, child 1: " + r);
            assertEquals(3, r.inserts(), "parent 2 and 500, child 9: " + r);
            assertSameRows(src, dst, "parent", "id");
            assertSameRows(src, dst, "child", "id");
            assertEquals("empty", runner.runOnce("s1").state());
        }
    }
}
