package dev.ibex.replicate;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon's clock jumps (reliability issue, fault 11): an {@code ibex start --foreground} controller runs
 * under libfaketime (Debian's faketime package), whose offset a file sets while it runs; the
 * monotonic clock is left alone, as a real clock step leaves it. Under a writer load the wall
 * clock jumps back 2 hours, then forward 2 days. Two syncs run meanwhile: one woken by autokick,
 * one by its checktime only (every second, the controller's periodic duties). Both keep running
 * through each jump, and with no command beyond the final kicks every target equals the source
 * by count and checksum of ordered rows. The databases' clocks do not move: ibex takes the times
 * it keeps (runs, heartbeats, ages) from the repository's now().
 *
 * <p>Without libfaketime the test is skipped, saying so; .ci/run installs it.
 */
class ClockJumpIT {

    private static final Path LIBFAKETIME = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");
    private static final Pattern LOG_TIME = Pattern.compile("^(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2})\\.\\d{3} .*");

    private ReplicaSet set;
    private Model model;
    private TestDb repo;
    private TestDb src;
    private TestDb dst;
    private Long pid;
    private final List<Writers> running = new ArrayList<>();

    @AfterEach
    void tearDown() {
        Writers.stopAll(running);
        if (pid != null) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        if (set != null) {
            set.close();
        }
    }

    private static void offset(Path file, String offset) {
        try {
            Files.writeString(file, offset + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The controller's clock as its log shows it, less the real one: the time of the newest line
     * of the log that is a run's, in seconds; null before there is one. (A jump to another day
     * rolls the log over: ibex.log starts anew.)
     */
    private static Long skew(Path log) {
        List<String> lines;
        try {
            if (!Files.exists(log)) {
                return null; // rolled over (a jump to another day), not written to again yet
            }
            lines = Files.readAllLines(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = lines.size() - 1; i >= 0; i--) {
            Matcher m = LOG_TIME.matcher(lines.get(i));
            if (m.matches() && lines.get(i).contains(" Run ")) {
                LocalDateTime at = LocalDateTime.parse(m.group(1), DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
                LocalDateTime now = LocalDateTime.now(java.time.ZoneId.systemDefault());
                return Duration.between(now, at).getSeconds();
            }
        }
        return null;
    }

    private boolean same(String table) {
        return checksum(src, table).equals(checksum(dst, table));
    }

    private static String checksum(TestDb db, String table) {
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' "
                     + "ORDER BY id)), '-') FROM " + table + " t")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    /** Both syncs run again under the jumped clock: new good runs of each, and the targets catch up. */
    private void bothSyncsRun(Writers writers, String after) throws InterruptedException {
        long t0 = System.nanoTime();
        long s = model.runs("s", "good");
        long c = model.runs("c", "good");
        writers.awaitCommits(writers.committed() + 100);
        eventually(Duration.ofSeconds(30), "good runs of the autokick sync " + after, () -> model.runs("s", "good") > s + 2);
        eventually(Duration.ofSeconds(30), "good runs of the checktime sync " + after, () -> model.runs("c", "good") > c + 2);
        System.out.printf("both syncs ran %s within %.1f s%n", after, (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void theDaemonsClockJumpsBackAndForthAndNothingIsLost() throws Exception {
        assumeTrue(Files.isReadable(LIBFAKETIME), "Skipped: the clock jump needs libfaketime (apt-get install faketime), "
                + "not found at " + LIBFAKETIME);
        long t0 = System.nanoTime();
        set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v int, note text)",
                "CREATE TABLE u (id int PRIMARY KEY, v int, note text)");
        model = set.model();
        repo = set.repoDb();
        src = set.src();
        dst = set.dst();
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.2'), ('kid_retry_max', '2'), "
                + "('purge_interval', '1')");
        model.sync("s", "src", List.of("dst"), "public.t:id");
        model.sync("c", false, List.of(model.table("src", "public", "u", "id")), "src", "dst");
        repo.exec("UPDATE ibex.sync SET checktime = '1 second' WHERE name = 'c'");

        Path clock = Files.createTempFile("ibex-faketime", ".txt");
        offset(clock, "+0");
        Path piddir = Files.createTempDirectory("ibex-pid");
        Path logDir = Files.createTempDirectory("ibex-log");
        Map<String, String> faketime = Map.of("LD_PRELOAD", LIBFAKETIME.toString(),
                "FAKETIME_TIMESTAMP_FILE", clock.toString(), "FAKETIME_CACHE_DURATION", "1",
                "FAKETIME_DONT_FAKE_MONOTONIC", "1");
        // in the foreground, started here: every JVM under libfaketime starts several times slower (each
        // clock read goes through it), and ibex start would give up on a loaded machine after its 60 s
        List<String> cmd = new ArrayList<>(List.of(Path.of("bin", "ibex").toAbsolutePath().toString(), "start",
                "--foreground"));
        cmd.addAll(Arrays.asList(repo.repositoryOptions()));
        cmd.addAll(List.of("--piddir", piddir.toString(), "--log-dir", logDir.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("IBEX_") || k.startsWith("PG"));
        pb.environment().putAll(faketime);
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        long starting = System.nanoTime();
        Process controller = pb.start();
        pid = controller.pid();
        Path log = logDir.resolve("ibex.log");

        eventually(Duration.ofSeconds(180), "capture on t and u", () -> "2".equals(src.scalar(
                "SELECT count(DISTINCT tgrelid) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN ('t'::regclass, 'u'::regclass)")));
        System.out.printf("the controller under libfaketime captured within %.1f s%n", (System.nanoTime() - starting) / 1e9);
        Writers writers = Writers.start(src, 3, 30, FaultsIT.load(2000, "t", "t", "u"));
        running.add(writers);
        bothSyncsRun(writers, "before the jumps");
        Long skew = skew(log);
        assertTrue(skew != null && Math.abs(skew) < 60, "the controller's clock is right at first: " + skew);

        offset(clock, "-2h");
        eventually(Duration.ofSeconds(30), "the controller's clock 2 h back", () -> {
            Long k = skew(log);
            return k != null && Math.abs(k + 7200) < 60;
        });
        bothSyncsRun(writers, "with the clock 2 h back");

        offset(clock, "+2d");
        eventually(Duration.ofSeconds(30), "the controller's clock 2 days ahead", () -> {
            Long k = skew(log);
            return k != null && Math.abs(k - 172_800) < 60;
        });
        bothSyncsRun(writers, "with the clock 2 days ahead");
        writers.stop();

        eventually(Duration.ofSeconds(60), "the targets to equal the source by themselves", () -> same("t") && same("u"));
        for (String sync : List.of("s", "c")) {
            Cli.Result kick = Cli.run(repo, "kick", sync, "0");
            assertEquals(0, kick.exit(), kick.toString());
        }
        for (String t : List.of("t", "u")) {
            assertEquals(checksum(src, t), checksum(dst, t), t);
            assertEquals(src.count(t), dst.count(t), t);
        }
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the controller still runs");
        List<String> stop = new ArrayList<>(List.of("stop"));
        stop.addAll(Arrays.asList(repo.repositoryOptions()));
        stop.addAll(List.of("--piddir", piddir.toString(), "--log-dir", logDir.toString()));
        Cli.Result stopped = Cli.process(Map.of(), stop.toArray(String[]::new));
        assertEquals(0, stopped.exit(), stopped.toString());
        pid = null;
        System.out.printf("clock jump case: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
