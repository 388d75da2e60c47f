package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The oldest source ibex supports feeding the newest target. */
class CrossVersionIT {

    @Test
    void from96To18() {
        TestDb src = PgServers.database("9.6.24");
        TestDb dst = PgServers.database("18.6.0");
        assertEquals("9", src.scalar("SHOW server_version").substring(0, 1));
        assertEquals("18", dst.scalar("SHOW server_version").substring(0, 2));
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE orders (region text, id bigint, placed timestamptz, amount numeric(12,2), "
                    + "tags text[], doc jsonb, blob bytea, note text, PRIMARY KEY (region, id))");
        }
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", true, List.of(m.table("src", "public", "orders", "region", "id")), "src", "dst")
                    .capture("src");
            src.exec("INSERT INTO orders SELECT CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g, "
                    + "'2020-01-01 00:00:00+00'::timestamptz + g * interval '1 hour', g * 1.25, ARRAY['t' || g, NULL], "
                    + "jsonb_build_object('g', g, 's', E'tab\\tq\"'), decode(md5(g::text), 'hex'), "
                    + "CASE WHEN g % 3 = 0 THEN NULL ELSE E'line\\nback\\\\slash ü' END FROM generate_series(1, 2000) g");
            assertEquals("good", runner.runOnce("s1").state());
            assertSameRows(src, dst, "orders", "region, id");

            src.exec("UPDATE orders SET region = 'ap' WHERE id % 10 = 0",
                    "DELETE FROM orders WHERE id % 7 = 0",
                    "UPDATE orders SET note = 'upd' WHERE id % 11 = 0",
                    "TRUNCATE orders", "INSERT INTO orders (region, id) VALUES ('x', 1)");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, dst, "orders", "region, id");
            src.exec("INSERT INTO orders (region, id, note) VALUES ('x', 2, 'after'), ('x', 3, NULL)",
                    "DELETE FROM orders WHERE id = 1");
            assertEquals("good", runner.runOnce("s1").state());
            assertSameRows(src, dst, "orders", "region, id");
            m.dropSync("s1", "src");
            assertEquals("0", src.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
        }
    }
}
