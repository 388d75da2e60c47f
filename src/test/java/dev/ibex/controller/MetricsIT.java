package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.status.MetricsAddress;
import dev.ibex.status.Scrape;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The controller's Prometheus endpoint, scraped with a real HTTP client while the controller replicates. */
class MetricsIT {

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, v text)";
    private static final Map<String, String> S = Map.of("sync", "s");
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final List<Long> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void scrapesShowEverySyncMetricAndTheyMoveWithReplication() throws Exception {
        Model model = Model.create();
        TestDb repo = model.repoDb();
        TestDb src = PgServers.repository();
        TestDb dst = PgServers.repository();
        src.exec(TABLE);
        dst.exec(TABLE);
        model.db("src", src).db("dst", dst).sync("s", "src", List.of("dst"), "public.t:id").failingSync("f");
        int port = freePort();
        try (InProcessController c = new InProcessController(repo, Optional.of(new MetricsAddress("127.0.0.1",
                port)))) {
            eventually(WAIT, "the start-up run", () -> model.runs("s", "empty") + model.runs("s", "good") >= 1);
            Scrape first = Scrape.of(port);
            List<Thread> served = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName()
                    .equals("ibex-metrics") || t.getName().equals("HTTP-Dispatcher")).toList();
            assertEquals(2, served.size(), served.toString());
            assertTrue(served.stream().allMatch(Thread::isDaemon), "the endpoint's threads cannot keep the JVM alive");
            assertTrue(first.contentType.startsWith("text/plain; version=0.0.4"), first.contentType);
            assertEquals(1, first.value("ibex_up", Map.of()));
            assertEquals(2, first.value("ibex_controller_syncs", Map.of()));
            assertFalse(first.all("jvm_memory_used_bytes", Map.of("area", "heap")).isEmpty(), first.text);
            Map<String, String> sourced = Map.of("sync", "s", "source", "src");
            assertTrue(first.value("ibex_sync_lag_seconds", sourced) >= 0, first.text);
            assertEquals(0, first.value("ibex_sync_backlog_rows", sourced), first.text);
            assertTrue(first.value("ibex_sync_target_snapshot_timestamp_seconds",
                    Map.of("sync", "s", "source", "src", "target", "dst")) > 0, first.text);
            assertEquals(0, first.value("ibex_sync_conflicts_total", S));
            assertEquals(0, first.value("ibex_sync_needs_person", S));
            assertEquals(0, first.value("ibex_sync_failing", S));
            assertEquals(0, first.value("ibex_sync_copy_rows", S));
            assertEquals(0, first.value("ibex_sync_copy_expected_rows", S));
            for (String state : List.of("good", "empty", "bad")) {
                first.value("ibex_sync_runs_total", Map.of("sync", "s", "state", state));
            }
            assertFalse(first.all("ibex_sync_run_duration_seconds_bucket", S).isEmpty(), first.text);
            double lastGood = first.value("ibex_sync_last_good_run_timestamp_seconds", S);
            assertTrue(lastGood > 0, first.text);

            List<Double> inserted = new ArrayList<>();
            inserted.add(first.value("ibex_sync_inserted_rows_total", S));
            for (int batch = 1; batch <= 3; batch++) {
                int from = batch * 1000;
                src.exec("INSERT INTO t SELECT g, 'v' FROM generate_series(" + from + ", " + (from + 99) + ") g");
                double want = inserted.get(0) + 100 * batch;
                eventually(WAIT, "the inserted-rows counter to reach " + want, () -> {
                    inserted.add(Scrape.of(port).value("ibex_sync_inserted_rows_total", S));
                    return inserted.get(inserted.size() - 1) >= want;
                });
            }
            for (int i = 1; i < inserted.size(); i++) {
                assertTrue(inserted.get(i) >= inserted.get(i - 1), "a counter never goes back: " + inserted);
            }
            assertEquals(300, dst.count("t"));
            Scrape later = Scrape.of(port);
            assertTrue(later.value("ibex_sync_last_good_run_timestamp_seconds", S) > lastGood, later.text);
            assertTrue(later.value("ibex_sync_runs_total", Map.of("sync", "s", "state", "good")) >= 3, later.text);
            assertTrue(later.value("ibex_sync_run_duration_seconds_count", S) >= 4, later.text);

            Map<String, String> f = Map.of("sync", "f");
            eventually(WAIT, "the failing sync to show as failing", () -> Scrape.of(port).value("ibex_sync_failing",
                    f) == 1);
            assertTrue(Scrape.of(port).value("ibex_sync_runs_total", Map.of("sync", "f", "state", "bad")) >= 1);
            assertEquals(1, Scrape.of(port).value("ibex_sync_needs_person", f),
                    "its target lacks the table (SQLSTATE " + repo.scalar("SELECT string_agg(DISTINCT "
                            + "coalesce(sqlstate, 'none') || ': ' || error, ' | ') FROM ibex.run WHERE sync = 'f'")
                            + ")");

            assertEquals(0, Cli.run(repo, "pause", "s").exit());
            eventually(WAIT, "a paused sync to need a person", () -> {
                Scrape paused = Scrape.of(port);
                return paused.value("ibex_sync_needs_person", S) == 1 && paused.value("ibex_controller_syncs",
                        Map.of()) == 1;
            });
            c.assertRunning();
        }
        assertFalse(Scrape.answers(port), "the endpoint closes with the controller");
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("ibex-metrics")
                && t.isAlive()), "no metrics thread is left");
    }

    @Test
    void noEndpointUnlessEnabled() throws Exception {
        Model model = Model.create().stubSync("s");
        assertEquals(Optional.empty(), MetricsAddress.of(dev.ibex.config.IbexConfig.resolve(Map.of(), null,
                Map.of())));
        try (InProcessController c = new InProcessController(model.repoDb())) {
            c.assertRunning();
            assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("ibex-metrics")),
                    "no metrics thread");
            assertFalse(Scrape.answers(9187), "nothing on the default port");
        }
    }

    /** `ibex start --metrics-port` through bin/ibex: the background controller serves, and exits on stop. */
    @Test
    void theStartOptionReachesTheBackgroundController() throws Exception {
        Model model = Model.create().stubSync("s");
        TestDb repo = model.repoDb();
        Path piddir = Files.createTempDirectory("ibex-pid");
        Path logDir = Files.createTempDirectory("ibex-log");
        int port = freePort();
        List<String> places = new ArrayList<>(List.of(repo.repositoryOptions()));
        places.addAll(List.of("--piddir", piddir.toString(), "--log-dir", logDir.toString()));

        Cli.Result bad = Cli.process(Map.of(), Cli.args(new String[] {"start", "--metrics-port", "http"},
                places.toArray(String[]::new)));
        assertEquals(1, bad.exit(), bad.toString());
        assertTrue(bad.err().contains("--metrics-port"), bad.toString());

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Cli.Result refused = Cli.process(Map.of(), Cli.args(new String[] {"start", "--metrics-port",
                Integer.toString(taken.getLocalPort())}, places.toArray(String[]::new)));
            assertEquals(1, refused.exit(), refused.toString());
            assertTrue(refused.err().contains("Cannot serve metrics on 127.0.0.1:" + taken.getLocalPort()),
                    refused.toString());
        }

        Cli.Result start = Cli.process(Map.of(), Cli.args(new String[] {"start", "--metrics-port",
            Integer.toString(port)}, places.toArray(String[]::new)));
        assertEquals(0, start.exit(), start.toString());
        Matcher m = ControllerIT.STARTED.matcher(start.out().strip());
        assertTrue(m.matches(), start.toString());
        long pid = Long.parseLong(m.group(1));
        started.add(pid);
        eventually(WAIT, "the sync's runs to be counted", () -> Scrape.of(port).all("ibex_sync_runs_total", S)
                .stream().mapToDouble(Scrape.Sample::value).sum() >= 1);
        assertEquals(1, Scrape.of(port).value("ibex_up", Map.of()));
        assertTrue(Files.readString(ControllerLog.file(logDir)).contains("Serving metrics on http://127.0.0.1:"
                + port + "/metrics"));

        Cli.Result stop = Cli.process(Map.of(), Cli.args(new String[] {"stop"}, places.toArray(String[]::new)));
        assertEquals(0, stop.exit(), stop.toString());
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(60, TimeUnit.SECONDS).join());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the controller exited");
        assertFalse(Scrape.answers(port), "the endpoint went with it");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
