package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.fails;
import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** add sync in Bucardo 5's and Bucardo 4's words, with the checks that run before it is saved. */
class AddSyncIT {

    TestDb repo;
    TestDb src;
    TestDb dst;

    @BeforeEach
    void setUp() {
        CliChecks.Shop shop = CliChecks.Shop.create();
        repo = shop.repo();
        src = shop.src();
        dst = shop.dst();
    }

    String members(String dbgroup) {
        return repo.scalar("SELECT string_agg(db || ':' || role, ',' ORDER BY role, db) FROM ibex.dbgroup_member "
                + "WHERE dbgroup = '" + dbgroup + "'");
    }

    String sync(String name, String columns) {
        return repo.scalar("SELECT concat_ws('|', " + columns + ") FROM ibex.sync WHERE name = '" + name + "'");
    }

    @Test
    void syncOverARelgroupAndADbList() {
        Cli.Result r = ok(repo, "add", "sync", "s1", "relgroup=shop", "dbs=src:source,dst:target");
        assertEquals("Created a new dbgroup named \"s1\"\n  Added database \"src\" to dbgroup \"s1\" as source\n"
                + "  Added database \"dst\" to dbgroup \"s1\" as target\nAdded sync \"s1\"\n", r.out());
        assertEquals("shop|s1|active|t", sync("s1", "relgroup, dbgroup, status, autokick"));
        Cli.Result same = ok(repo, "add", "sync", "s2", "herd=shop", "dbs=src,dst");
        assertTrue(same.out().startsWith("Using existing dbgroup \"s1\"\n"), same.toString());
        ok(repo, "add", "dbgroup", "pair", "src:source", "dst:replica");
        ok(repo, "add", "sync", "s3", "relgroup:shop", "dbgroup=pair");
        assertEquals("shop|pair", sync("s3", "relgroup, dbgroup"));
        ok(repo, "add", "sync", "s4", "relgroup=shop", "db=pair");
        assertEquals("4", repo.scalar("SELECT count(*) FROM ibex.sync"));
    }

    @Test
    void aTableWithoutColumnsIsRefusedUpFront() {
        src.exec("CREATE TABLE public.zc ()", "INSERT INTO public.zc DEFAULT VALUES");
        dst.exec("CREATE TABLE public.zc ()");
        fails(repo, "Table public.zc on db \"src\" has no column that can be copied, so ibex cannot replicate it",
                "add", "sync", "z", "dbs=src:source,dst:fullcopy", "tables=public.zc");
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.sync"));
    }

    @Test
    void tablesMakeARelgroupNamedAfterTheSyncOrReuseAnIdenticalOne() {
        Cli.Result r = ok(repo, "add", "sync", "t1", "dbs=src:source,dst:target", "tables=public.orders,\"Line Items\"");
        assertTrue(r.out().contains("Created a new relgroup named \"t1\""), r.toString());
        assertEquals("Line Items,orders", repo.scalar("SELECT string_agg(r.tablename, ',' ORDER BY r.tablename COLLATE \"C\") "
                + "FROM ibex.relation r JOIN ibex.relgroup_member m ON m.relation = r.id WHERE m.relgroup = 't1'"));
        Cli.Result again = ok(repo, "add", "sync", "t2", "dbs=src:source,dst:target", "tables=orders,order_items");
        assertTrue(again.out().contains("Using existing relgroup \"shop\""), again.toString());
        assertEquals("shop", sync("t2", "relgroup"));
    }

    @Test
    void everyOptionWithItsAliases() {
        ok(repo, "add", "sync", "o", "relgroup=shop", "dbs=src:source,dst:target", "ping=off", "checktime=30s",
                "onetimecopy=2", "stat=inactive", "stayalive=no", "kidsalive=0", "conflict=source", "lifetime=1 hour",
                "maxkicks=5", "txnmode=repeatable_read", "rebuildindex=yes", "analyze_after_copy=f",
                "strict_checking=true", "priority=3");
        assertEquals("f|00:00:30|2|inactive|f|f|bucardo_source|01:00:00|5|repeatable read|1|f|t|3", sync("o",
                "autokick, checktime, onetimecopy, status, stayalive, kidsalive, conflict_strategy, lifetime, maxkicks, "
                        + "isolation_level, rebuild_index, analyze_after_copy, strict_checking, priority"));
        ok(repo, "add", "sync", "p", "relgroup=shop", "dbs=src:source,dst:target", "standard_conflict=default",
                "isolation_level=serializable", "checktime=5 minutes", "autokick=t");
        assertEquals("t|00:05:00|bucardo_latest|serializable", sync("p", "autokick, checktime, conflict_strategy, "
                + "isolation_level"));
    }

    @Test
    void bucardo4Pushdelta() {
        Cli.Result r = ok(repo, "add", "sync", "legacy", "type=pushdelta", "source=shop", "targetdb=dst", "ping=false");
        assertTrue(r.out().endsWith("Added sync \"legacy\"\n"), r.toString());
        assertEquals("shop|f", sync("legacy", "relgroup, autokick"));
        assertEquals("src:source,dst:target", members(repo.scalar("SELECT dbgroup FROM ibex.sync WHERE name = 'legacy'")));
    }

    @Test
    void bucardo4FullcopyWithTablesAndSwapWithTargetgroup() {
        ok(repo, "add", "sync", "copy", "type=fullcopy", "source=src", "targetdb=dst", "tables=keyless");
        assertEquals("copy|f|f", sync("copy", "relgroup, stayalive, kidsalive"));
        assertEquals("dst:fullcopy,src:source", members("copy"));
        ok(repo, "add", "dbgroup", "others", "dst:target");
        Cli.Result swap = ok(repo, "add", "sync", "both", "synctype=swap", "source=shop", "targetgroup=others");
        assertTrue(swap.out().endsWith("Added sync \"both\"\n"), swap.toString());
        assertFalse(ok(repo, "add", "sync", "one", "relgroup=shop", "dbs=src,dst").out().contains("Note:"));
        assertEquals("dst:source,src:source", members(repo.scalar("SELECT dbgroup FROM ibex.sync WHERE name = 'both'")));
    }

    @Test
    void severalSourcesAreCheckedBeforeAnythingIsSaved() {
        dst.exec("ALTER TABLE order_items DROP CONSTRAINT order_items_pkey",
                "ALTER TABLE order_items ADD PRIMARY KEY (order_id, line, qty)");
        fails(repo, "Table public.order_items has key (order_id, line) on source db \"src\" but (order_id, line, qty) "
                + "on source db \"dst\": sources of one sync must have the same primary key", "add", "sync", "both",
                "relgroup=shop", "dbs=src:source,dst:source");
        assertEquals("0", dst.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"), "no capture on dst");
        CliChecks.addDb(repo, "third", dev.ibex.test.PgServers.target());
        fails(repo, "has several sources and a fullcopy db", "add", "sync", "mixed", "relgroup=shop",
                "dbs=src:source,dst:source,third:fullcopy");
        fails(repo, "Invalid conflict_strategy=newest: use source, target, skip, random, latest, latest_all_tables or "
                + "abort, or db names in order of preference", "add", "sync", "both", "relgroup=shop",
                "dbs=src:source,third:source", "conflict_strategy=newest");
    }

    /** Runs in the legacy CI loop that takes 9.3.5 for 8.4; a real 9.3 is written to. */
    @Test
    void aSourceTooOldToBeWrittenToCannotBeOneOfSeveral() {
        TestDb old = dev.ibex.test.PgServers.database("9.3.5");
        org.junit.jupiter.api.Assumptions.assumeTrue(
                old.version().compareTo(dev.ibex.pg.ServerVersion.OLDEST_TARGET) < 0, "a server too old to be written to");
        old.exec(AddTablesIT.SCHEMA);
        CliChecks.addDb(repo, "old", old);
        fails(repo, "Db \"old\" runs PostgreSQL 8.4, and ibex writes to dbs from PostgreSQL 9.3 on (with several "
                + "sources, each source is written to as well): upgrade it, or keep it the only source", "add", "sync",
                "both", "relgroup=shop", "dbs=src:source,old:source");
        assertEquals("0", old.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"), "no capture on old");
    }

    @Test
    void bucardo4Mistakes() {
        fails(repo, "Need to specify the type of sync: pushdelta, fullcopy, or swap", "add", "sync", "x", "source=shop",
                "targetdb=dst");
        fails(repo, "Need to specify a source for this sync", "add", "sync", "x", "type=pushdelta", "targetdb=dst");
        fails(repo, "Need to specify a targetdb or a targetgroup for this sync", "add", "sync", "x", "type=pushdelta",
                "source=shop");
        fails(repo, "Invalid type=push", "add", "sync", "x", "type=push", "source=shop", "targetdb=dst");
        fails(repo, "No relgroup named \"nope\"", "add", "sync", "x", "type=pushdelta", "source=nope", "targetdb=dst");
    }

    @Test
    void keylessTableCannotGoToATargetButCanBeCopiedWhole() {
        ok(repo, "add", "table", "keyless", "db=src", "relgroup=loose");
        Cli.Result r = fails(repo, "Table public.keyless has no primary key or unique index", "add", "sync", "k",
                "relgroup=loose", "dbs=src:source,dst:target");
        assertTrue(r.err().contains("add a primary key"), r.toString());
        assertTrue(r.err().contains("dbs=src:source,dst:fullcopy"), r.toString());
        ok(repo, "add", "sync", "k", "relgroup=loose", "dbs=src:source,dst:fullcopy");
    }

    @Test
    void tablesMustExistWithMatchingColumnsOnEveryDb() {
        dst.exec("DROP TABLE order_items");
        fails(repo, "The table public.order_items does not exist on db \"dst\"", "add", "sync", "x", "relgroup=shop",
                "dbs=src:source,dst:target");
        dst.exec("CREATE TABLE public.order_items (order_id int NOT NULL, line int NOT NULL, PRIMARY KEY (order_id, line))");
        fails(repo, "Table public.order_items on db \"dst\" has no column \"qty\"", "add", "sync", "x",
                "relgroup=shop", "dbs=src:source,dst:target");
        dst.exec("ALTER TABLE order_items ADD COLUMN qty bigint");
        fails(repo, "Column \"qty\" of public.order_items is integer on db \"src\" but bigint on db \"dst\"", "add", "sync",
                "x", "relgroup=shop", "dbs=src:source,dst:target");
        ok(repo, "add", "sync", "x", "relgroup=shop", "dbs=src:source,dst:target", "strict_checking=false");
        dst.exec("ALTER TABLE orders ADD COLUMN extra text");
        fails(repo, "Table public.orders on db \"dst\" has column \"extra\" that db \"src\" lacks", "add", "sync", "y",
                "relgroup=shop", "dbs=src:source,dst:target");
    }

    @Test
    void badInput() {
        ok(repo, "add", "sync", "s", "relgroup=shop", "dbs=src:source,dst:target");
        fails(repo, "Cannot add sync: the name \"s\" already exists", "add", "sync", "s", "relgroup=shop",
                "dbs=src:source,dst:target");
        fails(repo, "Unknown option 'foo'", "add", "sync", "x", "relgroup=shop", "dbs=src,dst", "foo=bar");
        fails(repo, "No relgroup named \"nope\"", "add", "sync", "x", "relgroup=nope", "dbs=src,dst");
        fails(repo, "No dbgroup or db named \"nogroup\"", "add", "sync", "x", "relgroup=shop", "dbs=nogroup");
        fails(repo, "No db named \"ghost\"", "add", "sync", "x", "relgroup=shop", "dbs=src,ghost");
        fails(repo, "Invalid role \"boss\"", "add", "sync", "x", "relgroup=shop", "dbs=src:source,dst:boss");
        fails(repo, "need relgroup=NAME or tables=T1,T2", "add", "sync", "x", "dbs=src,dst");
        fails(repo, "need dbs=A:source,B:target", "add", "sync", "x", "relgroup=shop");
        fails(repo, "Invalid onetimecopy=3", "add", "sync", "x", "relgroup=shop", "dbs=src,dst", "onetimecopy=3");
        fails(repo, "Invalid checktime=soon", "add", "sync", "x", "relgroup=shop", "dbs=src,dst", "checktime=soon");
        fails(repo, "Invalid isolation_level=dirty", "add", "sync", "x", "relgroup=shop", "dbs=src,dst",
                "isolation_level=dirty");
        fails(repo, "Invalid sync name \"swap\"", "add", "sync", "swap", "relgroup=shop", "dbs=src,dst");
        fails(repo, "is not a source in dbgroup", "add", "sync", "x", "relgroup=shop", "dbs=dst:source,src:target");
        fails(repo, "names only one db", "add", "sync", "x", "relgroup=shop", "dbs=src");
        fails(repo, "No table or sequence \"nope\" in db \"src\"", "add", "sync", "x", "dbs=src,dst", "tables=orders,nope");
    }

    @Test
    void unreachableTargetIsNamedAndNothingIsSaved() {
        ok(repo, "add", "db", "gone", "dbname=x", "host=127.0.0.1", "port=1", "user=postgres", "--force");
        fails(repo, 3, java.util.List.of("Cannot connect to gone at 127.0.0.1:1"), "add", "sync", "x", "relgroup=shop",
                "dbs=src:source,gone:target");
    }
}
