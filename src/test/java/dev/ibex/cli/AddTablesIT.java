package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.addDb;
import static dev.ibex.cli.CliChecks.fails;
import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** add table / sequence / all, relgroups and dbgroups, against a real catalog. */
class AddTablesIT {

    static final String[] SCHEMA = {
        "CREATE SCHEMA crm",
        "CREATE TABLE public.orders (id int PRIMARY KEY, note text)",
        "CREATE TABLE public.order_items (order_id int NOT NULL, line int NOT NULL, qty int, PRIMARY KEY (order_id, line))",
        "CREATE TABLE public.\"Line Items\" (id bigint PRIMARY KEY, \"Qty\" int)",
        "CREATE TABLE crm.customer (email text NOT NULL, code varchar(12) NOT NULL, name text, id2 int NOT NULL)",
        "CREATE UNIQUE INDEX customer_email_code ON crm.customer (email, code)",
        "CREATE UNIQUE INDEX customer_email ON crm.customer (email)",
        "CREATE UNIQUE INDEX customer_code ON crm.customer (code)",
        "CREATE UNIQUE INDEX customer_lower ON crm.customer (lower(name))",
        "CREATE UNIQUE INDEX customer_partial ON crm.customer (id2) WHERE id2 > 0",
        "CREATE TABLE public.keyless (a int, b text)",
        "CREATE TABLE public.nullable_unique (a int UNIQUE, b text)",
        "CREATE SEQUENCE public.order_seq",
        "CREATE SEQUENCE crm.cust_seq",
    };

    TestDb repo;
    TestDb src;

    @BeforeEach
    void setUp() {
        repo = Model.create().repoDb();
        src = PgServers.source();
        src.exec(SCHEMA);
        addDb(repo, "src", src);
    }

    String keys(String table) {
        return repo.scalar("SELECT array_to_string(keycols, ',') || ' ' || array_to_string(keytypes, ',') "
                + "FROM ibex.relation WHERE schemaname || '.' || tablename = '" + table + "'");
    }

    @Test
    void recordsKeysPrimaryElseNarrowestNewestUsableUniqueIndex() {
        Cli.Result r = ok(repo, "add", "table", "orders", "public.order_items", "\"Line Items\"", "crm.customer",
                "keyless", "nullable_unique", "db=src");
        assertTrue(r.out().startsWith("Added the following tables or sequences:\n  public.orders (DB: src)  key: id\n"),
                r.toString());
        assertTrue(r.out().contains("public.keyless (DB: src)  no primary key or unique index"), r.toString());
        assertEquals("id integer", keys("public.orders"));
        assertEquals("order_id,line integer,integer", keys("public.order_items"));
        assertEquals("id bigint", keys("public.Line Items"));
        assertEquals("code character varying(12)", keys("crm.customer"));
        assertEquals(" ", keys("public.keyless"));
        assertEquals(" ", keys("public.nullable_unique"));
        assertEquals("6", repo.scalar("SELECT count(*) FROM ibex.relation WHERE reltype = 'table' AND db = 'src'"));
    }

    @Test
    void wildcardsQuotedNamesAndDbMayBeOmittedWithOneDb() {
        ok(repo, "add", "tables", "order%", "crm.*");
        assertEquals("crm.customer,public.order_items,public.orders", repo.scalar(
                "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY schemaname, tablename) FROM ibex.relation"));
        Cli.Result again = ok(repo, "add", "table", "orders", "public.orders");
        assertTrue(again.out().contains("Already added:\n  public.orders (DB: src)"), again.toString());
        ok(repo, "add", "table", "public.\"Line Items\"");
        assertEquals("1", repo.scalar("SELECT count(*) FROM ibex.relation WHERE tablename = 'Line Items'"));
    }

    @Test
    void unqualifiedNamesFollowTheSearchPath() {
        src.exec("CREATE SCHEMA app", "CREATE TABLE app.widget (id int PRIMARY KEY)",
                "ALTER DATABASE " + src.name() + " SET search_path = app, public");
        ok(repo, "add", "table", "widget", "db=src");
        assertEquals("app", repo.scalar("SELECT schemaname FROM ibex.relation WHERE tablename = 'widget'"));
    }

    @Test
    void sequencesAndAddAllWithFilters() {
        ok(repo, "add", "sequence", "order_seq", "db=src", "relgroup=seqs");
        assertEquals("sequence", repo.scalar("SELECT reltype FROM ibex.relation WHERE tablename = 'order_seq'"));
        src.exec("CREATE SCHEMA ibex", "CREATE TABLE ibex.delta_orders (id int)");
        Cli.Result r = ok(repo, "add", "all", "tables", "db=src", "-N", "crm", "-T", "keyless,nullable_unique",
                "herd=everything");
        assertTrue(r.out().contains("Created the relgroup named \"everything\""), r.toString());
        assertEquals("Line Items,order_items,orders", repo.scalar("SELECT string_agg(r.tablename, ',' ORDER BY r.tablename COLLATE \"C\") "
                + "FROM ibex.relation r JOIN ibex.relgroup_member m ON m.relation = r.id WHERE m.relgroup = 'everything'"));
        ok(repo, "add", "all", "sequences", "-n", "crm");
        assertEquals("crm.cust_seq,public.order_seq", repo.scalar("SELECT string_agg(schemaname || '.' || tablename, ',' "
                + "ORDER BY schemaname, tablename) FROM ibex.relation WHERE reltype = 'sequence'"));
        ok(repo, "add", "all", "tables", "-t", "crm.*");
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.relation WHERE schemaname IN ('ibex', 'pg_catalog', "
                + "'information_schema')"));
        fails(repo, "No table \"ibex.delta_orders\" in db \"src\"", "add", "table", "ibex.delta_orders");
    }

    @Test
    void addAllKeyedOnlySaysWhatItLeavesOutAndAddSyncNamesEveryKeylessTable() {
        src.exec("CREATE TABLE public.keyless2 (a int)", "CREATE TABLE public.keyless3 (a int)",
                "CREATE MATERIALIZED VIEW public.order_totals AS SELECT count(*) AS n FROM public.orders");
        boolean partitions = src.version().atLeast(100000);
        if (partitions) {
            src.exec("CREATE TABLE public.events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at)",
                    "CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
                    "ALTER TABLE public.events_2026 ADD PRIMARY KEY (id)");
        }
        Cli.Result r = ok(repo, "add", "all", "tables", "db=src", "-N", "crm", "--keyed-only", "relgroup=keyed");
        assertTrue(r.out().contains("Left out 4 table(s) without a primary key or unique index (public.keyless, "
                + "public.keyless2, public.keyless3, public.nullable_unique): feed them through a fullcopy sync"), r.toString());
        assertTrue(r.out().contains("Not added: 1 materialized view(s) (public.order_totals)"), r.toString());
        assertEquals(partitions, r.out().contains("Not added: 1 partitioned table(s) (public.events)"), r.toString());
        assertEquals(partitions ? "Line Items,events_2026,order_items,orders" : "Line Items,order_items,orders",
                repo.scalar("SELECT string_agg(r.tablename, ',' ORDER BY r.tablename COLLATE \"C\") FROM ibex.relation r "
                        + "JOIN ibex.relgroup_member m ON m.relation = r.id WHERE m.relgroup = 'keyed'"));
        // by name they were "No table ..., create it there first", though they exist
        fails(repo, "public.order_totals in db \"src\" is a materialized view, which ibex does not replicate: "
                + "refresh it on the target instead", "add", "table", "order_totals", "db=src");
        if (partitions) {
            fails(repo, "Table public.events in db \"src\" is partitioned and holds no rows itself: add its "
                    + "partitions instead (psql's \\d+ public.events lists them)", "add", "table", "public.events", "db=src");
        }

        TestDb dst = PgServers.target();
        dst.exec("CREATE TABLE public.keyless (a int, b text)", "CREATE TABLE public.keyless2 (a int)",
                "CREATE TABLE public.keyless3 (a int)");
        addDb(repo, "dst", dst);
        ok(repo, "add", "tables", "keyless", "keyless2", "keyless3", "db=src", "relgroup=loose");
        fails(repo, "3 tables have no primary key or unique index (public.keyless, public.keyless2, public.keyless3), "
                + "so sync \"loose\" cannot send their changes to db \"dst\" (target)",
                "add", "sync", "loose", "relgroup=loose", "dbs=src:source,dst:target");
        assertEquals("0", repo.scalar("SELECT count(*) FROM ibex.sync"));
    }

    @Test
    void missingTableUnknownDbAndAmbiguousDbLeaveTheRepositoryAsItWas() {
        ok(repo, "add", "table", "orders");
        fails(repo, "No table \"customer\", \"nosuch\", \"crm.nope%\" in db \"src\"", "add", "table", "customer", "crm.customer", "nosuch",
                "crm.nope%", "db=src", "relgroup=x");
        fails(repo, "No db named \"nodb\"", "add", "table", "orders", "db=nodb");
        addDb(repo, "other", src);
        fails(repo, "needs db=NAME when there are several (other, src)", "add", "table", "orders");
        fails(repo, "Unknown option 'colour'", "add", "table", "orders", "db=src", "colour=blue");
        fails(repo, "Invalid autokick=maybe", "add", "table", "order_items", "db=src", "autokick=maybe");
    }

    @Test
    void relationOptionsAreStored() {
        ok(repo, "add", "table", "orders", "db:src", "ping=false", "rebuildindex=yes", "analyze_after_copy=off",
                "strict_checking=0");
        assertEquals("f|1|f|f", repo.scalar("SELECT concat_ws('|', autokick, rebuild_index, analyze_after_copy, "
                + "strict_checking) FROM ibex.relation"));
    }

    @Test
    void relgroupsAndHerds() {
        Cli.Result r = ok(repo, "add", "relgroup", "shop", "orders", "order_items");
        assertTrue(r.out().startsWith("Created relgroup \"shop\"\n"), r.toString());
        assertTrue(r.out().contains("The following tables or sequences are now part of the relgroup \"shop\":\n"
                + "  public.orders\n  public.order_items\n"), r.toString());
        ok(repo, "add", "herd", "empty");
        ok(repo, "add", "table", "keyless", "herd=shop");
        assertEquals("3", repo.scalar("SELECT count(*) FROM ibex.relgroup_member WHERE relgroup = 'shop'"));
        fails(repo, "Relgroup \"empty\" already exists", "add", "relgroup", "empty");
        TestDb other = PgServers.source();
        other.exec(SCHEMA);
        addDb(repo, "other", other);
        fails(repo, "would hold tables of several dbs", "add", "table", "orders", "db=other", "relgroup=shop");
    }

    @Test
    void dbgroupsWithRolesAndAliases() {
        addDb(repo, "a", src);
        addDb(repo, "b", src);
        Cli.Result r = ok(repo, "add", "dbgroup", "g", "src:master", "a:slave", "b:fullcopy");
        assertEquals("Created dbgroup \"g\"\nAdded database \"src\" to dbgroup \"g\" as source\n"
                + "Added database \"a\" to dbgroup \"g\" as target\nAdded database \"b\" to dbgroup \"g\" as fullcopy\n",
                r.out());
        ok(repo, "add", "dbg", "h", "src", "a");
        assertEquals("a:target,src:source", repo.scalar("SELECT string_agg(db || ':' || role, ',' ORDER BY db) "
                + "FROM ibex.dbgroup_member WHERE dbgroup = 'h'"));
        fails(repo, "Cannot add dbgroup: the name \"g\" already exists", "add", "dbgroup", "g", "a:source");
        fails(repo, "Invalid role \"boss\"", "add", "dbgroup", "k", "src:source", "a:boss");
        fails(repo, "No db named \"zz\"", "add", "dbgroup", "k", "src:source", "zz:target");
        fails(repo, "Unknown option 'x'", "add", "dbgroup", "k", "x=y");
    }

    @Test
    void addWithoutObjectOrWithUnknownOneExplains() {
        fails(repo, "Missing object for 'ibex add'", "add");
        fails(repo, "Add all what?", "add", "all", "dbs");
        fails(repo, "Which table? Name at least one", Cli.args(new String[] {"add", "table", "db=src"}));
    }
}
