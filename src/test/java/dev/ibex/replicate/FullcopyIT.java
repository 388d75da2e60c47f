package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A fullcopy target gets whole tables on every run, keyless ones included. */
class FullcopyIT {

    @Test
    void keylessTableIsCopiedWholeEveryRun() {
        TestDb src = PgServers.source();
        TestDb full = PgServers.target();
        for (TestDb db : List.of(src, full)) {
            db.exec("CREATE TABLE log (at int, line text)", "CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        full.exec("INSERT INTO log VALUES (0, 'stale'), (0, 'stale')");
        src.exec("INSERT INTO log SELECT g % 7, 'line ' || g FROM generate_series(1, 3000) g",
                "INSERT INTO log VALUES (1, NULL), (1, NULL)", "INSERT INTO t VALUES (1, 'a')");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("full", full);
            m.sync("s1", false, List.of(m.table("src", "public", "log"), m.table("src", "public", "t", "id")),
                    "src", "full:fullcopy").capture("src");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals(3003, r.inserts());
            assertSameRows(src, full, "log", "at, line");
            assertSameRows(src, full, "t", "id");

            src.exec("DELETE FROM log WHERE at = 3", "UPDATE log SET line = upper(line) WHERE at = 4",
                    "INSERT INTO log VALUES (1, NULL)");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, full, "log", "at, line");
            assertTrue(r.deletes() > 3000, "whole again: " + r);
        }
    }

    /** A whole-table copy of a parent reads the parent's own rows only (COPY t, like FROM ONLY). */
    @Test
    void inheritanceParentIsCopiedWithoutItsChildrenRows() {
        TestDb src = PgServers.source();
        TestDb full = PgServers.target();
        for (TestDb db : List.of(src, full)) {
            db.exec("CREATE TABLE parent (id int PRIMARY KEY, v text)",
                    "CREATE TABLE child (extra int) INHERITS (parent)");
        }
        src.exec("INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 50) g",
                "INSERT INTO child SELECT g, 'c' || g, g FROM generate_series(100, 130) g");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("full", full);
            m.sync("s1", false, List.of(m.table("src", "public", "parent", "id")), "src", "full:fullcopy")
                    .capture("src");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals(50, r.inserts());
            assertEquals("50", full.scalar("SELECT count(*) FROM ONLY parent"));
            assertEquals("0", full.scalar("SELECT count(*) FROM child"));
            assertEquals(src.scalar("SELECT string_agg(id || v, ',' ORDER BY id) FROM ONLY parent"),
                    full.scalar("SELECT string_agg(id || v, ',' ORDER BY id) FROM ONLY parent"));
        }
    }

    @Test
    void aKeylessTableCannotGoToADeltaTarget() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE log (line text)");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s1", false, List.of(m.table("src", "public", "log")), "src", "dst").capture("src");
            src.exec("INSERT INTO log VALUES ('x')");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("bad", r.state());
            assertTrue(r.error().contains("Table public.log has no primary key or unique index"), r.error());
            assertEquals(0, dst.count("log"));
        }
    }
}
