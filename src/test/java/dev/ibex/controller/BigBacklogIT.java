package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A backlog far bigger than the controller's heap is applied in steps: the changed keys are read
 * a step at a time, never all at once.
 */
class BigBacklogIT {

    private static final int KEYS = 1_500_000;
    /** 1.5M keys held at once take over 100 MB of heap. */
    private static final String HEAP = "-Xmx64m";

    private final List<Long> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void backlogLargerThanTheHeapIsApplied() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s", "src", List.of("dst"), "public.t:id").capture("src");
            // the rows and their log rows as the capture trigger would write them, without its cost per row
            src.exec("BEGIN; SET LOCAL session_replication_role = replica; "
                    + "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, " + KEYS + ") g; "
                    + "INSERT INTO ibex.log (tab, k1) SELECT (SELECT tab FROM ibex.captured WHERE tablename = 't'), "
                    + "g::text FROM generate_series(1, " + KEYS + ") g; COMMIT");
            TestDb repo = m.repoDb();
            Path piddir = Files.createTempDirectory("ibex-pid");
            Path logDir = Files.createTempDirectory("ibex-log");
            List<String> options = new ArrayList<>(Arrays.asList(repo.repositoryOptions()));
            options.addAll(List.of("--piddir", piddir.toString(), "--log-dir", logDir.toString()));

            Cli.Result start = ibex(options, "start");
            assertEquals(0, start.exit(), start.toString());
            Matcher pid = ControllerIT.STARTED.matcher(start.out().strip());
            assertTrue(pid.matches(), start.toString());
            started.add(Long.parseLong(pid.group(1)));

            eventually(Duration.ofSeconds(300), "a good run", () -> {
                assertNull(repo.scalar("SELECT error FROM ibex.run WHERE sync = 's' AND state = 'bad' LIMIT 1"),
                        "a run failed");
                return m.runs("s", "good") > 0;
            });
            assertEquals(0, ibex(options, "stop").exit());
            assertEquals(KEYS + " keys in " + (KEYS / 100_000) + " steps",
                    repo.scalar("SELECT detail FROM ibex.run WHERE sync = 's' AND state = 'good'"));
            assertEquals(src.checksum("t", "id"), dst.checksum("t", "id"));
        }
    }

    private static Cli.Result ibex(List<String> options, String verb) {
        List<String> all = new ArrayList<>(List.of(verb));
        all.addAll(options);
        return Cli.process(Map.of("JAVA_OPTS", HEAP), all.toArray(String[]::new));
    }
}
