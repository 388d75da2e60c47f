package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A db's connection values survive the repository, on real PostgreSQL: every combination of host,
 * port, user, password, service and conn is read back as stored and listed by 'list dbs'; and the
 * case of issue 10 (PGHOST set, port= without host=) reaches the server at the stored port, not at
 * PGPORT or 5432. DbAddressTest covers the same combinations against the environment.
 */
class DbAddressIT {

    /** Db d00..d63: bit 0 host, 1 port, 2 user, 3 password, 4 service, 5 conn. */
    @Test
    void everyCombinationIsReadBackAsStoredAndListed() {
        try (Model model = Model.create()) {
            List<String> expected = new ArrayList<>();
            for (int bits = 0; bits < 64; bits++) {
                String name = String.format("d%02d", bits);
                boolean host = (bits & 1) != 0;
                boolean port = (bits & 2) != 0;
                boolean user = (bits & 4) != 0;
                boolean password = (bits & 8) != 0;
                boolean service = (bits & 16) != 0;
                boolean conn = (bits & 32) != 0;
                model.sql("INSERT INTO ibex.db (name, dbname, host, port, username, password, service, conn) "
                        + "VALUES (?, 'shop', ?, ?, ?, ?, ?, ?)", name, host ? "db.example" : null, port ? 5555 : null,
                        user ? "app" : null, password ? "Secret123" : null, service ? "svc" : null,
                        conn ? "sslmode=disable" : null);
                Db db = model.repo().db(name).orElseThrow();
                assertEquals(new Db(name, "shop", host ? "db.example" : null, port ? 5555 : null, user ? "app" : null,
                        password ? "Secret123" : null, conn ? "sslmode=disable" : null, service ? "svc" : null,
                        "active"), db, name);
                expected.add("Database: " + name + "  Status: active  Conn: psql" + (service ? " \"service=svc\"" : "")
                        + (port ? " -p 5555" : "") + (user ? " -U app" : "") + " -d shop"
                        + (host ? " -h db.example" : "") + (conn ? "  (sslmode=disable)" : ""));
            }
            Cli.Result list = ok(model.repoDb(), "list", "dbs");
            assertEquals(String.join("\n", expected) + "\n", list.out());
            assertFalse(list.out().contains("Secret123"), list.out());
        }
    }

    /**
     * Issue 10: {@code ibex --dbport=R add db alpha name=oldalpha port=5555} with PGHOST set and no
     * host=, then Bucardo 4's add sync. PGPORT points at nothing, so only the stored port can work.
     */
    @Test
    void aPortWithoutAHostIsReachedAtThatPort() {
        TestDb repo = Model.create().repoDb();
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        String table = "CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))";
        src.exec(table, "INSERT INTO accounts SELECT g, 1, 0, '' FROM generate_series(1, 100) g");
        dst.exec(table);
        Map<String, String> env = Map.of("PGHOST", "127.0.0.1", "PGUSER", src.user(), "PGPORT", "1");
        String dbport = "--dbport=" + repo.port();
        String dbname = "--dbname=" + repo.name();

        run(env, dbport, "add", "db", src.name(), "name=oldalpha", "port=" + src.port(), dbname);
        run(env, dbport, "add", "db", dst.name(), "name=newalpha", "port=" + dst.port(), dbname);
        assertEquals(src.port() + "|" + dst.port(), repo.scalar("SELECT string_agg(port::text, '|' ORDER BY name DESC) "
                + "FROM ibex.db WHERE host IS NULL"));

        Cli.Result list = run(env, dbport, "list", "dbs", dbname);
        assertEquals("Database: newalpha  Status: active  Conn: psql -p " + dst.port() + " -d " + dst.name() + "\n"
                + "Database: oldalpha  Status: active  Conn: psql -p " + src.port() + " -d " + src.name() + "\n",
                list.out());

        Cli.Result sync = run(env, dbport, "add", "sync", "pepper", "type=pushdelta", "source=oldalpha",
                "targetdb=newalpha", "tables=accounts", "ping=false", dbname);
        assertTrue(sync.out().contains("Added sync \"pepper\""), sync.toString());
        assertEquals("1", src.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"),
                "capture was installed on oldalpha's server, at its stored port");

        try (Repository r = Repository.open(Model.spec(repo))) {
            assertEquals("127.0.0.1:" + src.port(), r.db("oldalpha").orElseThrow().spec(env).hostPort());
        }
    }

    private static Cli.Result run(Map<String, String> env, String... args) {
        Cli.Result r = Cli.process(env, args);
        assertEquals(0, r.exit(), String.join(" ", args) + "\n" + r);
        assertEquals("", r.err(), String.join(" ", args) + "\n" + r);
        return r;
    }
}
