package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.fails;
import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.ScramServer;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Passwords: a wrong one is refused with a clear line, a right one is stored and never printed.
 * The embedded servers trust every local connection (initdb -A trust), so this test runs a server
 * of its own whose pg_hba.conf demands scram-sha-256 from every role but postgres.
 */
class PasswordIT {

    static ScramServer server;
    static String database;

    @BeforeAll
    static void passwordServer() {
        server = ScramServer.start();
        server.role("app", "Secret123");
        server.database("shop", "app");
        database = "shop";
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    String[] words(String... more) {
        return Cli.args(new String[] {"dbname=" + database, "host=127.0.0.1", "port=" + server.port(),
            "user=app"}, more);
    }

    @Test
    void wrongPasswordIsRefusedAndNotEchoed() {
        TestDb repo = Model.create().repoDb();
        Cli.Result r = fails(repo, 3, List.of("Cannot connect to shop at 127.0.0.1:" + server.port(),
                "password authentication failed for user \"app\"", "fix pass="),
                Cli.args(new String[] {"add", "db", "shop"}, words("pass=Wrong999")));
        assertFalse(r.err().contains("Wrong999"), r.toString());
        fails(repo, 3, List.of("Cannot connect to shop", "no password was provided"),
                Cli.args(new String[] {"add", "db", "shop"}, words()));
    }

    @Test
    void rightPasswordIsStoredButNeverShown() {
        TestDb repo = Model.create().repoDb();
        ok(repo, Cli.args(new String[] {"add", "db", "shop"}, words("pass=Secret123")));
        assertEquals("Secret123", repo.scalar("SELECT password FROM ibex.db"));
        StringBuilder all = new StringBuilder();
        all.append(ok(repo, "list", "all"));
        all.append(ok(repo, "list", "dbs"));
        all.append(Cli.run(repo, Cli.args(new String[] {"add", "db", "shop", "--debug"}, words("pass=Secret123"))));
        all.append(Cli.run(repo, "update", "db", "shop", "port=1", "pass=Secret123", "--debug"));
        all.append(ok(repo, "update", "db", "shop", "pass=Other456", "--force"));
        all.append(Cli.run(repo, "add", "db", "x", "dbname=shop", "host=127.0.0.1", "port=" + server.port(),
                "user=app", "pass=Secret123", "--frob"));
        all.append(Cli.run(repo, "add", "db", "y", "dbname=shop", "pass=Secret123", "conn=password=Secret123",
                "host=127.0.0.1", "port=1", "--force"));
        all.append(ok(repo, "update", "db", "y", "conn=sslmode=disable password=Secret123", "--force"));
        all.append(ok(repo, "list", "dbs"));
        assertTrue(all.toString().contains("Changed db \"shop\" password"), all.toString());
        assertFalse(all.toString().contains("Secret123"), all.toString());
        assertFalse(all.toString().contains("Other456"), all.toString());
    }
}
