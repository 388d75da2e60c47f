package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.pg.ServerVersion;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.replicate.Writers;
import dev.ibex.repository.Repository;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole migration from the old servers people leave (9.3.5 and 9.5.3, the oldest binaries a
 * registry ships, and 9.3.5 taken for 8.4, so that the SQL ibex chooses for 8.4 runs for real)
 * into a current target, through the CLI: add dbs, all tables and sequences, a sync with
 * onetimecopy=1, a writer during the copy and after it, compare, cutover.
 */
class LegacySourceIT {

    private static final String AS_84 = "9.3.5 as 8.4";

    /** Types and shapes an 8.4 server has: no jsonb, no IF NOT EXISTS, a text key, a composite key. */
    private static final String[] SCHEMA = {
        "CREATE TABLE public.customers (id serial PRIMARY KEY, name text NOT NULL, since date)",
        "CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer int NOT NULL REFERENCES public.customers, "
            + "total numeric(12,2), placed timestamptz, tags text[], blob bytea, ratio float8)",
        "CREATE TABLE public.counters (id int PRIMARY KEY, v int, note text)",
        "CREATE TABLE public.\"Line Items\" (sku text, n int, qty int, PRIMARY KEY (sku, n))",
    };

    private static final String[] TABLES = {"public.customers", "public.orders", "public.counters", "public.\"Line Items\""};

    @ParameterizedTest
    @ValueSource(strings = {"9.3.5", "9.5.3", AS_84})
    void migratesIntoTheNewestTarget(String version) throws Exception {
        boolean as84 = version.equals(AS_84);
        TestDb src = PgServers.database(as84 ? "9.3.5" : version);
        TestDb dst = PgServers.database("18.6.0");
        TestDb repo = PgServers.repository();
        String real = src.scalar("SHOW server_version_num");
        if (as84) {
            System.setProperty(ServerVersion.ASSUME, real + "=80400");
        }
        try {
            src.exec(SCHEMA);
            src.exec("INSERT INTO public.customers (name, since) SELECT 'c' || g, date '2000-01-01' + g FROM generate_series(1, 500) g",
                    "INSERT INTO public.orders (customer, total, placed, tags, blob, ratio) SELECT 1 + g % 500, g * 1.25, "
                            + "'2020-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', ARRAY['t' || g, NULL], "
                            + "decode(md5(g::text), 'hex'), g / 7.0 FROM generate_series(1, 20000) g",
                    "INSERT INTO public.counters SELECT g, g, 'n' FROM generate_series(1, 3000) g",
                    "INSERT INTO public.\"Line Items\" SELECT chr(65 + g % 26) || 'é' || g, g % 3, g FROM generate_series(1, 2000) g");

            ok(repo, "install", "--batch");
            ok(repo, Cli.args(new String[] {"add", "db", "src"}, src.dbWords()));
            ok(repo, Cli.args(new String[] {"add", "db", "dst"}, dst.dbWords()));
            if (as84) {
                dst.exec(SCHEMA); // pg_dump 15 cannot dump 8.4; a real 9.3 can be dumped by it
            } else {
                ok(repo, "copy", "schema", "src", "dst");
            }
            Cli.Result tables = ok(repo, "add", "all", "tables", "db=src", "relgroup=shop");
            assertTrue(tables.out().contains("Note: db \"src\" runs PostgreSQL " + (as84 ? "8.4" : version.substring(0, 3))),
                    "an old source is named as such once: " + tables);
            assertEquals(1, tables.out().split("Note: db", -1).length - 1, tables.toString());
            if (as84) {
                assertTrue(tables.out().contains("no exported snapshots"), tables.toString());
            }
            ok(repo, "add", "all", "sequences", "db=src", "relgroup=shop");
            ok(repo, "add", "sync", "shop", "relgroup=shop", "dbs=src:source,dst:target", "onetimecopy=1");
            Cli.Result validate = Cli.run(repo, "validate", "shop");
            assertTrue(validate.out().contains("has PL/pgSQL"), validate.toString());
            assertFalse(validate.out().contains("internal"), validate.toString());

            try (Repository r = Repository.open(Model.spec(repo)); SyncRunner runner = new SyncRunner(r)) {
                try (Writers writers = Writers.start(src, 3, 4000, "public.counters")) {
                    writers.awaitCommits(30);
                    SyncRunner.Result first = runner.runOnce("shop");
                    assertEquals("good", first.state(), first.toString());
                    assertTrue(first.inserts() >= 25000, "the one-time copy: " + first);
                    assertEquals("0", repo.scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 'shop'"));
                    writers.awaitCommits(writers.committed() + 60);
                    src.exec("UPDATE public.orders SET total = total + 1 WHERE id % 100 = 0",
                            "DELETE FROM public.orders WHERE id % 333 = 0",
                            "UPDATE public.\"Line Items\" SET sku = sku || 'x' WHERE n = 1 AND qty % 10 = 0",
                            "INSERT INTO public.customers (name) VALUES ('late')");
                    assertEquals("good", runner.runOnce("shop").state());
                }
            }

            Cli.Result compare = Cli.run(repo, "compare", "shop");
            assertEquals(0, compare.exit(), compare.toString());
            assertTrue(compare.out().contains("All 4 table comparison(s) match"), compare.toString());

            Cli.Result cutover = Cli.run(repo, "cutover", "shop");
            assertEquals(0, cutover.exit(), cutover.toString());
            assertTrue(cutover.out().contains("MATCH  public.orders_id_seq  dst  last_value 20000\n"), cutover.toString());
            for (String t : TABLES) {
                assertEquals(src.count(t), dst.count(t), t);
                assertEquals(checksum(src, t), checksum(dst, t), t);
            }

            ok(repo, "remove", "sync", "shop");
            assertEquals("0", src.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
        } finally {
            System.clearProperty(ServerVersion.ASSUME);
        }
    }

    /**
     * An md5 over the rows in key order, as 8.4 can compute it (no string_agg): floats in binary and
     * times as epochs, whose text differs between 9.x and 18, the values not.
     */
    private static String checksum(TestDb db, String table) {
        String row = table.equals("public.orders")
                ? "ROW(id, customer, total, extract(epoch FROM placed)::bigint, tags, blob, float8send(ratio))" : "x";
        String order = table.contains("Line") ? "convert_to(sku, 'UTF8'), n" : "id";
        return db.scalar("SELECT md5(array_to_string(array(SELECT " + row + "::text FROM " + table + " x ORDER BY "
                + order + "), E'\\n'))");
    }

    private static Cli.Result ok(TestDb repo, String... args) {
        Cli.Result r = Cli.run(repo, args);
        assertEquals(0, r.exit(), r.toString());
        return r;
    }
}
