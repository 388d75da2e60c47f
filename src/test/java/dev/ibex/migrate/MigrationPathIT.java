package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.replicate.SyncRunner;
import dev.ibex.replicate.Writers;
import dev.ibex.repository.Repository;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The whole migration from the oldest source ibex supports to the newest target, as the README's
 * "Migrating a database" tells it: copy schema, add dbs, tables, sequences and a sync with
 * onetimecopy=1, run while the source is written to, compare, cutover.
 */
class MigrationPathIT {

    private static final String[] SCHEMA = {
        "CREATE TABLE public.customers (id serial PRIMARY KEY, name text NOT NULL, since date)",
        "CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer int NOT NULL REFERENCES public.customers, "
            + "total numeric(12,2), placed timestamptz, doc jsonb, tags text[], blob bytea)",
        "CREATE TABLE public.counters (id int PRIMARY KEY, v int, note text)",
    };

    @Test
    void from96To18ThroughTheCli() throws Exception {
        TestDb src = PgServers.database("9.6.24");
        TestDb dst = PgServers.database("18.6.0");
        TestDb repo = PgServers.repository();
        src.exec(SCHEMA);
        src.exec("INSERT INTO public.customers (name, since) SELECT 'c' || g, date '2000-01-01' + g FROM generate_series(1, 2000) g",
                "INSERT INTO public.orders (customer, total, placed, doc, tags, blob) SELECT 1 + g % 2000, g * 1.25, "
                        + "'2020-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', jsonb_build_object('g', g), "
                        + "ARRAY['t' || g, NULL], decode(md5(g::text), 'hex') FROM generate_series(1, 30000) g",
                "INSERT INTO public.counters SELECT g, g, 'n' FROM generate_series(1, 5000) g");

        ok(repo, "install", "--batch");
        ok(repo, Cli.args(new String[] {"add", "db", "src"}, src.dbWords()));
        ok(repo, Cli.args(new String[] {"add", "db", "dst"}, dst.dbWords()));
        ok(repo, "copy", "schema", "src", "dst");
        assertEquals("3", dst.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
        ok(repo, "add", "all", "tables", "db=src", "relgroup=shop");
        ok(repo, "add", "all", "sequences", "db=src", "relgroup=shop");
        ok(repo, "add", "sync", "shop", "relgroup=shop", "dbs=src:source,dst:target", "onetimecopy=1");
        assertEquals("1", repo.scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 'shop'"));

        try (Repository r = Repository.open(Model.spec(repo)); SyncRunner runner = new SyncRunner(r)) {
            try (Writers writers = Writers.start(src, 3, 6000, "public.counters")) {
                writers.awaitCommits(30);
                src.exec("INSERT INTO public.orders (customer, total) VALUES (1, 1.00), (2, 2.00)");
                SyncRunner.Result first = runner.runOnce("shop");
                assertEquals("good", first.state(), first.toString());
                assertTrue(first.inserts() >= 32002, "the one-time copy: " + first);
                assertEquals("0", repo.scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 'shop'"));
                src.exec("UPDATE public.orders SET total = total + 1 WHERE id % 100 = 0",
                        "DELETE FROM public.orders WHERE id % 333 = 0",
                        "INSERT INTO public.customers (name) VALUES ('late')");
                assertEquals("good", runner.runOnce("shop").state());
            }
        }

        Cli.Result compare = Cli.run(repo, "compare", "shop");
        assertEquals(0, compare.exit(), compare.toString());
        assertTrue(compare.out().contains("All 3 table comparison(s) match"), compare.toString());

        Cli.Result cutover = Cli.run(repo, "cutover", "shop");
        assertEquals(0, cutover.exit(), cutover.toString());
        assertTrue(cutover.out().contains("MATCH  public.orders_id_seq  dst  last_value 30002\n"), cutover.toString());
        assertTrue(cutover.out().contains("MATCH  public.customers_id_seq  dst  last_value 2001\n"), cutover.toString());
        assertTrue(cutover.out().contains("Ready: 3 table comparison(s) and 2 sequence comparison(s) match"),
                cutover.toString());

        for (String t : List.of("customers", "orders", "counters")) {
            assertEquals(src.checksum("public." + t, "id"), dst.checksum("public." + t, "id"), t);
        }
        dst.exec("INSERT INTO public.customers (name) VALUES ('first on the new server')");
        assertEquals("2002", dst.scalar("SELECT max(id) FROM public.customers"));

        ok(repo, "remove", "sync", "shop");
        assertEquals("0", src.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
    }

    private static Cli.Result ok(TestDb repo, String... args) {
        Cli.Result r = Cli.run(repo, args);
        assertEquals(0, r.exit(), r.toString());
        return r;
    }
}
