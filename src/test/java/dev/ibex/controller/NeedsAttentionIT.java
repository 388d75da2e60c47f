package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A failure retrying cannot fix (here a table missing on the target, 42P01) shows as "needs
 * attention" with its fix, is logged at ERROR once however often it is retried, and heals by
 * itself once someone fixes it.
 */
class NeedsAttentionIT {

    @Test
    void aMissingTargetTableNeedsAttentionIsLoggedOnceAndHealsWhenCreated() throws Exception {
        Model m = Model.create().failingSync("s");
        TestDb repo = m.repoDb();
        TestDb src = m.dbNamed("s_src");
        TestDb dst = m.dbNamed("s_dst");
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.2'), ('kid_retry_max', '0.4')");
        Logger kidLog = (Logger) LoggerFactory.getLogger(Kid.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        Level level = kidLog.getLevel();
        kidLog.setLevel(Level.INFO);
        kidLog.addAppender(lines);
        try (InProcessController c = new InProcessController(repo)) {
            c.assertRunning();
            eventually(Duration.ofSeconds(30), "four failed runs", () -> m.runs("s", "bad") >= 4);

            Cli.Result status = Cli.run(repo, "status", "s");
            assertTrue(status.out().contains("Needs attention"), status.toString());
            assertTrue(status.out().contains("Table public.t does not exist on target db \"s_dst\""), status.toString());
            assertTrue(status.out().contains("create the table there with the source's columns"), status.toString());
            Cli.Result json = Cli.run(repo, "status", "s", "--json");
            assertTrue(json.out().contains("\"state\": \"needs attention\"") && json.out().contains("\"needs_attention\": true")
                    && json.out().contains("\"sqlstate\": \"42P01\""), json.toString());
            List<String> errors = lines.list.stream().filter(e -> e.getLevel() == Level.ERROR)
                    .map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(1, errors.size(), "one ERROR line for " + m.runs("s", "bad") + " failed runs: " + errors);
            assertTrue(errors.get(0).contains("needs attention") && errors.get(0).contains("fix: create the table"),
                    errors.toString());

            dst.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
            src.exec("INSERT INTO t SELECT g, 'after the fix' FROM generate_series(2, 50) g");
            eventually(Duration.ofSeconds(30), "a good run", () -> m.runs("s", "good") >= 1);
            eventually(Duration.ofSeconds(30), "the target equal to the source",
                    () -> src.count("t") == dst.count("t") && src.checksum("t", "id").equals(dst.checksum("t", "id")));
            Cli.Result healed = Cli.run(repo, "status", "s", "--json");
            assertTrue(healed.out().contains("\"state\": \"good\"") && healed.out().contains("\"needs_attention\": false"),
                    healed.toString());
            assertTrue(lines.list.stream().anyMatch(e -> e.getLevel() == Level.INFO
                    && e.getFormattedMessage().startsWith("Running again after")), lines.list.toString());
        } finally {
            kidLog.detachAppender(lines);
            kidLog.setLevel(level);
        }
        assertEquals(50, src.count("t"));
    }
}
