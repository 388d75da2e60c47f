package dev.ibex.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.TestDb;
import java.util.List;

/** The checks of the configuration CLI tests: a verb that succeeds, one that fails cleanly, and the model it leaves. */
final class CliChecks {

    private static final List<String> TABLES = List.of("db", "relation", "relgroup", "relgroup_member", "dbgroup",
            "dbgroup_member", "sync", "sync_state");

    private CliChecks() {
    }

    static Cli.Result ok(Cli.Result r) {
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.err(), r.toString());
        return r;
    }

    /** Runs and returns the result, asserting success. */
    static Cli.Result ok(TestDb repo, String... args) {
        return ok(Cli.run(repo, args));
    }

    /**
     * Runs a command that must fail: exit code, one line on stderr (plus at most one indented cause
     * line) containing every expected text, no stack trace, nothing on stdout, and the repository
     * exactly as it was.
     */
    static Cli.Result fails(TestDb repo, int exit, List<String> expected, String... args) {
        String before = contents(repo);
        Cli.Result r = Cli.run(repo, args);
        assertEquals(exit, r.exit(), r.toString());
        for (String e : expected) {
            assertTrue(r.err().contains(e), "expected '" + e + "' in\n" + r);
        }
        List<String> lines = r.err().strip().lines().toList();
        assertTrue(lines.size() == 1 || lines.size() == 2 && lines.get(1).startsWith("  "), r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());
        assertFalse(r.err().contains("Exception"), r.toString());
        assertEquals("", r.out(), r.toString());
        assertEquals(before, contents(repo), "the repository changed after a failed command");
        return r;
    }

    static Cli.Result fails(TestDb repo, String expected, String... args) {
        return fails(repo, 1, List.of(expected), args);
    }

    /** Every row of the model, as text: equal before and after exactly when nothing changed. */
    static String contents(TestDb repo) {
        StringBuilder sb = new StringBuilder();
        for (String t : TABLES) {
            sb.append(t).append(":\n").append(repo.scalar("SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') "
                    + "FROM ibex." + t + " t")).append('\n');
        }
        return sb.toString();
    }

    /** ibex add db NAME with the connection words of the test database. */
    /** A repository with dbs src and dst holding AddTablesIT's shop schema, and relgroup shop on src. */
    record Shop(TestDb repo, TestDb src, TestDb dst) {
        static Shop create() {
            Shop shop = new Shop(dev.ibex.test.Model.create().repoDb(), dev.ibex.test.PgServers.source(),
                    dev.ibex.test.PgServers.target());
            shop.src.exec(AddTablesIT.SCHEMA);
            shop.dst.exec(AddTablesIT.SCHEMA);
            addDb(shop.repo, "src", shop.src);
            addDb(shop.repo, "dst", shop.dst);
            ok(shop.repo, "add", "table", "orders", "order_items", "db=src", "relgroup=shop");
            return shop;
        }
    }

    static Cli.Result addDb(TestDb repo, String name, TestDb db) {
        return ok(repo, Cli.args(new String[] {"add", "db", name}, db.dbWords()));
    }
}
