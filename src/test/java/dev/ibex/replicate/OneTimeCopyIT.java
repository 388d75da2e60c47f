package dev.ibex.replicate;

import static dev.ibex.replicate.ReplicateIT.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/** onetimecopy copies whole tables in the batch snapshot, then the stream continues from it. */
class OneTimeCopyIT {

    @Test
    void mode1ReplacesTargetContentsAndJoinsTheStream() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        src.exec("INSERT INTO t SELECT g, 'old' FROM generate_series(1, 5000) g");
        dst.exec("INSERT INTO t VALUES (-1, 'stale'), (1, 'stale')");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo);
             Connection open = src.connect(); Statement st = open.createStatement()) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", src, "public", "t", "id")), "src", "dst");
            m.repo.update("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's1'");
            m.capture("src");
            src.exec("UPDATE t SET v = 'during' WHERE id <= 10");
            open.setAutoCommit(false);
            st.execute("INSERT INTO t VALUES (9000, 'committed after the copy snapshot')");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals("0", m.repoDb.scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
            assertEquals("5000", dst.scalar("SELECT count(*) FROM t"));
            open.commit();
            src.exec("DELETE FROM t WHERE id = 2");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals(2, r.inserts() + r.deletes(), "only the delta after the copy: " + r);
            assertSameRows(src, dst, "t", "id");
        }
    }

    @Test
    void mode2CopiesOnlyIntoEmptyTables() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE full_one (id int PRIMARY KEY)", "CREATE TABLE kept (id int PRIMARY KEY)");
        }
        src.exec("INSERT INTO full_one SELECT generate_series(1, 100)", "INSERT INTO kept SELECT generate_series(1, 100)");
        dst.exec("INSERT INTO kept VALUES (1), (-5)");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo)) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", src, "public", "full_one", "id"),
                    m.table("src", src, "public", "kept", "id")), "src", "dst");
            m.repo.update("UPDATE ibex.sync SET onetimecopy = 2 WHERE name = 's1'");
            m.capture("src");
            src.exec("INSERT INTO kept VALUES (500)");
            assertEquals("good", runner.runOnce("s1").state());
            assertSameRows(src, dst, "full_one", "id");
            assertEquals(List.of("-5", "1", "500"), dst.column("SELECT id::text FROM kept ORDER BY id"));
            assertNotEquals(src.count("kept"), dst.count("kept"));
        }
    }
}
