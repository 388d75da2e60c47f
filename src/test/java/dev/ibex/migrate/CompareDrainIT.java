package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/** compare applies the changes in flight before it compares, so they are not reported as differences. */
class CompareDrainIT {

    @Test
    void changesInFlightAreDrainedBeforeComparing() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        for (TestDb db : List.of(source, target)) {
            db.exec("CREATE TABLE public.items (id int PRIMARY KEY, name text)",
                    "INSERT INTO public.items SELECT i, 'item ' || i FROM generate_series(1, 500) i");
        }
        Model m = ReplicaSet.on(source, target).model().sync("s1", "src", List.of("dst"), "public.items:id")
                .capture("src");
        source.exec("UPDATE public.items SET name = 'renamed' WHERE id % 10 = 0", "DELETE FROM public.items WHERE id > 490",
                "INSERT INTO public.items VALUES (1000, 'new'), (1001, 'new')");
        assertNotEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));

        Cli.Result r = m.run("compare", "s1");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("MATCH  public.items  dst  492 rows"), r.toString());
        assertTrue(!r.out().contains("Note:"), r.toString());
        assertEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
        assertEquals("good", m.repoDb().scalar("SELECT state FROM ibex.run WHERE sync = 's1' ORDER BY id LIMIT 1"));
    }

    @Test
    void aDrainThatFailsIsNotedAndTheDifferenceReported() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        for (TestDb db : List.of(source, target)) {
            db.exec("CREATE TABLE public.items (id int PRIMARY KEY, name text)");
        }
        Model m = ReplicaSet.on(source, target).model().sync("s1", "src", List.of("dst"), "public.items:id")
                .capture("src");
        source.exec("INSERT INTO public.items VALUES (1, 'x')");
        target.exec("ALTER TABLE public.items ADD CHECK (name <> 'x')");

        Cli.Result r = m.run("compare", "s1");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.out().contains("Note: draining pending changes failed (Applying to target db \"dst\" failed: "),
                r.toString());
        assertTrue(r.out().contains("DIFF   public.items  dst  source 1 rows, target 0: 1 missing"), r.toString());
    }
}
