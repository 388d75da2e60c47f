package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CopySchemaIT {

    private static final String PASSWORD = "s3cret-Pw-never-shown";

    /** What the copy must carry over: one line per column, constraint, index, view, function, sequence. */
    private static final String DESCRIBE = """
            SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
              SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                     || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END AS x
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
              UNION ALL
              SELECT 'con ' || conname || ' ' || contype::text FROM pg_constraint o JOIN pg_namespace n ON n.oid = o.connamespace
               WHERE n.nspname = 'public'
              UNION ALL
              SELECT 'idx ' || indexname || ' ' || regexp_replace(indexdef, ' USING btree', '') FROM pg_indexes
               WHERE schemaname = 'public'
              UNION ALL
              SELECT 'fn ' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'public'
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
              UNION ALL
              SELECT 'ext ' || extname FROM pg_extension
              UNION ALL
              SELECT 'seq ' || relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE nspname = 'public' AND relkind = 'S'
              UNION ALL
              SELECT 'trg ' || tgname FROM pg_trigger WHERE NOT tgisinternal
            ) d""";

    private static final String[] SCHEMA = {
        "CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE public.customers (id serial PRIMARY KEY, name text NOT NULL UNIQUE, mood public.mood)",
        "CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer int NOT NULL REFERENCES public.customers, "
            + "total numeric(12,2) CHECK (total >= 0), placed timestamptz DEFAULT now())",
        "CREATE INDEX orders_placed ON public.orders (placed)",
        "CREATE VIEW public.big_orders AS SELECT * FROM public.orders WHERE total > 1000",
        "CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.placed := now(); "
            + "RETURN NEW; END $$",
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE PROCEDURE public.touch()",
        "CREATE EXTENSION citext",
        "CREATE TABLE public.tags (tag public.citext PRIMARY KEY)",
        "CREATE SCHEMA ibex",
        "CREATE TABLE ibex.delta_public_orders (id bigint, txid bigint)",
    };

    private static int toolMajor;

    @BeforeAll
    static void pgDumpIsInstalled() {
        PgTools.Tool t;
        try {
            t = PgTools.fromEnvironment().pgDump(0, "any server");
        } catch (RuntimeException e) {
            fail("These tests need pg_dump and psql: apt-get install postgresql-client-15 (" + e.getMessage() + ")");
            return;
        }
        toolMajor = t.major();
    }

    @Test
    void copiesTheSchemaButNotIbexFromAnOlderServer() {
        TestDb source = PgServers.database("9.6.24");
        TestDb target = PgServers.database("default");
        source.exec(SCHEMA);
        Model m = Model.create().db("src", source, source.user(), PASSWORD).db("dst", target, target.user(), PASSWORD);

        Cli.Result r = m.run("copy", "schema", "src", "dst");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("Copied the schema of db src into db dst (3 table(s); pg_dump"), r.toString());
        assertFalse(r.out().contains(PASSWORD) || r.err().contains(PASSWORD), r.toString());

        String expected = source.scalar(DESCRIBE);
        assertNotNull(expected);
        assertEquals(expected, target.scalar(DESCRIBE));
        assertEquals("f", target.scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ibex')"));
        target.exec("INSERT INTO public.customers (name, mood) VALUES ('ann', 'ok')",
                "INSERT INTO public.orders (customer, total) VALUES (1, 5)");
        assertEquals("1", target.scalar("SELECT id FROM public.orders"));
    }

    /**
     * A new target for a sync that already runs (README, Migrating: add it with onetimecopy=2) gets
     * its schema from the captured source, whose tables carry triggers calling functions in the schema
     * the dump leaves out: the restore failed with 'schema "ibex" does not exist'.
     */
    @Test
    void copiesFromASourceThatASyncAlreadyCaptures() {
        TestDb source = PgServers.database("9.6.24");
        TestDb target = PgServers.database("default");
        TestDb second = PgServers.database("default");
        String table = "CREATE TABLE public.\"Orders\" (id int PRIMARY KEY, v text)";
        source.exec(table);
        target.exec(table);
        Model m = Model.create().db("src", source).db("dst", target).db("dst2", second);
        assertEquals(0, m.run("add", "table", "public.\"Orders\"", "db=src", "relgroup=g").exit());
        assertEquals(0, m.run("add", "sync", "s", "relgroup=g", "dbs=src:source,dst:target").exit());
        source.exec("ALTER TABLE public.\"Orders\" DISABLE TRIGGER ibex_truncate");
        assertEquals("2", source.scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ibex%'"));

        Cli.Result r = m.run("copy", "schema", "src", "dst2");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("(1 table(s); pg_dump"), r.toString());
        assertEquals("0", second.scalar("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"));
        assertEquals("f", second.scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'ibex')"));
        second.exec("INSERT INTO public.\"Orders\" VALUES (1, 'a')");
    }

    @Test
    void aFailedRestoreLeavesTheTargetAsItWas() {
        TestDb source = PgServers.database("9.6.24");
        TestDb target = PgServers.database("default");
        source.exec(SCHEMA);
        target.exec("CREATE TABLE public.orders (id int)");
        String before = target.scalar(DESCRIBE);
        Model m = Model.create().db("src", source).db("dst", target);

        Cli.Result r = m.run("copy", "schema", "src", "dst");
        assertEquals(3, r.exit(), r.toString());
        assertTrue(r.err().startsWith("Restoring the schema into target db dst (nothing was changed there"), r.toString());
        assertTrue(r.err().contains("ERROR: relation \"orders\" already exists"), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.toString());
        assertEquals(before, target.scalar(DESCRIBE));
        assertEquals("f", target.scalar("SELECT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood')"));
    }

    @Test
    void aSourceNewerThanPgDumpIsRefused() {
        String version = toolMajor < 1700 ? "default" : toolMajor < 1800 ? "18.6.0" : null;
        if (version == null) {
            fail("pg_dump " + toolMajor + " on this machine is newer than every test server: cannot test this error");
        }
        TestDb source = PgServers.database(version);
        TestDb target = PgServers.database(version);
        Model m = Model.create().db("src", source).db("dst", target);
        Cli.Result r = m.run("copy", "schema", "src", "dst");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains("is older than source db src (PostgreSQL "), r.toString());
        assertTrue(r.err().contains("install postgresql-client-"), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.toString());
    }

    @Test
    void missingToolsUnknownDbsAndOtherWordsAreOneLine() {
        TestDb source = PgServers.database("9.6.24");
        TestDb target = PgServers.database("default");
        Model m = Model.create().db("src", source).db("dst", target);

        Cli.Result noTools = m.run("copy", "schema", "src", "dst", "--pg-bin", "/nonexistent/bin");
        assertEquals(1, noTools.exit(), noTools.toString());
        assertEquals("pg_dump not found in /nonexistent/bin: install postgresql-client-9.6 (or newer), or fix --pg-bin",
                noTools.err().strip());

        Cli.Result unknown = m.run("copy", "schema", "src", "nosuch");
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().startsWith("No db named \"nosuch\""), unknown.toString());

        Cli.Result data = m.run("copy", "data", "src", "dst");
        assertEquals(1, data.exit(), data.toString());
        assertTrue(data.err().contains("the only form is 'ibex copy schema SRC DST'"), data.toString());

        Cli.Result same = m.run("copy", "schema", "src", "src");
        assertEquals(1, same.exit(), same.toString());
        for (Cli.Result r : List.of(noTools, unknown, data, same)) {
            assertEquals(1, r.err().strip().lines().count(), r.toString());
        }
    }
}
