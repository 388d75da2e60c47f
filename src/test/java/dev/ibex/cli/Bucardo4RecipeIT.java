package dev.ibex.cli;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ibex.controller.PidFile;
import dev.ibex.test.Cli;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bucardo 4's upgrade recipe ("Migrating Postgres with Bucardo 4", Greg Sabino Mullane, 2009),
 * word for word with the program name changed: two servers with a database "alpha" each, reached
 * through PGHOST with no host= anywhere, a pushdelta sync of the big table made with Bucardo 4's
 * words, the table copied with pg_dump while the application writes, the daemon catching up, a
 * final kick after writes stop, the other tables copied with pg_dump. The target ends equal to
 * the source, table by table, by count and by checksum of the ordered rows.
 *
 * <p>What is substituted, and why: the servers' real ports for 5555 and 5566 (the fixture picks
 * free ones) and a temporary directory for /tmp/bctest; the servers are 9.3.5 (the fixture's
 * oldest) and the default version, where the recipe went from 8.2 to 8.4; pgbench's 8.2-era
 * tables (accounts, not pgbench_accounts) are made in SQL, as today's pgbench names them
 * otherwise; {@code echo dbport=5566 > .bucardorc} becomes the same setting in ibex's settings
 * file (db-port), which also keeps the --piddir that Bucardo's install stored in its database;
 * {@code -N bucardo} names ibex's schema.
 */
class Bucardo4RecipeIT {

    /** The "old" server: 8.2 in the recipe; here the oldest the fixture runs (otj-pg-embedded's 9.3.5). */
    private static final String OLD_VERSION = "9.3.5";

    private static final String[] PGBENCH_82 = {
        "CREATE TABLE branches (bid int NOT NULL, bbalance int, filler char(88))",
        "CREATE TABLE tellers (tid int NOT NULL, bid int, tbalance int, filler char(84))",
        "CREATE TABLE accounts (aid int NOT NULL, bid int, abalance int, filler char(84))",
        "CREATE TABLE history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))",
        "INSERT INTO branches (bid, bbalance) VALUES (1, 0)",
        "INSERT INTO tellers (tid, bid, tbalance) SELECT g, 1, 0 FROM generate_series(1, 10) g",
        "INSERT INTO accounts (aid, bid, abalance, filler) SELECT g, 1, 0, '' FROM generate_series(1, 100000) g",
        "ALTER TABLE branches ADD PRIMARY KEY (bid)",
        "ALTER TABLE tellers ADD PRIMARY KEY (tid)",
        "ALTER TABLE accounts ADD PRIMARY KEY (aid)",
        "VACUUM ANALYZE",
    };

    private final List<EmbeddedPostgres> servers = new ArrayList<>();
    private final List<Long> controllers = new ArrayList<>();

    @AfterEach
    void stopEverything() throws IOException {
        controllers.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        for (EmbeddedPostgres pg : servers) {
            pg.close();
        }
    }

    @Test
    void theRecipeWordForWordEndsWithEqualTables() throws Exception {
        EmbeddedPostgres a = server(OLD_VERSION);
        EmbeddedPostgres b = server("default");
        String oldPort = Integer.toString(a.getPort());
        String newPort = Integer.toString(b.getPort());
        Path dir = Files.createTempDirectory("ibex-bctest");
        Path piddir = dir.resolve("bctest");
        Files.createDirectories(piddir);
        Map<String, String> env = new HashMap<>(Map.of("PGHOST", "127.0.0.1", "PGUSER", "postgres"));

        // initdb -D testA; echo port=5555 ...; createdb -p 5555 alpha; pgbench -p 5555 -i alpha
        try (Connection c = a.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE alpha");
        }
        TestDb oldAlpha = new TestDb(a, "127.0.0.1", a.getPort(), "alpha", "postgres");
        oldAlpha.exec(PGBENCH_82);

        // pg_dumpall --schema-only -p 5555 | psql -p 5566 -f -
        shell(env, "pg_dumpall --schema-only -p " + oldPort + " | psql -p " + newPort + " -f -");
        TestDb newAlpha = new TestDb(b, "127.0.0.1", b.getPort(), "alpha", "postgres");
        assertEquals("0", newAlpha.scalar("SELECT count(*) FROM accounts"), "the schema reached the new server");

        // bucardo_ctl install --dbport=5566 --piddir=/tmp/bctest
        ibex(env, "install", "--dbport=" + newPort, "--piddir=" + piddir);

        // echo dbport=5566 > .bucardorc
        Path settings = dir.resolve("ibex.yml");
        Files.writeString(settings, "db-port: " + newPort + "\npiddir: " + piddir + "\nlog-dir: " + dir + "\n");
        env.put("IBEX_CONFIG", settings.toString());

        // bucardo_ctl add db alpha name=oldalpha port=5555 ; ... name=newalpha port=5566
        assertEquals("Added database \"oldalpha\"\n", ibex(env, "add", "db", "alpha", "name=oldalpha",
                "port=" + oldPort).out());
        assertEquals("Added database \"newalpha\"\n", ibex(env, "add", "db", "alpha", "name=newalpha",
                "port=" + newPort).out());
        assertEquals("Database: newalpha  Status: active  Conn: psql -p " + newPort + " -d alpha\n"
                + "Database: oldalpha  Status: active  Conn: psql -p " + oldPort + " -d alpha\n",
                ibex(env, "list", "dbs").out());

        // bucardo_ctl add sync pepper type=pushdelta source=oldalpha targetdb=newalpha tables=accounts ping=false
        Cli.Result sync = ibex(env, "add", "sync", "pepper", "type=pushdelta", "source=oldalpha", "targetdb=newalpha",
                "tables=accounts", "ping=false");
        assertTrue(sync.out().contains("Added sync \"pepper\""), sync.toString());

        AtomicBoolean appStopped = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        Thread app = new Thread(() -> pgbenchLike(oldAlpha, appStopped, writes), "recipe-application");
        app.start();
        try {
            // pg_dump alpha -p 5555 --data-only -t accounts | psql -p 5566 -d alpha -f -
            shell(env, "pg_dump alpha -p " + oldPort + " --data-only -t accounts | psql -p " + newPort
                    + " -d alpha -f -");
            // bucardo_ctl start
            ibex(env, "start");
            controllers.add(new PidFile(piddir).read().orElseThrow());
            // bucardo_ctl status pepper
            assertTrue(ibex(env, "status", "pepper").out().contains("pepper"));
            // bucardo_ctl kick pepper 0
            assertTrue(ibex(env, "kick", "pepper", "0").out().contains("DONE!"));
            // the application goes on writing after the daemon caught up, for the final kick to carry
            long caughtUp = writes.get();
            eventually(Duration.ofSeconds(60), "the application writes on after the kick",
                    () -> writes.get() >= caughtUp + 100 || !app.isAlive());
        } finally {
            // stop the app from writing to the database
            appStopped.set(true);
            app.join();
        }
        assertTrue(writes.get() > 100, "the application wrote " + writes.get() + " transactions");

        // bucardo_ctl kick pepper 0
        assertTrue(ibex(env, "kick", "pepper", "0").out().contains("DONE!"));
        // pg_dump alpha -p 5555 --data-only -T accounts -N bucardo | psql -p 5566 -d alpha -f -
        shell(env, "pg_dump alpha -p " + oldPort + " --data-only -T accounts -N ibex | psql -p " + newPort
                + " -d alpha -f -");
        // bucardo_ctl stop
        ibex(env, "stop");

        assertEquals(oldAlpha.checksum("accounts", "aid"), newAlpha.checksum("accounts", "aid"));
        assertEquals(oldAlpha.checksum("branches", "bid"), newAlpha.checksum("branches", "bid"));
        assertEquals(oldAlpha.checksum("tellers", "tid"), newAlpha.checksum("tellers", "tid"));
        assertEquals(oldAlpha.checksum("history", "mtime, tid, bid, aid, delta"),
                newAlpha.checksum("history", "mtime, tid, bid, aid, delta"));
        assertTrue(Long.parseLong(oldAlpha.scalar("SELECT count(*) FROM accounts WHERE aid > 100000")) > 0,
                "the application added and re-keyed accounts");
        assertEquals("0", newAlpha.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"),
                "nothing of ibex on the new server's alpha");
    }

    private EmbeddedPostgres server(String version) {
        EmbeddedPostgres pg = PgServers.dedicated(version);
        servers.add(pg);
        return pg;
    }

    /** pgbench's transaction, plus what pgbench never does: new accounts, deleted ones, changed keys. */
    private static void pgbenchLike(TestDb alpha, AtomicBoolean stop, AtomicLong writes) {
        try (Connection c = alpha.connect()) {
            c.setAutoCommit(false);
            ThreadLocalRandom r = ThreadLocalRandom.current();
            try (PreparedStatement account = c.prepareStatement("UPDATE accounts SET abalance = abalance + ? WHERE aid = ?");
                 PreparedStatement teller = c.prepareStatement("UPDATE tellers SET tbalance = tbalance + ? WHERE tid = ?");
                 PreparedStatement branch = c.prepareStatement("UPDATE branches SET bbalance = bbalance + ? WHERE bid = 1");
                 PreparedStatement history = c.prepareStatement(
                         "INSERT INTO history (tid, bid, aid, delta, mtime) VALUES (?, 1, ?, ?, clock_timestamp())");
                 PreparedStatement open = c.prepareStatement(
                         "INSERT INTO accounts (aid, bid, abalance, filler) VALUES (?, 1, 0, 'new')");
                 PreparedStatement close = c.prepareStatement("DELETE FROM accounts WHERE aid = ?");
                 PreparedStatement rekey = c.prepareStatement(
                         "UPDATE accounts SET aid = aid + 1000000 WHERE aid = ?")) {
                long n = 0;
                while (!stop.get()) {
                    int aid = 1 + r.nextInt(100_000);
                    int tid = 1 + r.nextInt(10);
                    int delta = r.nextInt(-5000, 5001);
                    account.setInt(1, delta);
                    account.setInt(2, aid);
                    account.executeUpdate();
                    teller.setInt(1, delta);
                    teller.setInt(2, tid);
                    teller.executeUpdate();
                    branch.setInt(1, delta);
                    branch.executeUpdate();
                    history.setInt(1, tid);
                    history.setInt(2, aid);
                    history.setInt(3, delta);
                    history.executeUpdate();
                    n++;
                    if (n % 5 == 0) {
                        open.setLong(1, 200_000 + n);
                        open.executeUpdate();
                        close.setInt(1, 1 + r.nextInt(100_000));
                        close.executeUpdate();
                        rekey.setInt(1, 1 + r.nextInt(100_000));
                        rekey.executeUpdate();
                    }
                    c.commit();
                    writes.incrementAndGet();
                    Thread.sleep(2);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("the application failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One ibex command through bin/ibex in a process of its own: it must succeed and say nothing on stderr. */
    private static Cli.Result ibex(Map<String, String> env, String... args) {
        Cli.Result r = Cli.process(env, args);
        assertEquals(0, r.exit(), "ibex " + String.join(" ", args) + "\n" + r);
        assertEquals("", r.err(), "ibex " + String.join(" ", args) + "\n" + r);
        return r;
    }

    /** A shell line of the recipe (pg_dump | psql), with PGHOST and PGUSER as the recipe's shell had them. */
    private static void shell(Map<String, String> env, String line) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -o pipefail; " + line);
        pb.environment().keySet().removeIf(k -> k.startsWith("IBEX_") || k.startsWith("PG"));
        pb.environment().put("PGHOST", env.get("PGHOST"));
        pb.environment().put("PGUSER", env.get("PGUSER"));
        File err = File.createTempFile("recipe-err", ".txt");
        try {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                fail("This test runs pg_dump, pg_dumpall and psql: apt-get install postgresql-client-15 ("
                        + e.getMessage() + ")");
                return;
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(line + " did not end in 120 s");
            }
            String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), line + "\n" + stderr);
        } finally {
            Files.deleteIfExists(err.toPath());
        }
    }
}
