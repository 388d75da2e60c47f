package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.addDb;
import static dev.ibex.cli.CliChecks.fails;
import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** update and remove of every object, with what a sync still uses protected unless --force. */
class UpdateRemoveIT {

    TestDb repo;
    TestDb src;
    TestDb dst;

    @BeforeEach
    void setUp() {
        CliChecks.Shop shop = CliChecks.Shop.create();
        repo = shop.repo();
        src = shop.src();
        dst = shop.dst();
        ok(repo, "add", "table", "keyless", "db=src", "relgroup=loose");
        ok(repo, "add", "dbgroup", "pair", "src:source", "dst:target");
        ok(repo, "add", "sync", "s1", "relgroup=shop", "dbs=pair");
    }

    String q(String sql) {
        return repo.scalar(sql);
    }

    @Test
    void updateDbTestsTheNewConnectionAndPrintsChangesButNoPassword() {
        Cli.Result r = ok(repo, "update", "db", "dst", "pass=Hidden42", "stat=inactive");
        assertEquals("Changed db \"dst\" password\nChanged db \"dst\" status: \"active\" -> \"inactive\"\n", r.out());
        assertEquals("Hidden42|inactive", q("SELECT password || '|' || status FROM ibex.db WHERE name = 'dst'"));
        fails(repo, 3, List.of("Cannot connect to dst at 127.0.0.1:1", "--force"), "upd", "db", "dst", "host=127.0.0.1",
                "port=1");
        ok(repo, "update", "db", "dst", "host=127.0.0.1", "port=1", "--force");
        assertEquals("127.0.0.1:1", q("SELECT host || ':' || port FROM ibex.db WHERE name = 'dst'"));
        assertEquals("Nothing changed for db \"src\"\n", ok(repo, "update", "db", "src", "dbname=" + src.name()).out());
        fails(repo, "No db named \"nope\"", "update", "db", "nope", "port=5");
        fails(repo, "Unknown option 'colour'", "update", "db", "src", "colour=red");
    }

    @Test
    void updateTableRelgroupAndDbgroup() {
        Cli.Result r = ok(repo, "update", "table", "orders", "ping=false", "strict_checking=off");
        assertEquals("Changed table public.orders (DB: src): autokick=false strict_checking=false\n", r.out());
        assertEquals("f|f", q("SELECT concat_ws('|', autokick, strict_checking) FROM ibex.relation WHERE tablename = 'orders'"));
        assertEquals("Renamed relgroup \"shop\" to \"store\"\n", ok(repo, "update", "herd", "shop", "name=store").out());
        assertEquals("store", q("SELECT relgroup FROM ibex.sync WHERE name = 's1'"));
        addDb(repo, "dst2", dst);
        Cli.Result g = ok(repo, "update", "dbgroup", "pair", "dst2:slave");
        assertEquals("Added database \"dst2\" to dbgroup \"pair\" as target\n", g.out());
        ok(repo, "update", "dbgroup", "pair", "dst2:fullcopy", "name=trio");
        assertEquals("dst2:fullcopy", q("SELECT db || ':' || role FROM ibex.dbgroup_member WHERE dbgroup = 'trio' "
                + "AND db = 'dst2'"));
        fails(repo, "Dbgroup \"trio\" has several sources and a fullcopy db", "update", "dbgroup", "trio", "dst:source");
        ok(repo, "update", "dbgroup", "trio", "dst2:target");
        dst.exec("DROP TABLE orders CASCADE");
        fails(repo, "The table public.orders does not exist on db \"dst\"", "update", "dbgroup", "trio", "dst:source");
        fails(repo, "Invalid role \"chief\"", "update", "dbgroup", "trio", "dst:chief");
        fails(repo, "No table \"nosuch\" in the repository", "update", "table", "nosuch", "autokick=true");
    }

    @Test
    void updateSync() {
        Cli.Result r = ok(repo, "update", "sync", "s1", "inactive", "autokick=false", "checktime=5 minutes",
                "conflict=target");
        assertEquals("Changed sync \"s1\" autokick: true -> false\n"
                + "Changed sync \"s1\" checktime: (none) -> \"5 minutes\"\n"
                + "Set conflict strategy to 'bucardo_target' for sync \"s1\"\n"
                + "Changed sync \"s1\" status: \"active\" -> \"inactive\"\n", r.out());
        assertEquals("inactive|f|00:05:00|bucardo_target", q("SELECT concat_ws('|', status, autokick, checktime, "
                + "conflict_strategy) FROM ibex.sync"));
        ok(repo, "add", "sync", "s2", "relgroup=shop", "dbs=pair", "status=inactive");
        ok(repo, "update", "sync", "all", "active");
        assertEquals("active,active", q("SELECT string_agg(status, ',') FROM ibex.sync"));
        ok(repo, "update", "sync", "s*", "status=inactive");
        assertEquals("inactive,inactive", q("SELECT string_agg(status, ',') FROM ibex.sync"));
        assertEquals("Nothing changed for sync \"s1\"\n", ok(repo, "update", "sync", "s1", "inactive").out());
        fails(repo, "Table public.keyless has no primary key", "update", "sync", "s1", "relgroup=loose");
        ok(repo, "update", "sync", "s1", "relgroup=loose", "dbs=src:source,dst:fullcopy");
        assertEquals("loose", q("SELECT relgroup FROM ibex.sync WHERE name = 's1'"));
        fails(repo, "No sync named \"nope\"", "update", "sync", "nope", "active");
        fails(repo, "Unknown option 'bogus'", "update", "sync", "s1", "bogus=1");
    }

    @Test
    void removeRefusesWhatASyncUsesAndNamesIt() {
        fails(repo, "Cannot remove db \"dst\": sync \"s1\" uses it", "remove", "db", "dst");
        fails(repo, "Cannot remove table public.orders (DB: src): sync \"s1\" uses it", "remove", "table", "orders");
        fails(repo, "Cannot remove relgroup \"shop\": sync \"s1\" uses it", "delete", "relgroup", "shop");
        fails(repo, "Cannot remove dbgroup \"pair\": sync \"s1\" uses it", "del", "dbgroup", "pair");
        fails(repo, "No sync named \"nope\"", "remove", "sync", "nope");
        fails(repo, "No db named \"nope\"", "remove", "db", "nope");
    }

    @Test
    void removeWithForceRemovesDependents() {
        Cli.Result t = ok(repo, "remove", "table", "orders", "--force");
        assertEquals("Removed table public.orders (DB: src)\n", t.out());
        assertEquals("order_items", q("SELECT string_agg(r.tablename, ',') FROM ibex.relgroup_member m "
                + "JOIN ibex.relation r ON r.id = m.relation WHERE m.relgroup = 'shop'"));
        Cli.Result d = ok(repo, "remove", "db", "dst", "--force");
        assertEquals("Removed sync \"s1\"\n  Removed database \"dst\" from dbgroup \"pair\"\nRemoved database \"dst\"\n",
                d.out());
        assertEquals("0|1", q("SELECT (SELECT count(*) FROM ibex.sync) || '|' || (SELECT count(*) FROM ibex.db)"));
    }

    @Test
    void removeEachObject() {
        assertEquals("Removed sync \"s1\"\n", ok(repo, "remove", "sync", "s1").out());
        assertEquals("Removed relgroup \"shop\"\n", ok(repo, "remove", "herd", "shop").out());
        assertEquals("Removed dbgroup \"pair\"\n", ok(repo, "remove", "dbgroup", "pair").out());
        ok(repo, "add", "sequence", "order_seq", "db=src");
        assertEquals("Removed sequence public.order_seq (DB: src)\n", ok(repo, "remove", "sequence", "order_seq").out());
        assertEquals("Removed table public.keyless (DB: src)\n", ok(repo, "remove", "table", "keyless", "db=src").out());
        ok(repo, "remove", "db", "dst");
        assertEquals("src|order_items,orders", q("SELECT (SELECT string_agg(name, ',') FROM ibex.db) || '|' || "
                + "(SELECT string_agg(tablename, ',' ORDER BY tablename) FROM ibex.relation)"));
    }

    @Test
    void relgroupForceRemovesItsSyncs() {
        ok(repo, "add", "sync", "s2", "relgroup=shop", "dbs=pair");
        Cli.Result r = ok(repo, "remove", "relgroup", "shop", "--force");
        assertTrue(r.out().contains("Removed sync \"s1\"\nRemoved sync \"s2\"\nRemoved relgroup \"shop\""), r.toString());
        assertEquals("0", q("SELECT count(*) FROM ibex.sync"));
    }
}
