package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

class CutoverIT {

    private static Model model(TestDb source, TestDb target) {
        for (TestDb db : List.of(source, target)) {
            db.exec("CREATE SEQUENCE public.ids", "CREATE TABLE public.items (id bigint PRIMARY KEY DEFAULT nextval('public.ids'), "
                    + "name text)", "INSERT INTO public.items (name) SELECT 'item ' || i FROM generate_series(1, 300) i");
        }
        Model m = ReplicaSet.on(source, target).model();
        return m.sync("s1", true, List.of(m.table("src", "public", "items", "id"), m.sequence("src", "ids")), "src", "dst")
                .capture("src");
    }

    @Test
    void aTargetThatCaughtUpIsReady() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        Model m = model(source, target);
        source.exec("INSERT INTO public.items (name) SELECT 'more ' || i FROM generate_series(1, 20) i",
                "UPDATE public.items SET name = 'renamed' WHERE id % 7 = 0", "DELETE FROM public.items WHERE id = 3");

        Cli.Result r = m.run("cutover", "s1");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().startsWith("Cutover check of sync s1\nDrained in 1 run(s); backlog now 0 change(s)\n"), r.toString());
        assertTrue(r.out().contains("MATCH  public.items  dst  319 rows\n"), r.toString());
        assertTrue(r.out().contains("MATCH  public.ids  dst  last_value 320\n"), r.toString());
        assertTrue(r.out().contains("Ready: 1 table comparison(s) and 1 sequence comparison(s) match, nothing pending\n"),
                r.toString());
        assertTrue(r.out().contains("  1. Stop writes to the source"), r.toString());
        assertTrue(r.out().contains("  2. Point the applications at the target: dst\n"), r.toString());
        assertTrue(r.out().contains("'ibex remove sync s1'"), r.toString());
        assertEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
        assertEquals("320", target.scalar("SELECT last_value FROM public.ids"));

        Cli.Result json = m.run("cutover", "s1", "--json");
        assertEquals(0, json.exit(), json.toString());
        assertTrue(json.out().startsWith("{\"sync\":\"s1\",\"ready\":true,\"drain\":{\"runs\":1,\"pending\":0,\"error\":null},"
                + "\"backlog\":0,"), json.toString());
        assertTrue(json.out().contains("\"sequences\":[{\"sequence\":\"public.ids\",\"target\":\"dst\",\"status\":\"MATCH\","
                + "\"source_last_value\":320,\"source_is_called\":true,\"target_last_value\":320,\"target_is_called\":true,"
                + "\"note\":null}]"), json.toString());
    }

    @Test
    void aDifferingTargetIsNotReady() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        Model m = model(source, target);
        target.exec("INSERT INTO public.items VALUES (5000, 'written on the target')");

        Cli.Result r = m.run("cutover", "s1");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.out().contains("DIFF   public.items  dst  source 300 rows, target 301: 0 missing, 1 extra, 0 changed"),
                r.toString());
        assertTrue(r.out().contains("NOT ready: 1 of 1 table comparison(s) differ\n"), r.toString());
        assertTrue(r.out().contains("  1. Fix what differs first"), r.toString());
        assertTrue(m.run("cutover", "s1", "--json").out().contains("\"ready\":false"));
    }

    @Test
    void aFailingRunIsExitTwo() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        Model m = model(source, target);
        target.exec("ALTER TABLE public.items ADD CHECK (name <> 'refused')");
        source.exec("INSERT INTO public.items (name) VALUES ('refused')");

        Cli.Result r = m.run("cutover", "s1");
        assertEquals(2, r.exit(), r.toString());
        assertTrue(r.out().contains("Drain FAILED in run 1: Applying to target db \"dst\" failed: "), r.toString());
        assertTrue(r.out().contains("NOT ready: a sync run failed, 1 of 1 table comparison(s) differ, "
                + "1 of 1 sequence comparison(s) differ, 1 change(s) still pending"),
                r.toString());
        assertTrue(!r.out().contains("Note: draining"), "the failure is said once: " + r);
        assertTrue(r.err().isEmpty(), "no engine stack traces on the terminal: " + r.err());
    }
}
