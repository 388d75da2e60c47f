package dev.ibex.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Db;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Where ibex connects for a db, and what 'list dbs' shows of it, for every combination of the
 * db's host, port, user, password, service and conn (each given or not) with PGHOST, PGPORT,
 * PGUSER and PGPASSWORD set or not: 1024 cases. Nothing connects here; the address is what
 * pgjdbc itself makes of the URL and properties ibex hands it ({@code Driver.parseURL}), with a
 * pg_service.conf and a .pgpass of the test's own. {@code DbAddressIT} connects for real.
 *
 * <p>The rule, libpq's: each value on its own comes from the db, else its service, else the
 * environment, else the default. 'list dbs' shows what is stored, whatever the environment, and
 * never a password.
 */
class DbAddressTest {

    private static final String PGPASS_PROPERTY = "org.postgresql.pgpassfile";
    private static final String SERVICE_PROPERTY = "org.postgresql.pgservicefile";
    private static final String OS_USER = System.getProperty("user.name");

    private static final String HOST = "db.example";
    private static final int PORT = 5555;
    private static final String USER = "stored_user";
    private static final String PASSWORD = "stored_pw";
    private static final String SERVICE = "svc";
    private static final String CONN = "sslmode=disable";

    private static final String ENV_HOST = "env.example";
    private static final int ENV_PORT = 6543;
    private static final String ENV_USER = "env_user";
    private static final String ENV_PASSWORD = "env_pw";

    /** The service names host, port and user, not a password. */
    private static final String SERVICE_HOST = "svc.example";
    private static final int SERVICE_PORT = 7777;
    private static final String SERVICE_USER = "svc_user";

    /** ~/.pgpass has a password for the db's own host and port only. */
    private static final String PGPASS_PASSWORD = "pgpass_pw";

    private static Path dir;
    private static String savedPgpass;
    private static String savedService;

    @BeforeAll
    static void files() throws IOException {
        dir = Files.createTempDirectory("ibex-dbaddress");
        Path services = dir.resolve("pg_service.conf");
        Files.writeString(services, "[other]\nhost=wrong.example\n\n[" + SERVICE + "]\nhost=" + SERVICE_HOST + "\nport="
                + SERVICE_PORT + "\nuser=" + SERVICE_USER + "\n\n[broken]\nhots=typo.example\n");
        Path pgpass = dir.resolve("pgpass");
        Files.writeString(pgpass, HOST + ":" + PORT + ":*:*:" + PGPASS_PASSWORD + "\n");
        savedPgpass = System.getProperty(PGPASS_PROPERTY);
        savedService = System.getProperty(SERVICE_PROPERTY);
        System.setProperty(PGPASS_PROPERTY, pgpass.toString());
        System.setProperty(SERVICE_PROPERTY, services.toString());
    }

    @AfterAll
    static void restore() throws IOException {
        restore(PGPASS_PROPERTY, savedPgpass);
        restore(SERVICE_PROPERTY, savedService);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    /** One case: which of the db's six values and the four variables are given. */
    record Case(boolean host, boolean port, boolean user, boolean password, boolean service, boolean conn,
                boolean pgHost, boolean pgPort, boolean pgUser, boolean pgPassword) {

        static Case of(int bits) {
            return new Case(bit(bits, 0), bit(bits, 1), bit(bits, 2), bit(bits, 3), bit(bits, 4), bit(bits, 5),
                    bit(bits, 6), bit(bits, 7), bit(bits, 8), bit(bits, 9));
        }

        private static boolean bit(int bits, int i) {
            return (bits & (1 << i)) != 0;
        }

        Db db() {
            return new Db("shop", "shop", host ? HOST : null, port ? PORT : null, user ? USER : null,
                    password ? PASSWORD : null, conn ? CONN : null, service ? SERVICE : null, "active");
        }

        Map<String, String> env() {
            Map<String, String> env = new HashMap<>();
            if (pgHost) {
                env.put("PGHOST", ENV_HOST);
            }
            if (pgPort) {
                env.put("PGPORT", Integer.toString(ENV_PORT));
            }
            if (pgUser) {
                env.put("PGUSER", ENV_USER);
            }
            if (pgPassword) {
                env.put("PGPASSWORD", ENV_PASSWORD);
            }
            env.put("PGDATABASE", "not_this_one");
            return env;
        }

        String expectedHost() {
            return host ? HOST : service ? SERVICE_HOST : pgHost ? ENV_HOST : "localhost";
        }

        int expectedPort() {
            return port ? PORT : service ? SERVICE_PORT : pgPort ? ENV_PORT : 5432;
        }

        String expectedUser() {
            return user ? USER : service ? SERVICE_USER : pgUser ? ENV_USER : OS_USER;
        }

        String expectedPassword() {
            if (password) {
                return PASSWORD;
            }
            if (pgPassword) {
                return ENV_PASSWORD;
            }
            return expectedHost().equals(HOST) && expectedPort() == PORT ? PGPASS_PASSWORD : null;
        }

        /** What 'list dbs' shows after "Conn: ": the stored values only, as a psql command. */
        String expectedList() {
            return "psql" + (service ? " \"service=" + SERVICE + "\"" : "") + (port ? " -p " + PORT : "")
                    + (user ? " -U " + USER : "") + " -d shop" + (host ? " -h " + HOST : "")
                    + (conn ? "  (" + CONN + ")" : "");
        }

        @Override
        public String toString() {
            List<String> given = new ArrayList<>();
            add(given, host, "host=");
            add(given, port, "port=");
            add(given, user, "user=");
            add(given, password, "pass=");
            add(given, service, "service=");
            add(given, conn, "conn=");
            List<String> env = new ArrayList<>();
            add(env, pgHost, "PGHOST");
            add(env, pgPort, "PGPORT");
            add(env, pgUser, "PGUSER");
            add(env, pgPassword, "PGPASSWORD");
            return "db [" + String.join(" ", given) + "] env [" + String.join(" ", env) + "]";
        }

        private static void add(List<String> l, boolean b, String word) {
            if (b) {
                l.add(word);
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCombination() {
        return IntStream.range(0, 1 << 10).mapToObj(Case::of).map(c -> DynamicTest.dynamicTest(c.toString(), () -> check(c)));
    }

    private static void check(Case c) {
        Db db = c.db();
        ConnectionSpec spec = db.spec(c.env());
        String address = c.expectedHost() + ":" + c.expectedPort();
        assertEquals(address, spec.hostPort(), "address");
        assertEquals(c.expectedUser(), spec.user(), "user");
        assertEquals(c.expectedPassword(), spec.password(), "password");
        assertEquals("shop", spec.dbname(), "a stored dbname beats PGDATABASE");

        // what pgjdbc makes of it: the address it opens a socket to, and who logs in
        Properties driver = org.postgresql.Driver.parseURL(spec.jdbcUrl(), spec.properties("ibex"));
        assertNotNull(driver, spec.jdbcUrl());
        assertEquals(c.expectedHost(), driver.getProperty("PGHOST"), "pgjdbc host");
        assertEquals(Integer.toString(c.expectedPort()), driver.getProperty("PGPORT"), "pgjdbc port");
        assertEquals("shop", driver.getProperty("PGDBNAME"), "pgjdbc dbname");
        assertEquals(c.expectedUser(), driver.getProperty("user"), "pgjdbc user");
        assertEquals(c.expectedPassword(), driver.getProperty("password"), "pgjdbc password");
        assertEquals(c.conn ? "disable" : null, driver.getProperty("sslmode"), "conn= reaches pgjdbc");

        // what the user sees: in 'list dbs', and in every message naming the connection
        String listed = ListCommand.conn(db);
        assertEquals(c.expectedList(), listed, "list dbs");
        assertTrue(spec.toString().contains("host=" + address), spec.toString());
        for (String secret : new String[] {PASSWORD, ENV_PASSWORD, PGPASS_PASSWORD}) {
            assertFalse(listed.contains(secret), listed);
            assertFalse(spec.toString().contains(secret), spec.toString());
        }
    }

    /** The case of the issue: PGHOST set, a port and no host stored; the stored port wins over PGPORT. */
    @Test
    void aStoredPortCountsWithoutAStoredHost() {
        Db oldalpha = new Db("oldalpha", "alpha", null, 5555, null, null, null, null, "active");
        ConnectionSpec spec = oldalpha.spec(Map.of("PGHOST", "127.0.0.1", "PGPORT", "5566", "PGUSER", "postgres"));
        assertEquals("127.0.0.1:5555", spec.hostPort());
        assertEquals("jdbc:postgresql://127.0.0.1:5555/", spec.jdbcUrl());
        assertEquals("psql -p 5555 -d alpha", ListCommand.conn(oldalpha));
    }

    @Test
    void blankVariablesCountAsUnset() {
        Db db = new Db("shop", "shop", null, null, null, null, null, null, "active");
        ConnectionSpec spec = db.spec(Map.of("PGHOST", "", "PGPORT", " ", "PGUSER", "", "PGPASSWORD", ""));
        assertEquals("localhost:5432", spec.hostPort());
        assertEquals(OS_USER, spec.user());
    }

    @Test
    void aPasswordInConnIsNotListed() {
        Db db = new Db("shop", "shop", HOST, null, null, null, "sslmode=require password=hunter2", null, "active");
        assertEquals("psql -d shop -h " + HOST + "  (sslmode=require password=***)", ListCommand.conn(db));
    }

    @Test
    void aBadPgportIsNamed() {
        Db db = new Db("shop", "shop", HOST, null, null, null, null, null, "active");
        IbexException e = assertThrows(IbexException.class, () -> db.spec(Map.of("PGPORT", "abc")));
        assertEquals("Cannot connect to shop: PGPORT is \"abc\", not a port number: fix it, or give the db its own "
                + "port=", e.getMessage());
        assertEquals(HOST + ":5433", new Db("shop", "shop", HOST, 5433, null, null, null, null, "active")
                .spec(Map.of("PGPORT", "abc")).hostPort(), "a stored port needs no PGPORT");
    }

    @Test
    void anUnknownOrBrokenServiceIsNamed() {
        for (String service : new String[] {"nosuch", "broken"}) {
            Db db = new Db("shop", "shop", HOST, PORT, null, null, null, service, "active");
            IbexException e = assertThrows(IbexException.class, () -> db.spec(Map.of()));
            assertEquals(IbexException.DATABASE, e.exitCode());
            assertTrue(e.getMessage().startsWith("Cannot connect to shop: service \"" + service + "\" is not defined"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("pg_service.conf") && e.getMessage().endsWith("or fix service="),
                    e.getMessage());
        }
    }

    @Test
    void aServiceWithoutAHostLeavesTheRestToTheEnvironment() {
        Db db = new Db("shop", null, null, null, null, null, null, "other", "active");
        ConnectionSpec spec = db.spec(Map.of("PGPORT", "6000", "PGUSER", "env_user", "PGDATABASE", "envdb"));
        assertEquals("wrong.example:6000", spec.hostPort());
        assertEquals("env_user", spec.user());
        assertEquals("envdb", spec.dbname(), "no dbname stored or in the service: PGDATABASE");
        assertEquals("psql \"service=other\"", ListCommand.conn(db));
    }
}
