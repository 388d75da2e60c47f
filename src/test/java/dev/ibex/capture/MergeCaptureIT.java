package dev.ibex.capture;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.replicate.SyncRunner;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * MERGE (PostgreSQL 15+) on a table with statement-level DELETE capture: its DELETE action fires
 * the AFTER DELETE statement trigger with the transition table, its INSERT and UPDATE actions the
 * row trigger. Every key it touched must reach the target.
 */
class MergeCaptureIT {

    @Test
    void mergeWithEveryActionIsCaptured() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        assumeTrue(Integer.parseInt(src.scalar("SHOW server_version_num")) >= 150000, "MERGE is 15+");
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE m (id int PRIMARY KEY, v int)", "CREATE TABLE m2 (id int PRIMARY KEY, a text, b int, "
                    + "c date, d text, e int, UNIQUE (a, b, c, d, e))");
        }
        src.exec("CREATE TABLE incoming (id int, v int, op text)");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "m", "id"), m.relation("src", "public", "m2",
                    List.of("a", "b", "c", "d", "e"), List.of("text", "integer", "date", "text", "integer"))),
                    "src", "dst").capture("src");
            src.exec("INSERT INTO m SELECT g, g FROM generate_series(1, 20) g",
                    "INSERT INTO m2 SELECT g, 'a' || g, g, date '2020-01-01' + g, 'd', g FROM generate_series(1, 20) g");
            assertEquals("good", runner.runOnce("s1").state());

            src.exec("INSERT INTO incoming SELECT g, -g, CASE WHEN g % 3 = 0 THEN 'del' ELSE 'upd' END "
                    + "FROM generate_series(1, 30) g");
            src.exec("MERGE INTO m USING incoming i ON m.id = i.id "
                    + "WHEN MATCHED AND i.op = 'del' THEN DELETE "
                    + "WHEN MATCHED THEN UPDATE SET v = i.v "
                    + "WHEN NOT MATCHED THEN INSERT VALUES (i.id, i.v)");
            src.exec("MERGE INTO m2 USING incoming i ON m2.b = i.id "
                    + "WHEN MATCHED AND i.op = 'del' THEN DELETE "
                    + "WHEN MATCHED THEN UPDATE SET a = m2.a || 'x' "
                    + "WHEN NOT MATCHED THEN INSERT VALUES (i.id, 'n' || i.id, i.id, date '2021-01-01', 'd', i.id)");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, dst, "m", "id");
            assertSameRows(src, dst, "m2", "id");
        }
    }
}
