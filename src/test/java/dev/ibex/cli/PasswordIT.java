package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.fails;
import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
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

    static EmbeddedPostgres server;
    static String database;

    @BeforeAll
    static void passwordServer() throws Exception {
        server = PgServers.dedicated("default");
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE app LOGIN PASSWORD 'Secret123'");
            st.execute("CREATE DATABASE shop OWNER app");
            Path hba;
            try (ResultSet rs = st.executeQuery("SHOW hba_file")) {
                rs.next();
                hba = Path.of(rs.getString(1));
            }
            assertTrue(Files.readString(hba).contains("trust"), "expected a trusting pg_hba.conf to start from");
            Files.writeString(hba, """
                    local all postgres trust
                    host  all postgres 127.0.0.1/32 trust
                    host  all postgres ::1/128 trust
                    local all all scram-sha-256
                    host  all all 127.0.0.1/32 scram-sha-256
                    host  all all ::1/128 scram-sha-256
                    """);
            st.execute("SELECT pg_reload_conf()");
        }
        database = "shop";
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    String[] words(String... more) {
        return Cli.args(new String[] {"dbname=" + database, "host=127.0.0.1", "port=" + server.getPort(),
            "user=app"}, more);
    }

    @Test
    void wrongPasswordIsRefusedAndNotEchoed() {
        TestDb repo = Model.create().repoDb();
        Cli.Result r = fails(repo, 3, List.of("Cannot connect to shop at 127.0.0.1:" + server.getPort(),
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
        all.append(Cli.run(repo, "add", "db", "x", "dbname=shop", "host=127.0.0.1", "port=" + server.getPort(),
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
