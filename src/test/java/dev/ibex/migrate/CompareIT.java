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

class CompareIT {

    /** %s: the document's type, jsonb where the source has it (9.4), else text. */
    private static final String ITEMS = """
            CREATE TABLE public.items (id int PRIMARY KEY, name text, price float8, at timestamptz, tags text[],
                                       ratio real, doc %s)""";
    private static final String FILL_ITEMS = """
            INSERT INTO public.items SELECT i, 'item ' || i, i / 3.0::float8,
                   '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 hour', ARRAY['a', i::text],
                   i / 7.0::real, ('{"n": ' || i || '}')::%s
              FROM generate_series(1, 1000) i""";
    private static final String PAIRS = "CREATE TABLE public.pairs (k text, n int, v text, PRIMARY KEY (k, n))";
    private static final String FILL_PAIRS = """
            INSERT INTO public.pairs SELECT chr(65 + i % 26) || chr(97 + i % 5), i, 'v' || i FROM generate_series(1, 300) i""";

    /** A 9.6 source and a 17 target holding the same rows: float text and collations differ between them. */
    private static Model model(TestDb source, TestDb target) {
        items(source, target);
        for (TestDb db : List.of(source, target)) {
            db.exec(PAIRS, FILL_PAIRS);
        }
        return ReplicaSet.on(source, target).model()
                .sync("s1", "src", List.of("dst"), "public.items:id", "public.pairs:k,n");
    }

    /** The same 1000 items on both. */
    private static void items(TestDb source, TestDb target) {
        String doc = source.version().atLeast(90400) ? "jsonb" : "text";
        for (TestDb db : List.of(source, target)) {
            db.exec(ITEMS.formatted(doc), FILL_ITEMS.formatted(doc));
        }
    }

    /**
     * TestDb.checksum over row text, but with floats in binary and times as epochs: float text differs
     * between 9.6 and 17 (and the servers' TimeZone may too), the values do not.
     */
    private static String itemsChecksum(TestDb db) {
        return db.scalar("SELECT count(*) || ':' || md5(string_agg(ROW(id, name, float8send(price), extract(epoch FROM at)::bigint, "
                + "tags, float4send(ratio), doc)::text, E'\\n' ORDER BY id)) FROM public.items");
    }

    @Test
    void equalTablesMatchAcrossVersions() {
        Model m = model(PgServers.database("9.6.24"), PgServers.database("default"));
        Cli.Result r = m.run("compare", "s1");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("MATCH  public.items  dst  1000 rows"), r.toString());
        assertTrue(r.out().contains("MATCH  public.pairs  dst  300 rows"), r.toString());
        assertTrue(r.out().contains("All 2 table comparison(s) match"), r.toString());
    }

    @Test
    void findsMissingExtraAndChangedRowsAndRepairsThem() {
        TestDb source = PgServers.database("9.6.24");
        TestDb target = PgServers.database("default");
        Model m = model(source, target);
        target.exec("DELETE FROM public.items WHERE id = 5",
                "INSERT INTO public.items (id, name) VALUES (1001, 'stray')",
                "UPDATE public.items SET price = price + 1e-12 WHERE id = 7",
                "UPDATE public.pairs SET v = 'changed' WHERE k = 'Bb' AND n = 1",
                "DELETE FROM public.pairs WHERE n = 2",
                // a target trigger that must not fire during repair
                "CREATE TABLE public.audit (id int)",
                "CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                + "INSERT INTO public.audit VALUES (1); RETURN NEW; END $$",
                "CREATE TRIGGER items_audit AFTER INSERT OR DELETE ON public.items FOR EACH ROW EXECUTE PROCEDURE public.audit()");
        assertNotEquals(itemsChecksum(source), itemsChecksum(target));

        Cli.Result r = m.run("compare", "s1");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.out().contains("DIFF   public.items  dst  source 1000 rows, target 1000: 1 missing, 1 extra, 1 changed"),
                r.toString());
        assertTrue(r.out().contains("missing on target: id=5\n"), r.toString());
        assertTrue(r.out().contains("extra on target: id=1001\n"), r.toString());
        assertTrue(r.out().contains("changed on target: id=7\n"), r.toString());
        assertTrue(r.out().contains("DIFF   public.pairs  dst  source 300 rows, target 299: 1 missing, 0 extra, 1 changed"),
                r.toString());
        assertTrue(r.out().contains("missing on target: k=Cc, n=2\n"), r.toString());
        assertTrue(r.out().contains("changed on target: k=Bb, n=1\n"), r.toString());

        Cli.Result json = m.run("compare", "s1", "public.items", "--json");
        assertEquals(1, json.exit(), json.toString());
        assertTrue(json.out().contains("\"table\":\"public.items\",\"target\":\"dst\",\"status\":\"DIFF\",\"source_rows\":1000,"
                + "\"target_rows\":1000,\"ranges\":1,\"differing_ranges\":1,\"key\":[\"id\"],\"missing\":[[\"5\"]],"
                + "\"extra\":[[\"1001\"]],\"changed\":[[\"7\"]],\"differing_rows\":3"), json.toString());
        assertTrue(!json.out().contains("public.pairs"), json.toString());

        Cli.Result fixed = m.run("compare", "s1", "--repair");
        assertEquals(0, fixed.exit(), fixed.toString());
        assertTrue(fixed.out().contains("Repaired public.items on dst: deleted 2 row(s), copied 2 row(s) from src"),
                fixed.toString());
        assertTrue(fixed.out().contains("Repaired public.pairs on dst: deleted 1 row(s), copied 2 row(s) from src"),
                fixed.toString());
        assertTrue(fixed.out().contains("After repair: All 2 table comparison(s) match"), fixed.toString());
        assertEquals(itemsChecksum(source), itemsChecksum(target));
        assertEquals(source.checksum("public.pairs", "k, n"), target.checksum("public.pairs", "k, n"));
        assertEquals(0, target.count("public.audit"), "target triggers fired during repair");
        assertEquals("origin", target.scalar("SHOW session_replication_role"));
    }

    @Test
    void aMultiRangeTableLocatesTheDifferenceToOneRange() {
        TestDb source = PgServers.database("default");
        TestDb target = PgServers.database("default");
        Model m = model(source, target);
        target.exec("UPDATE public.items SET name = 'renamed' WHERE id = 550");

        Cli.Result r = m.run("compare", "s1", "items", "--range-rows", "100");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.out().contains("DIFF   public.items  dst  source 1000 rows, target 1000; 1 of 11 ranges differ: "
                + "0 missing, 0 extra, 1 changed"), r.toString());
        assertTrue(r.out().contains("changed on target: id=550\n"), r.toString());

        Cli.Result json = m.run("compare", "s1", "items", "--range-rows", "100", "--json");
        assertTrue(json.out().contains("\"ranges\":11,\"differing_ranges\":1,"), json.toString());

        Cli.Result fixed = m.run("compare", "s1", "items", "--range-rows", "100", "--repair");
        assertEquals(0, fixed.exit(), fixed.toString());
        assertTrue(fixed.out().contains("deleted 1 row(s), copied 1 row(s)"), fixed.toString());
        assertEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
    }

    @Test
    void aKeylessTableComparesWholeAndCannotBeRepairedByRow() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        for (TestDb db : List.of(source, target)) {
            db.exec("CREATE TABLE public.log (line text)", "INSERT INTO public.log SELECT 'l' || i FROM generate_series(1, 50) i");
        }
        // a delta target: a fullcopy target would get the whole table again from the drain before comparing
        Model m = ReplicaSet.on(source, target).model().sync("s1", "src", List.of("dst"), "public.log:");
        Cli.Result same = m.run("compare", "s1");
        assertEquals(0, same.exit(), same.toString());
        assertTrue(same.out().contains("MATCH  public.log  dst  50 rows"), same.toString());

        target.exec("INSERT INTO public.log VALUES ('stray')");
        Cli.Result r = m.run("compare", "s1", "--repair");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.out().contains("DIFF   public.log  dst  source 50 rows, target 51 (no key"), r.toString());
        assertTrue(r.out().contains("Cannot repair public.log on dst row by row"), r.toString());
    }

    @Test
    void repairGoesThroughTheRdsShimForAPlainTargetUser() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        String user = "shim_" + target.name();
        items(source, target);
        target.exec("DELETE FROM public.items WHERE id = 9", "CREATE ROLE " + user + " LOGIN",
                "GRANT SELECT, INSERT, DELETE, TRUNCATE ON public.items TO " + user,
                dev.ibex.repository.SqlFiles.read("sql/shims/rds_session_replication_role.sql")
                        .replace(":\"grantee\"", dev.ibex.pg.Identifiers.quote(user)));
        Model m = Model.create().db("src", source).db("dst", target, user, null)
                .sync("s1", "src", List.of("dst"), "public.items:id");
        Cli.Result r = m.run("compare", "s1", "--repair");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("After repair: All 1 table comparison(s) match"), r.toString());
        assertEquals(itemsChecksum(source), itemsChecksum(target));
    }

    @Test
    void repairRefusesATargetWithoutTriggerSuppressionAndChangesNothing() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        String user = "norole_" + target.name();
        items(source, target);
        target.exec("DELETE FROM public.items WHERE id = 9", "CREATE ROLE " + user + " LOGIN",
                "GRANT SELECT, INSERT, DELETE, TRUNCATE ON public.items TO " + user);
        Model m = Model.create().db("src", source).db("dst", target, user, null)
                .sync("s1", "src", List.of("dst"), "public.items:id");
        Cli.Result r = m.run("compare", "s1", "--repair");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().startsWith("Cannot repair public.items on target db dst without trigger suppression"),
                r.toString());
        assertTrue(r.err().contains("GRANT SET ON PARAMETER session_replication_role"), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.toString());
        assertEquals(999, target.count("public.items"));
    }

    @Test
    void unknownTableOrSyncIsOneLine() {
        Model m = model(PgServers.source(), PgServers.target());
        Cli.Result r = m.run("compare", "s1", "public.nosuch");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().startsWith("No table \"public.nosuch\" in sync s1"), r.toString());
        Cli.Result s = m.run("compare", "nosync");
        assertEquals(1, s.exit(), s.toString());
        assertEquals(1, s.err().strip().lines().count(), s.toString());
    }
}
