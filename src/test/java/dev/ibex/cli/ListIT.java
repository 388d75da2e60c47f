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

/** list in Bucardo's layout. */
class ListIT {

    TestDb repo;
    TestDb src;
    TestDb dst;
    String srcConn;
    String dstConn;

    @BeforeEach
    void setUp() {
        repo = Model.create().repoDb();
        src = PgServers.source();
        dst = PgServers.target();
        src.exec(AddTablesIT.SCHEMA);
        dst.exec(AddTablesIT.SCHEMA);
        ok(repo, "add", "db", "src", "dbname=" + src.name(), "host=" + src.host(), "port=" + src.port(),
                "user=" + src.user(), "conn=sslmode=disable");
        addDb(repo, "target", dst);
        srcConn = "psql -p " + src.port() + " -U postgres -d " + src.name() + " -h localhost  (sslmode=disable)";
        dstConn = "psql -p " + dst.port() + " -U postgres -d " + dst.name() + " -h localhost";
    }

    void configure() {
        ok(repo, "add", "table", "orders", "order_items", "db=src", "relgroup=shop");
        ok(repo, "add", "table", "keyless", "crm.customer", "db=src");
        ok(repo, "add", "sequence", "order_seq", "db=src");
        ok(repo, "add", "dbgroup", "pair", "src:source", "target:target");
        ok(repo, "add", "sync", "s1", "relgroup=shop", "dbs=pair");
        ok(repo, "add", "relgroup", "empty");
    }

    @Test
    void listDbs() {
        assertEquals("Database: src     Status: active  Conn: " + srcConn + "\n"
                + "Database: target  Status: active  Conn: " + dstConn + "\n", ok(repo, "list", "dbs").out());
        ok(repo, "update", "db", "target", "status=inactive");
        assertEquals("Database: target  Status: inactive  Conn: " + dstConn + "\n", ok(repo, "l", "database", "t*").out());
        assertEquals("No databases found matching \"nope\"\n", ok(repo, "list", "db", "nope").out());
    }

    @Test
    void listEverythingElse() {
        configure();
        assertEquals("1. Table: crm.customer        DB: src  PK: code (character varying(12))\n"
                + "2. Table: public.keyless      DB: src  PK: none\n"
                + "3. Table: public.order_items  DB: src  PK: order_id|line (integer|integer)  Relgroups: shop\n"
                + "4. Table: public.orders       DB: src  PK: id (integer)  Relgroups: shop\n",
                ok(repo, "list", "tables").out());
        assertEquals("1. Table: public.orders  DB: src  PK: id (integer)  Relgroups: shop\n",
                ok(repo, "list", "table", "orders").out());
        assertEquals("1. Sequence: public.order_seq  DB: src\n", ok(repo, "list", "sequences").out());
        assertEquals("Relgroup: empty  Members: none\n"
                + "Relgroup: shop  DB: src  Members: public.orders, public.order_items\n  Used in syncs: s1\n",
                ok(repo, "list", "herds").out());
        assertEquals("Dbgroup: pair  Members: src:source target:target\n  Used in syncs: s1\n",
                ok(repo, "list", "dbgroups").out());
        assertEquals("Sync \"s1\"  Relgroup \"shop\"  DB group \"pair\" src:source target:target  [Active]\n",
                ok(repo, "list", "syncs").out());
        Cli.Result all = ok(repo, "lsit", "all");
        assertTrue(all.out().startsWith("-- databases:\nDatabase: src "), all.toString());
        for (String section : new String[] {"-- dbgroups:\nDbgroup: pair", "-- tables:\n1. Table: crm.customer",
            "-- sequences:\n1. Sequence", "-- relgroups:\nRelgroup: empty", "-- syncs:\nSync \"s1\""}) {
            assertTrue(all.out().contains(section), section + " in\n" + all);
        }
    }

    @Test
    void emptyRepositoryAndBadNoun() {
        ok(repo, "remove", "db", "src", "target");
        assertEquals("No syncs found\n", ok(repo, "list", "syncs").out());
        assertTrue(ok(repo, "list", "all").out().contains("-- tables:\nNo tables found\n"));
        fails(repo, "Unknown object \"widgets\" for 'ibex list'", "list", "widgets");
        fails(repo, "List what?", "list");
    }
}
