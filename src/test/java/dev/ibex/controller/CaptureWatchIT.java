package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ibex.pg.SqlState;
import dev.ibex.replicate.Writers;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import dev.ibex.pg.SqlFeature;
import dev.ibex.test.PgServers;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A user drops ibex's capture trigger, or drops and recreates a captured table on the source,
 * while a controller replicates it under writes: no run notices (a table nobody logs has no
 * changes), so without a look at the triggers every write from then on is lost on the targets,
 * silently. The controller must put capture back by itself, copy the table whole once, and say
 * so in one line naming the table.
 */
class CaptureWatchIT {

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, v int, note text)";

    @Test
    void aDroppedTriggerIsPutBackAndTheWritesWithoutItReachTheTarget() throws Exception {
        converges("the trigger dropped", src -> src.exec("DROP TRIGGER IF EXISTS ibex_capture ON t",
                "DROP TRIGGER IF EXISTS ibex_rows ON t", "DROP TRIGGER IF EXISTS ibex_delete ON t"));
    }

    /** Schema ibex dropped on the source (or the database restored without it): nothing logs, nothing says so. */
    @Test
    void captureObjectsDroppedAltogetherArePutBackAndTheTableCopiedWhole() throws Exception {
        converges("schema ibex dropped", "Capture of table(s) schema ibex (capture objects gone)",
                // t first, as the writers lock it before their trigger locks ibex.log; a run reads
                // ibex.log before t, so the drop may still lose a deadlock to it, and is run again
                src -> againAfterDeadlock(src, "BEGIN; LOCK TABLE t; DROP SCHEMA ibex CASCADE; COMMIT"));
    }

    /** As a DBA would: a statement that lost a deadlock is run again. */
    private static void againAfterDeadlock(TestDb db, String sql) {
        for (int attempt = 1;; attempt++) {
            try {
                db.exec(sql);
                return;
            } catch (IllegalStateException e) {
                if (attempt == 10 || !(e.getCause() instanceof SQLException se && SqlState.DEADLOCK_DETECTED.is(se))) {
                    throw e;
                }
            }
        }
    }

    @Test
    void aTableRecreatedOnTheSourceAloneIsPutBackAndCopiedWhole() throws Exception {
        converges("the table made anew", src -> src.exec("BEGIN; LOCK TABLE t; CREATE TABLE t_new (LIKE t INCLUDING ALL); "
                + "INSERT INTO t_new SELECT id, v + 1000, 'reloaded' FROM t WHERE id % 3 <> 0; DROP TABLE t; "
                + "ALTER TABLE t_new RENAME TO t; COMMIT"));
    }

    /** 10+: a DELETE through the new parent fires no statement trigger of the partition. */
    @Test
    void aTableAttachedAsAPartitionGetsTheRowTriggerAndItsDeletesThroughTheParentReachTheTarget() throws Exception {
        assumeTrue(PgServers.source().version().has(SqlFeature.TRANSITION_TABLES), "partitions and statement triggers with transition tables are 10+");
        converges("the table attached as a partition", src -> {
            src.exec("CREATE TABLE p (id int NOT NULL, v int, note text) PARTITION BY RANGE (id)",
                    "ALTER TABLE p ATTACH PARTITION t FOR VALUES FROM (MINVALUE) TO (MAXVALUE)");
            // a row a statement, so none deadlocks with the writers
            for (int id = 0; id < 300; id += 5) {
                src.exec("DELETE FROM p WHERE id = " + id, "UPDATE p SET note = 'through the parent' WHERE id = " + (id + 1));
            }
        });
    }

    /**
     * A key column changed on both sides to a type whose text depends on the writer's settings
     * (float8, extra_float_digits): the capture function still logs it as text, so a key written
     * by a session with extra_float_digits = 0 is logged rounded (0.30000000000000004 as 0.3) and
     * its row never found. Captured anew, the key is logged typed and the table copied whole.
     */
    @Test
    void aKeyColumnRetypedToAFloatIsCapturedAnewAndEveryRowArrives() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE d (k numeric PRIMARY KEY, v int)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s", "src", List.of("dst"), "public.d:k").capture("src");
            TestDb repo = m.repoDb();
            repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('purge_interval', '1')");
            src.exec("INSERT INTO d SELECT g, g FROM generate_series(1, 100) g");
            try (InProcessController c = new InProcessController(repo)) {
                c.assertRunning();
                eventually(Duration.ofSeconds(30), "the first rows on the target", () -> dst.count("d") == 100);
                for (TestDb db : List.of(src, dst)) {
                    db.exec("ALTER TABLE d ALTER COLUMN k TYPE float8");
                }
                for (int g = 1; g < 30; g++) {
                    if (g % 10 == 0) {
                        continue; // 1.0 and 2.0 are taken
                    }
                    src.exec("SET extra_float_digits = 0; INSERT INTO d VALUES (" + g + " * 0.1::float8, " + g + ")",
                            "SET extra_float_digits = 0; UPDATE d SET v = -v WHERE k = " + g);
                }
                // the keys' bits: a float8's text differs between versions (shortest-exact from 12 on)
                String bits = "SELECT count(*) || ':' || md5(string_agg(encode(float8send(k), 'hex') || '=' || v, ',' "
                        + "ORDER BY k)) FROM d";
                eventually(Duration.ofSeconds(40), "the target equal to the source",
                        () -> src.scalar(bits).equals(dst.scalar(bits)));
                c.assertRunning();
            }
            assertEquals(127, src.count("d"));
        }
    }

    /**
     * A captured table renamed on the source: its trigger goes with it and logs on, the runs fail
     * naming the table, the controller says once that it is gone and how to fix it; named back,
     * every change made meanwhile arrives.
     */
    @Test
    void aTableRenamedOnTheSourceIsNamedAndItsChangesArriveOnceItIsNamedBack() throws Exception {
        try (ReplicaSet set = ReplicaSet.create(TABLE)) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s", "src", List.of("dst"), "public.t:id").capture("src");
            TestDb repo = m.repoDb();
            repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('purge_interval', '1'), ('kid_retry_min', '0.2'), "
                    + "('kid_retry_max', '0.5')");
            src.exec("INSERT INTO t SELECT g, g, 'a' FROM generate_series(1, 100) g");
            ControllerLines lines = new ControllerLines();
            try (lines; InProcessController c = new InProcessController(repo)) {
                c.assertRunning();
                eventually(Duration.ofSeconds(30), "the first rows on the target", () -> dst.count("t") == 100);
                src.exec("ALTER TABLE t RENAME TO t_renamed", "UPDATE t_renamed SET note = 'renamed' WHERE id <= 50",
                        "DELETE FROM t_renamed WHERE id > 90");
                eventually(Duration.ofSeconds(30), "the controller's word on the table", () -> lines.list.stream()
                        .anyMatch(e -> e.getFormattedMessage().startsWith("Table(s) public.t captured on db src no longer exist")));
                eventually(Duration.ofSeconds(30), "a failed run", () -> m.runs("s", "bad") > 0);
                Cli.Result status = m.run("status", "s");
                assertTrue(status.out().contains("Table public.t does not exist on source db \"src\""), status.toString());
                src.exec("ALTER TABLE t_renamed RENAME TO t", "INSERT INTO t VALUES (1000, 1, 'back')");
                eventually(Duration.ofSeconds(30), "the target equal to the source",
                        () -> src.count("t") == dst.count("t") && src.checksum("t", "id").equals(dst.checksum("t", "id")));
            }
            assertEquals(1, lines.list.stream().filter(e -> e.getLevel() == Level.ERROR).count(), lines.list.toString());
            assertEquals(91, src.count("t"));
        }
    }

    /**
     * A key column of a captured table renamed on the source: the capture function still names
     * it, so every write to the table fails, the application's included. The controller takes the
     * table's triggers off at its next look and says so once; named back, the table is captured
     * anew and copied whole, writes made meanwhile included.
     */
    @Test
    void aKeyColumnRenamedOnTheSourceLosesItsTriggersSoWritesWorkAndNamedBackTheTableArrivesWhole() throws Exception {
        try (ReplicaSet set = ReplicaSet.create(TABLE)) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s", "src", List.of("dst"), "public.t:id").capture("src");
            m.repoDb().exec("INSERT INTO ibex.config (name, setting) VALUES ('purge_interval', '1')");
            src.exec("INSERT INTO t SELECT g, g, 'a' FROM generate_series(1, 100) g");
            ControllerLines lines = new ControllerLines();
            try (lines; InProcessController c = new InProcessController(m.repoDb())) {
                c.assertRunning();
                eventually(Duration.ofSeconds(30), "the first rows on the target", () -> dst.count("t") == 100);
                src.exec("ALTER TABLE t RENAME COLUMN id TO tid");
                AtomicInteger next = new AtomicInteger(1000);
                eventually(Duration.ofSeconds(30), "a write to the table working again", () -> {
                    try {
                        src.exec("INSERT INTO t VALUES (" + next.incrementAndGet() + ", 1, 'renamed')");
                        return true;
                    } catch (RuntimeException e) {
                        assertTrue(e.getMessage().contains("has no field \"id\""), e.getMessage());
                        return false;
                    }
                });
                src.exec("UPDATE t SET note = 'renamed' WHERE tid <= 50", "DELETE FROM t WHERE tid > 90 AND tid < 1000");
                src.exec("ALTER TABLE t RENAME COLUMN tid TO id");
                eventually(Duration.ofSeconds(40), "the target equal to the source",
                        () -> src.count("t") == dst.count("t") && src.checksum("t", "id").equals(dst.checksum("t", "id")));
                src.exec("UPDATE t SET note = 'named back' WHERE id % 2 = 0");
                eventually(Duration.ofSeconds(20), "the writes after it on the target",
                        () -> src.checksum("t", "id").equals(dst.checksum("t", "id")));
                c.assertRunning();
            }
            List<String> errors = lines.list.stream().filter(e -> e.getLevel() == Level.ERROR)
                    .map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(1, errors.size(), errors.toString());
            assertTrue(errors.get(0).startsWith("A key column of table(s) public.t on db src was renamed or dropped"), errors.toString());
            assertEquals(91, src.count("t"));
        }
    }

    private void converges(String what, java.util.function.Consumer<TestDb> ddl) throws Exception {
        converges(what, "Capture of table(s) public.t (", ddl);
    }

    private void converges(String what, String warning, java.util.function.Consumer<TestDb> ddl) throws Exception {
        try (ReplicaSet set = ReplicaSet.create(TABLE)) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s", "src", List.of("dst"), "public.t:id").capture("src");
            TestDb repo = m.repoDb();
            repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('purge_interval', '1')");
            ControllerLines lines = new ControllerLines();
            try (lines; InProcessController c = new InProcessController(repo);
                    Writers writers = Writers.start(src, 2, 300, "t")) {
                c.assertRunning();
                writers.awaitCommits(200);
                ddl.accept(src);
                long before = writers.committed();
                writers.awaitCommits(before + 300); // written while nothing logs them
                writers.stop();
                eventually(Duration.ofSeconds(40), "the target equal to the source after " + what,
                        () -> src.count("t") == dst.count("t") && src.checksum("t", "id").equals(dst.checksum("t", "id")));
                // and capture works again: a write from now on arrives by autokick
                src.exec("UPDATE t SET note = 'after the repair' WHERE id % 2 = 0", "DELETE FROM t WHERE id % 7 = 0");
                eventually(Duration.ofSeconds(20), "the writes after the repair on the target",
                        () -> src.count("t") == dst.count("t") && src.checksum("t", "id").equals(dst.checksum("t", "id")));
                c.assertRunning();
            }
            List<String> warnings = lines.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                    .map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.get(0).startsWith(warning), warnings.toString());
            assertTrue(src.count("t") > 0);
        }
    }

    /** The controller's log lines from now until closed. */
    private static final class ControllerLines implements AutoCloseable {
        private final Logger log = (Logger) LoggerFactory.getLogger(Controller.class);
        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
        final List<ILoggingEvent> list = appender.list;

        ControllerLines() {
            appender.start();
            log.addAppender(appender);
        }

        @Override
        public void close() {
            log.detachAppender(appender);
        }
    }
}
