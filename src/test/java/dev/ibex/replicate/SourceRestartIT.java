package dev.ibex.replicate;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The source server restarts under a writer load (reliability issue, fault 1): with a fast shutdown
 * while a batch is open on it, and with an immediate shutdown (crash recovery on the way back)
 * while the one-time copy reads from it. The writers reconnect once it is back; the controller
 * carries on, and with no command beyond the final {@code kick s 0} the target equals the source by
 * count and checksum of ordered rows, and no run is left 'running'.
 */
class SourceRestartIT {

    private static final String T = "CREATE TABLE t (id int PRIMARY KEY, v int, note text)";
    private static final String U = "CREATE TABLE u (id int PRIMARY KEY, v int, note text)";

    private Path data;
    private EmbeddedPostgres server;
    private int port;
    private ReplicaSet set;
    private Model model;
    private TestDb repo;
    private TestDb src;
    private TestDb dst;
    private final Writers.Running running = new Writers.Running();

    /** The source on a dedicated server whose data survives its restarts; the target on the shared one. */
    private void setUp(String... schema) throws IOException {
        data = Files.createTempDirectory("ibex-source");
        server = PgServers.dedicated(PgServers.sourceVersion(), data, 0);
        port = server.getPort();
        TestDb postgres = new TestDb(server, "localhost", port, "postgres", "postgres");
        postgres.exec("CREATE DATABASE src");
        src = new TestDb(server, "localhost", port, "src", "postgres");
        set = ReplicaSet.on(src, PgServers.target(), schema);
        model = set.model();
        repo = set.repoDb();
        dst = set.dst();
        FaultsIT.retryQuickly(repo);
    }

    @AfterEach
    void tearDown() throws IOException {
        running.stopAll();
        if (set != null) {
            set.close();
        }
        if (server != null) {
            server.close();
        }
        if (data != null) {
            try (Stream<Path> files = Files.walk(data)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private enum Shutdown { FAST, IMMEDIATE }

    /**
     * Stops the source server ({@link Shutdown#FAST}: pg_ctl stop -m fast, as zonky's close does;
     * {@link Shutdown#IMMEDIATE}: SIGQUIT to the postmaster, no checkpoint, crash recovery on the
     * next start), waits until ibex has failed a run on it and the writers have failed to connect,
     * then starts it again on the same data directory and port.
     */
    private void restartSource(Shutdown how, Writers writers) throws Exception {
        long bad = model.runs("s", "bad");
        long reconnects = writers.reconnects();
        String version = src.scalar("SHOW server_version");
        long postmaster = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).strip());
        long t0 = System.nanoTime();
        BooleanSupplier exited = () -> ProcessHandle.of(postmaster).map(p -> !p.isAlive()).orElse(true);
        if (how == Shutdown.IMMEDIATE) {
            signal("QUIT", postmaster);
            eventually(Duration.ofSeconds(60), "the source's postmaster to exit", exited);
        }
        // FAST: pg_ctl stop -m fast. IMMEDIATE: its pg_ctl stop finds no server (and zonky logs an error);
        // either way this releases zonky's lock on the data directory
        server.close();
        // pg_ctl gives up after 5 s, a loaded machine's shutdown may take longer
        eventually(Duration.ofSeconds(60), "the source's postmaster to exit", exited);
        System.out.printf("source (PostgreSQL %s) %s shutdown took %.1f s%n", version, how, (System.nanoTime() - t0) / 1e9);
        // the outage lasts until a run failed on it and the writers found it gone
        eventually(Duration.ofSeconds(30), "a failed run while the source is down", () -> model.runs("s", "bad") > bad);
        eventually(Duration.ofSeconds(30), "the writers to miss the source", () -> writers.reconnects() > reconnects);
        server = PgServers.dedicated(PgServers.sourceVersion(), data, port);
        System.out.printf("source back after %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private static void signal(String sig, long pid) throws IOException, InterruptedException {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor());
    }

    /**
     * Whether an ibex session on the source has a transaction open whose statement matches {@code regex}
     * ({@code active}: runs it still; else it may be done with it, idle in its transaction).
     */
    private boolean sourceSession(String regex, boolean active) {
        try (Connection c = src.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = 'src' "
                     + "AND application_name LIKE 'ibex%' AND application_name <> 'ibex autokick' "
                     + "AND xact_start IS NOT NULL AND query ~ '" + regex + "'" + (active ? " AND state = 'active'" : ""))) {
            rs.next();
            return rs.getLong(1) > 0;
        } catch (SQLException e) {
            return false;
        }
    }

    private boolean same(String... tables) {
        return Arrays.stream(tables).allMatch(t -> FaultsIT.checksum(src, t).equals(FaultsIT.checksum(dst, t)));
    }

    /**
     * The sync heals by itself, then the user's final {@code kick s 0} runs once more: the target
     * equals the source, and no run is left 'running'.
     */
    private void converges(String... tables) throws InterruptedException {
        try {
            eventually(Duration.ofSeconds(90), "the target to equal the source by itself", () -> same(tables));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; " + diagnosis(tables), e);
        }
        Cli.Result kick = Cli.run(repo, "kick", "s", "0");
        assertEquals(0, kick.exit(), kick.toString());
        for (String t : tables) {
            ReplicaSet.assertSameRows(src, dst, t, "id");
            assertEquals(FaultsIT.checksum(src, t), FaultsIT.checksum(dst, t), t);
        }
        eventually(Duration.ofSeconds(30), "no run left 'running'",
                () -> "0".equals(repo.scalar("SELECT count(*) FROM ibex.run WHERE sync = 's' AND state = 'running'")));
    }

    /**
     * What a failed convergence leaves to look at: each table on both sides, the source server as
     * the test reaches it, the last runs, the snapshots. Each part that cannot be read says why.
     */
    private String diagnosis(String... tables) {
        StringBuilder out = new StringBuilder();
        for (String t : tables) {
            out.append(t).append(": source ").append(FaultsIT.checksum(src, t)).append(", target ")
                    .append(FaultsIT.checksum(dst, t)).append("; ");
        }
        out.append("source server ").append(read(src, "SELECT current_setting('data_directory') || ' port '"
                + " || current_setting('port') || ' up since ' || pg_postmaster_start_time() || ' tables '"
                + " || (SELECT string_agg(n.nspname || '.' || c.relname, ',') FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname IN ('public', 'ibex'))"))
                .append(" (data ").append(data).append(", port ").append(port).append("); ");
        out.append("onetimecopy ").append(read(repo, "SELECT onetimecopy::text FROM ibex.sync WHERE name = 's'"));
        out.append("; runs ").append(read(repo, "SELECT string_agg(id || ' ' || state || ' ' || coalesce(error, ''), "
                + "' | ' ORDER BY id DESC) FROM (SELECT * FROM ibex.run WHERE sync = 's' ORDER BY id DESC LIMIT 10) r"));
        out.append("; snapshots ").append(read(repo, "SELECT string_agg(target || ' ' || snapshot, ', ') FROM ibex.sync_state"));
        return out.append("; logged ").append(read(src, "SELECT count(*) FROM ibex.log")).toString();
    }

    private static String read(TestDb db, String sql) {
        try {
            return db.scalar(sql);
        } catch (RuntimeException e) {
            return "unreadable: " + e.getMessage().strip();
        }
    }

    /** Waits for {@code n} more commits of the writers (that they write again once the source is back). */
    private static void awaitCommits(Writers writers, long n) throws InterruptedException {
        long target = writers.committed() + n;
        eventually(Duration.ofSeconds(60), n + " more commits of the writers", () -> writers.committed() >= target);
    }

    // ---- 1. fast shutdown mid-batch --------------------------------------------------------------

    @Test
    void aSourceRestartedWithAFastShutdownMidBatchHealsByItself() throws Exception {
        long t0 = System.nanoTime();
        setUp(T);
        model.sync("s", "src", List.of("dst"), "public.t:id");
        // the batch open at the shutdown may still end before it: with a checktime, a run is tried
        // during the outage whatever autokick sees, and fails on it (Bucardo's checktime, a setting)
        repo.exec("UPDATE ibex.sync SET checktime = '1 second' WHERE name = 's'");
        try (InProcessController c = new InProcessController(repo)) {
            FaultsIT.awaitCaptured(src, "t");
            Writers writers = running.keep(Writers.startReconnecting(src, 3, 30, FaultsIT.load(2000, "t", "t")));
            writers.awaitCommits(100);
            eventually(Duration.ofSeconds(60), "rows on the target", () -> dst.count("t") > 0);
            // mid-batch: an ibex session with a transaction open on the source
            eventually(Duration.ofSeconds(60), "a batch open on the source", () -> sourceSession("", false));
            restartSource(Shutdown.FAST, writers);
            awaitCommits(writers, 200);
            long good = model.runs("s", "good");
            eventually(Duration.ofSeconds(60), "a good run after the source is back", () -> model.runs("s", "good") > good);
            writers.stop();
            converges("t");
            c.assertRunning();
            FaultsIT.failedRunsNeedNoPerson(repo);
        }
        System.out.printf("fast shutdown case: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    // ---- 2. immediate shutdown during the one-time copy -----------------------------------------

    @Test
    void aSourceRestartedWithAnImmediateShutdownDuringTheOneTimeCopyHealsByItself() throws Exception {
        long t0 = System.nanoTime();
        setUp(T, U);
        src.exec("INSERT INTO t SELECT g, g, repeat('x', 400) FROM generate_series(1, 60000) g", "VACUUM ANALYZE t");
        // each 200th row sleeps 20 ms on the target: a copy of some seconds, long enough to restart the source in
        dst.exec("CREATE FUNCTION slow(id int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS "
                + "$$BEGIN IF id % 200 = 0 THEN PERFORM pg_sleep(0.02); END IF; RETURN true; END$$",
                "ALTER TABLE t ADD CONSTRAINT slow CHECK (slow(id))");
        model.sync("s", "src", List.of("dst"), "public.t:id", "public.u:id");
        repo.exec("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's'");
        try (InProcessController c = new InProcessController(repo)) {
            FaultsIT.awaitCaptured(src, "t", "u");
            // the writers truncate u only: a TRUNCATE of t would leave the copy nothing to copy
            Writers writers = running.keep(Writers.startReconnecting(src, 3, 30, FaultsIT.load(60000, "u", "t", "u")));
            writers.awaitCommits(50);
            // its COPY still sends: 24 MB of rows, more than the socket's buffers hold while the target is slow
            eventually(Duration.ofSeconds(60), "the one-time copy reading t on the source",
                    () -> sourceSession("^COPY .*\\mt\\M", true));
            assertEquals("1", FaultsIT.onetimecopy(repo));
            restartSource(Shutdown.IMMEDIATE, writers);
            assertEquals("1", FaultsIT.onetimecopy(repo), "the copy is still pending after the crash");
            eventually(Duration.ofSeconds(90), "the copy to complete after the source is back",
                    () -> "0".equals(FaultsIT.onetimecopy(repo)));
            awaitCommits(writers, 200);
            writers.stop();
            converges("t", "u");
            c.assertRunning();
            FaultsIT.failedRunsNeedNoPerson(repo);
            assertTrue(src.count("t") > 50_000, "the copied rows are still on the source");
        }
        System.out.printf("immediate shutdown case: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
