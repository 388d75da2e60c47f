package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.fails;
import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.TestDb;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** README "Names and values": what CliFuzzIT's generated lines found, and the choices made where a line succeeds. */
class NamesAndValuesIT {

    TestDb repo;

    @BeforeEach
    void setUp() {
        repo = CliChecks.Shop.create().repo();
    }

    String q(String sql) {
        return repo.scalar(sql);
    }

    /**
     * PostgreSQL cuts identifiers at 63 bytes, but ibex's names are repository text compared whole, and
     * nothing derived from a sync or dbgroup name becomes an identifier: two names that differ only
     * in their 64th byte are two objects, and the relgroup and dbgroup a sync makes are named in full.
     */
    @Test
    void namesOf64BytesAreKeptWhole() {
        String base = "s" + "y".repeat(62);
        String one = base + "1";
        String two = base + "2";
        assertEquals(64, one.getBytes(StandardCharsets.UTF_8).length);
        ok(repo, "add", "sync", one, "tables=orders", "dbs=src:source,dst:target");
        ok(repo, "add", "sync", two, "tables=order_items", "dbs=src:source,dst:fullcopy");
        assertEquals(one + "|" + one + "|" + one + "|64," + two + "|" + two + "|" + two + "|64",
                q("SELECT string_agg(name || '|' || relgroup || '|' || dbgroup || '|' || octet_length(name), ',' "
                        + "ORDER BY name) FROM ibex.sync"));
        String listed = ok(repo, "list", "syncs", one).out();
        assertTrue(listed.contains("\"" + one + "\""), listed);
        assertFalse(listed.contains(two), listed);
        ok(repo, "update", "sync", one, "inactive");
        assertEquals("inactive,active", q("SELECT string_agg(status, ',' ORDER BY name) FROM ibex.sync"));
        assertTrue(ok(repo, "status", two).out().contains(two));

        String group = "g" + "x".repeat(62);
        ok(repo, "add", "dbgroup", group + "1", "src:source", "dst:target");
        ok(repo, "add", "dbgroup", group + "2", "src:source", "dst:fullcopy");
        ok(repo, "add", "sync", "by_group", "relgroup=shop", "dbs=" + group + "1");
        assertEquals(group + "1", q("SELECT dbgroup FROM ibex.sync WHERE name = 'by_group'"));
        assertEquals("Removed sync \"" + two + "\"\n", ok(repo, "remove", "sync", two).out());
        assertEquals("by_group," + one, q("SELECT string_agg(name, ',' ORDER BY name) FROM ibex.sync"));
    }

    /** relgroup= with nothing after it is refused (an unset shell variable), not read as "no relgroup". */
    @Test
    void emptyValuesAreRefused() {
        fails(repo, "Missing value for relgroup= in 'ibex add table': give one (relgroup=RELGROUP), or leave relgroup= out",
                "add", "table", "keyless", "db=src", "relgroup=");
        fails(repo, "Missing value for db=", "add", "all", "sequences", "db=", "relgroup=shop");
        fails(repo, "Missing value for relgroup=", "add", "sync", "s2", "relgroup=", "dbs=src:source,dst:target");
        ok(repo, "add", "sync", "s1", "relgroup=shop", "dbs=src:source,dst:target");
        fails(repo, "Missing value for dbs=", "update", "sync", "s1", "dbs=");
        ok(repo, "add", "table", "keyless", "db=src");
        assertEquals("1", q("SELECT count(*) FROM ibex.relation WHERE tablename = 'keyless'"));
    }

    @Test
    void logLevelMustBeOneOfTheLevels(@TempDir Path dir) throws Exception {
        fails(repo, "Invalid value for option '--log-level': \"chatty\" is not a log level: use error, warn, info, debug "
                + "or trace", "--log-level=chatty", "status");
        fails(repo, "use error, warn, info, debug or trace", "status", "--log-level", "verbose");
        Path yml = dir.resolve("ibex.yml");
        Files.writeString(yml, "log-level: chatty\n");
        fails(repo, "Invalid log level \"chatty\" (from IBEX_LOG_LEVEL or log-level in " + yml
                + "): use error, warn, info, debug or trace", "--config", yml.toString(), "list", "syncs");
        ok(repo, "--log-level=DEBUG", "status");
    }

    @Test
    void oneLineEvenWhenANameHoldsALineBreak() {
        Cli.Result r = fails(repo, "No sync named \"\\r\\nsync\\u0000\"", "update", "sync", "\r\nsync\u0000", "active");
        assertEquals(1, r.err().lines().count(), r.toString());
    }

    @Test
    void settingsAndWaitsAreChecked() {
        ok(repo, "add", "sync", "s1", "relgroup=shop", "dbs=src:source,dst:target");
        fails(repo, "Setting copy_parallel is given twice: give it once", "set", "copy_parallel=3", "COPY_PARALLEL=4");
        assertEquals("0", q("SELECT count(*) FROM ibex.config WHERE name = 'copy_parallel'"));
        fails(repo, "Invalid wait of 99999999999 seconds: use 0 (no limit) to 2147483647", "activate", "s1",
                "99999999999");
        fails(repo, "Invalid wait of 4294967296 seconds", "kick", "s1", "4294967296");
        fails(repo, "Invalid --retry=-1: use 0 or more", "kick", "s1", "5", "--retry=-1");
        fails(repo, "Invalid --seconds=-1: use 0 or more seconds", "demo", "--seconds=-1");
    }

    /** Bucardo's noise word "sync" with the name left out chose no sync, and the verb did nothing with exit 0. */
    @Test
    void theNoiseWordAloneNamesNoSync() {
        ok(repo, "add", "sync", "s1", "relgroup=shop", "dbs=src:source,dst:target");
        String fix = "No sync named after \"sync\": give its name, as in 'sync shop', or all";
        fails(repo, fix, "kick", "sync", "0");
        fails(repo, fix, "pause", "sync");
        fails(repo, fix, "deactivate", "sync");
        fails(repo, fix, "status", "sync");
        assertEquals("active", q("SELECT status FROM ibex.sync WHERE name = 's1'"));
    }

    /** Bucardo 5's add db words are not taken; the line says what ibex takes instead. */
    @Test
    void bucardosAddAllTablesWordSaysWhatToDo() {
        fails(repo, "Bucardo's addalltables is not an ibex word: add db \"x\" without it, then "
                + "'ibex add all tables db=x relgroup=NAME'", "add", "db", "x", "dbname=shop", "addalltables");
        fails(repo, "'ibex add all sequences db=x relgroup=NAME'", "add", "db", "x", "addallsequences", "dbname=shop");
    }
}
