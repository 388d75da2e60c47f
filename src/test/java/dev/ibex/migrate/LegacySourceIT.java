package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.pg.ServerVersion;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.replicate.Writers;
import dev.ibex.repository.Repository;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole migration from the old servers people leave (9.3.5 and 9.5.3, the oldest binaries a
 * registry ships, and 9.3.5 taken for 8.4, so that the SQL ibex chooses for 8.4 runs for real)
 * into a current target, through the CLI: add dbs, all tables and sequences, a sync with
 * onetimecopy=1, a controller and a writer during the copy and after it, kick 0, compare, cutover.
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
            if (as84) {
                assertTrue(tables.out().contains("Note: db \"src\" runs PostgreSQL 8.4, which ibex reads as an old source: "),
                        "an old source is named as such: " + tables);
                assertTrue(tables.out().contains("no exported snapshots"), tables.toString());
                assertEquals(1, tables.out().split("Note: db", -1).length - 1, "once: " + tables);
            } else {
                assertFalse(tables.out().contains("Note:"), "9.3 and 9.5 lack nothing ibex works around: " + tables);
            }
            ok(repo, "add", "all", "sequences", "db=src", "relgroup=shop");
            ok(repo, "add", "sync", "shop", "relgroup=shop", "dbs=src:source,dst:target", "onetimecopy=1");
            Cli.Result validate = Cli.run(repo, "validate", "shop");
            assertTrue(validate.out().contains("has PL/pgSQL"), validate.toString());
            assertFalse(validate.out().contains("internal"), validate.toString());

            // the controller's first run is the one-time copy, while the writer goes on; kick 0 waits for a run
            try (Writers writers = Writers.start(src, 3, 4000, "public.counters");
                 InProcessController controller = new InProcessController(repo)) {
                writers.awaitCommits(30);
                ok(repo, "kick", "shop", "0");
                assertEquals("0", repo.scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 'shop'"),
                        "the one-time copy ran");
                assertTrue(Long.parseLong(repo.scalar("SELECT sum(inserts) FROM ibex.run WHERE sync = 'shop'")) >= 25000,
                        "the one-time copy: " + repo.column("SELECT state || ' ' || inserts FROM ibex.run"));
                writers.awaitCommits(writers.committed() + 60);
                src.exec("UPDATE public.orders SET total = total + 1 WHERE id % 100 = 0",
                        "DELETE FROM public.orders WHERE id % 333 = 0",
                        "UPDATE public.\"Line Items\" SET sku = sku || 'x' WHERE n = 1 AND qty % 10 = 0",
                        "INSERT INTO public.customers (name) VALUES ('late')");
                writers.stop();
                Cli.Result kick = ok(repo, "kick", "shop", "0");
                assertTrue(kick.out().contains("DONE!"), kick.toString());
                controller.assertRunning();
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
     * PostgreSQL before 9.0 creates databases without PL/pgSQL (dropped here from a 9.3 database):
     * ibex creates it as the database owner, and refuses a user who may not in one line naming the
     * command a superuser must run, changing nothing; validate says which case it is.
     */
    @Test
    void aSourceWithoutPlpgsql() {
        TestDb dst = PgServers.database("18.6.0");
        TestDb repo = PgServers.repository();
        dst.exec("CREATE TABLE public.items (id int PRIMARY KEY, name text)");
        TestDb[] sources = {PgServers.database("9.3.5"), PgServers.database("9.3.5")};
        String[] users = new String[2];
        for (int i = 0; i < 2; i++) {
            TestDb src = sources[i];
            users[i] = "lang_" + src.name();
            src.exec("DROP EXTENSION plpgsql", "CREATE TABLE public.items (id int PRIMARY KEY, name text)",
                    "INSERT INTO public.items SELECT g, 'n' || g FROM generate_series(1, 100) g",
                    "CREATE ROLE " + users[i] + " LOGIN", "GRANT SELECT, UPDATE, TRIGGER ON public.items TO " + users[i],
                    "GRANT CREATE ON DATABASE " + src.name() + " TO " + users[i]);
        }
        sources[1].exec("ALTER DATABASE " + sources[1].name() + " OWNER TO " + users[1]);

        Cli.Result refused = Model.create().db("src", sources[0], users[0], null).db("dst", dst)
                .sync("s1", "src", List.of("dst"), "public.items:id").run("validate");
        assertEquals(1, refused.exit(), refused.toString());
        assertTrue(refused.out().contains("FAIL  plpgsql         source db src has no PL/pgSQL"), refused.toString());
        assertTrue(refused.out().contains("CREATE LANGUAGE plpgsql"), refused.toString());
        Cli.Result owner = Model.create().db("src", sources[1], users[1], null).db("dst", dst)
                .sync("s1", "src", List.of("dst"), "public.items:id").run("validate");
        assertTrue(owner.out().contains("PASS  plpgsql         source db src has no PL/pgSQL yet: ibex creates it"),
                owner.toString());

        ok(repo, "install", "--batch");
        ok(repo, "add", "db", "old", "dbname=" + sources[0].name(), "host=" + sources[0].host(),
                "port=" + sources[0].port(), "user=" + users[0]);
        ok(repo, "add", "db", "own", "dbname=" + sources[1].name(), "host=" + sources[1].host(),
                "port=" + sources[1].port(), "user=" + users[1]);
        ok(repo, Cli.args(new String[] {"add", "db", "dst"}, dst.dbWords()));
        ok(repo, "add", "table", "public.items", "db=old", "relgroup=g_old");
        ok(repo, "add", "table", "public.items", "db=own", "relgroup=g_own");
        Cli.Result r = Cli.run(repo, "add", "sync", "s_old", "relgroup=g_old", "dbs=old:source,dst:target");
        assertEquals(1, r.exit(), r.toString());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r);
        assertTrue(r.err().contains("Db \"old\" has no PL/pgSQL") && r.err().contains("CREATE LANGUAGE plpgsql"),
                r.toString());
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.sync WHERE name = 's_old'"));
        assertEquals("0", sources[0].scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
        assertEquals("0", sources[0].scalar("SELECT count(*) FROM pg_language WHERE lanname = 'plpgsql'"));

        ok(repo, "add", "sync", "s_own", "relgroup=g_own", "dbs=own:source,dst:target", "onetimecopy=1");
        assertEquals("1", sources[1].scalar("SELECT count(*) FROM pg_language WHERE lanname = 'plpgsql'"));
        try (Repository rp = Repository.open(Model.spec(repo)); SyncRunner runner = new SyncRunner(rp)) {
            sources[1].exec("UPDATE public.items SET name = 'changed' WHERE id % 10 = 0");
            assertEquals("good", runner.runOnce("s_own").state());
            sources[1].exec("DELETE FROM public.items WHERE id = 5", "INSERT INTO public.items VALUES (101, 'new')");
            assertEquals("good", runner.runOnce("s_own").state());
        }
        assertEquals(sources[1].checksum("public.items", "id"), dst.checksum("public.items", "id"));
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
