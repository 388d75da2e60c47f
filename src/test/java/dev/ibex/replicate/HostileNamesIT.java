package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.ibex.test.Cli;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Names a user may give: quotes, semicolons, backslashes, dollar quotes, spaces, mixed case and
 * reserved words in schemas, tables and columns, added through the CLI as a user would; and two
 * long names whose derived delta-table names would collide once cut to 63 bytes. Capture, copy
 * and apply must quote every one, and nothing may run as SQL that the name spells.
 */
class HostileNamesIT {

    private static final String LONG = "t".repeat(58);

    private static final String[] SCHEMA = {
        "CREATE SCHEMA \"Odd\"\"; Schema\"",
        "CREATE TABLE \"Odd\"\"; Schema\".\"we\"\"ird; DROP TABLE x; --\" "
                + "(id int PRIMARY KEY, \"va;l\" text, \"select\" text)",
        "CREATE TABLE public.\"$$dollar$$\" (\"$$k$$\" text PRIMARY KEY, \"back\\slash\" text, \"Mixed Case\" int)",
        "CREATE TABLE public.\"" + LONG + "_a\" (at timestamptz PRIMARY KEY, v text)",
        "CREATE TABLE public.\"" + LONG + "_b\" (at timestamptz PRIMARY KEY, v text)",
        "CREATE TABLE public.x (id int PRIMARY KEY)",
        "INSERT INTO public.x VALUES (1)",
    };

    private static final List<String[]> TABLES = List.of(
            new String[] {"\"Odd\"\"; Schema\".\"we\"\"ird; DROP TABLE x; --\"", "id"},
            new String[] {"public.\"$$dollar$$\"", "\"$$k$$\""},
            new String[] {"public.\"" + LONG + "_a\"", "at"},
            new String[] {"public.\"" + LONG + "_b\"", "at"});

    @Test
    void everyNameIsQuotedFromCaptureToApply() throws Exception {
        try (ReplicaSet set = ReplicaSet.create(SCHEMA); SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            TestDb repo = set.repoDb();
            Cli.Result added = Cli.run(repo, "add", "table", TABLES.get(0)[0], TABLES.get(1)[0], TABLES.get(2)[0],
                    TABLES.get(3)[0], "db=src", "relgroup=odd");
            assertEquals(0, added.exit(), added.toString());
            Cli.Result sync = Cli.run(repo, "add", "sync", "odd", "relgroup=odd", "dbs=src:source,dst:target");
            assertEquals(0, sync.exit(), sync.toString());
            List<String> deltas = src.column("SELECT tablename FROM pg_tables WHERE schemaname = 'ibex' "
                    + "AND tablename LIKE 'delta%' ORDER BY 1");
            assertEquals(2, deltas.size(), "each long table has its own delta table: " + deltas);
            assertNotEquals(deltas.get(0), deltas.get(1));

            src.exec("INSERT INTO \"Odd\"\"; Schema\".\"we\"\"ird; DROP TABLE x; --\" SELECT g, 'v;' || g, "
                            + "'$$' || g || E'\\\\' FROM generate_series(1, 50) g",
                    "INSERT INTO public.\"$$dollar$$\" SELECT 'k''' || g || '$$', E'b\\\\' || g, g FROM generate_series(1, 50) g",
                    "INSERT INTO public.\"" + LONG + "_a\" SELECT timestamptz '2026-01-01' + g * interval '1 min', 'a' "
                            + "FROM generate_series(1, 30) g",
                    "INSERT INTO public.\"" + LONG + "_b\" SELECT timestamptz '2026-01-01' + g * interval '1 min', 'b' "
                            + "FROM generate_series(1, 40) g");
            assertEquals("good", runner.runOnce("odd").state());
            src.exec("UPDATE \"Odd\"\"; Schema\".\"we\"\"ird; DROP TABLE x; --\" SET id = id + 100 WHERE id % 3 = 0",
                    "DELETE FROM public.\"$$dollar$$\" WHERE \"Mixed Case\" % 4 = 0",
                    "UPDATE public.\"$$dollar$$\" SET \"$$k$$\" = \"$$k$$\" || ';--' WHERE \"Mixed Case\" % 5 = 0",
                    "DELETE FROM public.\"" + LONG + "_a\" WHERE extract(minute FROM at)::int % 2 = 0",
                    "UPDATE public.\"" + LONG + "_b\" SET v = 'changed' WHERE extract(minute FROM at)::int % 3 = 0");
            SyncRunner.Result r = runner.runOnce("odd");
            assertEquals("good", r.state(), r.toString());
            for (String[] t : TABLES) {
                assertSameRows(src, dst, t[0], t[1]);
            }
            assertEquals(1, src.count("public.x"), "nothing a name spells ran as SQL on the source");
            assertEquals(1, dst.count("public.x"), "nothing a name spells ran as SQL on the target");
        }
    }
}
