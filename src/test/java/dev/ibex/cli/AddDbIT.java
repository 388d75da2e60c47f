package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.fails;
import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.IbexException;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AddDbIT {

    TestDb repo;
    TestDb src;

    @BeforeEach
    void setUp() {
        repo = Model.create().repoDb();
        src = PgServers.source();
    }

    @Test
    void addDbStoresWhatWasGivenAndSaysSo() {
        Cli.Result r = ok(repo, "add", "db", "src", "dbname=" + src.name(), "host=" + src.host(),
                "port=" + src.port(), "user=" + src.user(), "conn=sslmode=disable");
        assertEquals("Added database \"src\"\n", r.out());
        assertEquals("src|" + src.name() + "|" + src.host() + "|" + src.port() + "|postgres||sslmode=disable||active",
                repo.scalar("SELECT concat_ws('|', name, dbname, host, port, username, coalesce(password, ''), conn, "
                        + "coalesce(service, ''), status) FROM ibex.db"));
    }

    @Test
    void aliasesAndKeyColonValue() {
        ok(repo, "add", "database", "a", "db:" + src.name(), "dbhost=" + src.host(), "pgport:" + src.port(),
                "dbuser=" + src.user(), "stat=inactive");
        ok(repo, "add", "db", "b", "dbname=" + src.name(), "pghost=" + src.host(), "dbport=" + src.port(),
                "username=" + src.user(), "dbconn=sslmode=disable");
        assertEquals("a:inactive,b:active", repo.scalar("SELECT string_agg(name || ':' || status, ',' ORDER BY name) "
                + "FROM ibex.db"));
        assertEquals(src.name(), repo.scalar("SELECT dbname FROM ibex.db WHERE name = 'a'"));
        assertEquals("sslmode=disable", repo.scalar("SELECT conn FROM ibex.db WHERE name = 'b'"));
        // add_db is Bucardo's spelling of add db; the launcher rewrites it
        assertEquals(0, dev.ibex.cli.IbexCommand.run(Cli.args(new String[] {"add_db", "c", "dbname=" + src.name(),
            "host=" + src.host(), "port=" + src.port(), "user=" + src.user(), "--quiet"}, repo.repositoryOptions())));
        assertEquals("3", repo.scalar("SELECT count(*) FROM ibex.db"));
    }

    @Test
    void bucardo4FormTakesTheDatabaseNameFirst() {
        Cli.Result r = ok(repo, "add", "db", src.name(), "name=legacy", "host=" + src.host(), "port=" + src.port(),
                "user=" + src.user());
        assertEquals("Added database \"legacy\"\n", r.out());
        assertEquals(src.name(), repo.scalar("SELECT dbname FROM ibex.db WHERE name = 'legacy'"));
    }

    @Test
    void groupCreatesTheDbgroupWithTheRole() {
        Cli.Result r = ok(repo, Cli.args(new String[] {"add", "db", "a", "group=g1:source"}, src.dbWords()));
        assertTrue(r.out().contains("Created dbgroup \"g1\""), r.toString());
        assertTrue(r.out().contains("Added database \"a\" to dbgroup \"g1\" as source"), r.toString());
        ok(repo, Cli.args(new String[] {"add", "db", "b", "dbgroup=g1"}, src.dbWords()));
        assertEquals("a:source,b:target", repo.scalar("SELECT string_agg(db || ':' || role, ',' ORDER BY db) "
                + "FROM ibex.dbgroup_member WHERE dbgroup = 'g1'"));
    }

    @Test
    void environmentFillsWhatIsMissingAndIsNotStored() {
        Cli.Result r = Cli.process(Map.of("IBEX_DB_HOST", repo.host(), "IBEX_DB_PORT", Integer.toString(repo.port()),
                "IBEX_DB_NAME", repo.name(), "PGUSER", src.user(), "PGHOST", src.host(),
                "PGPORT", Integer.toString(src.port())), "add", "db", "envdb", "dbname=" + src.name());
        assertEquals(0, r.exit(), r.toString());
        assertEquals("Added database \"envdb\"\n", r.out());
        assertNull(repo.scalar("SELECT coalesce(host, port::text, username, password) FROM ibex.db"));
    }

    @Test
    void duplicateNameIsRefused() {
        CliChecks.addDb(repo, "src", src);
        fails(repo, "Cannot add database: the name \"src\" already exists", Cli.args(new String[] {"add", "db", "src"},
                src.dbWords()));
    }

    @Test
    void unknownKeyIsNamed() {
        Cli.Result r = fails(repo, "Unknown option 'colour'", Cli.args(new String[] {"add", "db", "x", "colour=red"},
                src.dbWords()));
        assertTrue(r.err().contains("dbname, host, port"), r.toString());
    }

    @Test
    void unknownOptionAndVerbAreNamed() {
        fails(repo, "Unknown option: '--frobnicate'", Cli.args(new String[] {"add", "db", "x", "--frobnicate"},
                src.dbWords()));
        fails(repo, "Unknown verb \"frob\": see 'ibex --help'", "frob", "db");
        fails(repo, "Unknown object \"gizmo\"", "add", "gizmo", "x");
    }

    @Test
    void unreachablePortNamesHostAndPortAndSavesNothing() {
        Cli.Result r = fails(repo, IbexException.DATABASE, List.of("127.0.0.1:1", "connection refused", "--force"),
                "add", "db", "x", "dbname=x", "host=127.0.0.1", "port=1", "user=postgres");
        assertFalse(r.err().contains("Exception"), r.toString());
        Cli.Result forced = ok(repo, "add", "db", "x", "dbname=x", "host=127.0.0.1", "port=1", "user=postgres", "--force");
        assertTrue(forced.out().contains("Warning: Cannot connect to x at 127.0.0.1:1"), forced.toString());
        assertTrue(forced.out().contains("Added database \"x\""), forced.toString());
    }

    @Test
    void unknownHostIsNamed() {
        fails(repo, IbexException.DATABASE, List.of("unknown host \"no-such-host.invalid\""), "add", "db", "x",
                "dbname=x", "host=no-such-host.invalid", "user=postgres");
    }

    @Test
    void missingDatabaseIsNamed() {
        fails(repo, IbexException.DATABASE, List.of("database \"nosuchdb\" does not exist"), "add", "db", "x",
                "dbname=nosuchdb", "host=" + src.host(), "port=" + src.port(), "user=" + src.user());
    }

    @Test
    void missingDbnameAndBadValues() {
        fails(repo, "must supply a database name", "add", "db", "x", "host=" + src.host());
        fails(repo, "Invalid port=abc", Cli.args(new String[] {"add", "db", "x"}, "dbname=a", "port=abc"));
        fails(repo, "Invalid status=maybe", Cli.args(new String[] {"add", "db", "x", "status=maybe"}, src.dbWords()));
        fails(repo, "Invalid db name \"a b\"", Cli.args(new String[] {"add", "db", "a b"}, src.dbWords()));
        fails(repo, "Missing db name", "add", "db");
        fails(repo, "Invalid role \"boss\"", Cli.args(new String[] {"add", "db", "x", "group=g:boss"}, src.dbWords()));
    }
}
