package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ibex.pg.SqlFeature;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** onetimecopy copies whole tables in the batch snapshot, then the stream continues from it. */
class OneTimeCopyIT {

    @Test
    void mode1ReplacesTargetContentsAndJoinsTheStream() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        src.exec("INSERT INTO t SELECT g, 'old' FROM generate_series(1, 5000) g");
        dst.exec("INSERT INTO t VALUES (-1, 'stale'), (1, 'stale')");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo());
             Connection open = src.connect(); Statement st = open.createStatement()) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "dst");
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's1'");
            m.capture("src");
            src.exec("UPDATE t SET v = 'during' WHERE id <= 10");
            open.setAutoCommit(false);
            st.execute("INSERT INTO t VALUES (9000, 'committed after the copy snapshot')");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals("0", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
            assertEquals("5000", dst.scalar("SELECT count(*) FROM t"));
            open.commit();
            src.exec("DELETE FROM t WHERE id = 2");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals(2, r.inserts() + r.deletes(), "only the delta after the copy: " + r);
            assertSameRows(src, dst, "t", "id");
        }
    }

    @Test
    void aCopyATargetRefusesIsNotLoggedAsCopiedAndItsErrorCarriesTheServersDetail() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE ok (id int PRIMARY KEY)", "CREATE TABLE c (id int PRIMARY KEY, qty int)");
        }
        dst.exec("ALTER TABLE c ADD CONSTRAINT qty_positive CHECK (qty > 0)");
        src.exec("INSERT INTO ok SELECT generate_series(1, 10)", "INSERT INTO c VALUES (1, -5)");
        Logger log = (Logger) LoggerFactory.getLogger(WholeTables.class); // the copy's classes log as WholeTables
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        Level level = log.getLevel();
        log.setLevel(Level.INFO);
        log.addAppender(lines);
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "ok", "id"), m.table("src", "public", "c", "id")),
                    "src", "dst");
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's1'");
            m.capture("src");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.error().contains("violates check constraint \"qty_positive\"")
                    && r.error().contains("DETAIL: Failing row contains (1, -5)"), r.toString());
            assertTrue(copied(lines).stream().noneMatch(l -> l.startsWith("Copied public.c:")), copied(lines).toString());

            dst.exec("ALTER TABLE c DROP CONSTRAINT qty_positive");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertTrue(copied(lines).stream().anyMatch(l -> l.startsWith("Copied public.c: 1 rows")), copied(lines).toString());
            assertSameRows(src, dst, "c", "id");
            assertSameRows(src, dst, "ok", "id");
        } finally {
            log.detachAppender(lines);
            log.setLevel(level);
        }
    }

    private static List<String> copied(ListAppender<ILoggingEvent> lines) {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).filter(l -> l.startsWith("Copied ")).toList();
    }

    @Test
    void mode2CopiesOnlyIntoEmptyTables() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE full_one (id int PRIMARY KEY)", "CREATE TABLE kept (id int PRIMARY KEY)");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("INSERT INTO full_one SELECT generate_series(1, 100)", "INSERT INTO kept SELECT generate_series(1, 100)");
            dst.exec("INSERT INTO kept VALUES (1), (-5)");
            m.sync("s1", false, List.of(m.table("src", "public", "full_one", "id"),
                    m.table("src", "public", "kept", "id")), "src", "dst");
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 2 WHERE name = 's1'");
            m.capture("src");
            src.exec("INSERT INTO kept VALUES (500)");
            assertEquals("good", runner.runOnce("s1").state());
            assertSameRows(src, dst, "full_one", "id");
            assertEquals(List.of("-5", "1", "500"), dst.column("SELECT id::text FROM kept ORDER BY id"));
            assertNotEquals(src.count("kept"), dst.count("kept"));
        }
    }

    private static final String TABLE = "(id int PRIMARY KEY, v int, note text) WITH (autovacuum_enabled = false)";

    /**
     * Three tables copied two at a time while four writers change them: the copy and the stream
     * that follows it end byte-identical to the source, progress shows in ibex.run.detail, and
     * ANALYZE runs after the copy except where the relation says not to.
     */
    @Test
    void mode1InParallelUnderConcurrentWritesEndsIdentical() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE a " + TABLE, "CREATE TABLE b " + TABLE, "CREATE TABLE c " + TABLE);
        }
        src.exec("INSERT INTO a SELECT g, g, 'a' || g FROM generate_series(1, 300000) g",
                "INSERT INTO b SELECT g, g, 'b' || g FROM generate_series(1, 300000) g",
                "INSERT INTO c SELECT g, g, 'c' || g FROM generate_series(1, 20000) g", "ANALYZE");
        dst.exec("INSERT INTO a VALUES (-1, 0, 'stale'), (1, 0, 'stale')", "INSERT INTO c VALUES (7, 7, 'stale')");
        List<String> details = new CopyOnWriteArrayList<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo()).progressEvery(50)) {
            m.db("src", src).db("dst", dst);
            int c = m.table("src", "public", "c", "id");
            m.sync("s1", false, List.of(m.table("src", "public", "a", "id"), m.table("src", "public", "b", "id"),
                    c), "src", "dst");
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's1'");
            m.repo().update("UPDATE ibex.relation SET analyze_after_copy = false WHERE id = ?", c);
            m.repo().update("INSERT INTO ibex.config (name, setting) VALUES (?, '2')", dev.ibex.config.Tunable.COPY_PARALLEL.key());
            m.capture("src");
            Thread watcher = new Thread(() -> watch(m.repoDb(), details, watching), "watcher");
            watcher.start();
            try (Writers writers = Writers.start(src, 4, 300500, "a", "b", "c")) {
                writers.awaitCommits(50);
                SyncRunner.Result r = runner.runOnce("s1");
                assertEquals("good", r.state(), r.toString());
                assertEquals("0", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
                for (int i = 0; i < 3; i++) {
                    assertEquals("good", runner.runOnce("s1").state());
                }
                assertTrue(writers.committed() > 100, writers.committed() + " transactions");
            } finally {
                watching.set(false);
                watcher.join();
            }
            assertEquals("good", runner.runOnce("s1").state());
            assertEquals("empty", runner.runOnce("s1").state());
            for (String t : List.of("a", "b", "c")) {
                assertSameRows(src, dst, t, "id");
            }
            assertTrue(details.stream().anyMatch(d -> d.matches("copy public\\.[ab] \\d+/\\d+ rows.*")), details.toString());
            boolean together = details.stream().anyMatch(d -> d.matches("copy public\\.[ab] .*; copy public\\.[ab] .*"));
            if (src.version().has(SqlFeature.SNAPSHOT_EXPORT)) {
                assertTrue(together, "two tables copied at once: " + details);
            } else {
                assertFalse(together, "before 9.2 one table at a time, in the batch's snapshot: " + details);
            }
            assertTrue(details.stream().anyMatch(d -> d.contains(" MB/s") && d.contains(" of 3 tables copied)")),
                    details.toString());
            assertTrue(Double.parseDouble(dst.scalar("SELECT reltuples FROM pg_class WHERE relname = 'a'")) > 0,
                    "a was analyzed after its copy");
            assertTrue(Double.parseDouble(dst.scalar("SELECT reltuples FROM pg_class WHERE relname = 'c'")) <= 0,
                    "c has analyze_after_copy = false");
        }
    }

    /** Empty target tables are copied whole, a table loaded beforehand gets only the changes. */
    @Test
    void mode2UnderConcurrentWritesEndsIdentical() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE e " + TABLE, "CREATE TABLE k " + TABLE,
                        "INSERT INTO k SELECT g, g, 'k' || g FROM generate_series(1, 20000) g");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("INSERT INTO e SELECT g, g, 'e' || g FROM generate_series(1, 20000) g");
            m.sync("s1", false, List.of(m.table("src", "public", "e", "id"), m.table("src", "public", "k", "id")),
                    "src", "dst");
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 2 WHERE name = 's1'");
            m.capture("src");
            try (Writers writers = Writers.start(src, 4, 20500, "e", "k")) {
                writers.awaitCommits(50);
                SyncRunner.Result r = runner.runOnce("s1");
                assertEquals("good", r.state(), r.toString());
                assertTrue(r.inserts() >= 20000 && r.inserts() < 30000, "e copied whole, k only its changes: " + r);
                assertEquals("0", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
                for (int i = 0; i < 3; i++) {
                    assertEquals("good", runner.runOnce("s1").state());
                }
            }
            assertEquals("good", runner.runOnce("s1").state());
            assertEquals("empty", runner.runOnce("s1").state());
            assertSameRows(src, dst, "e", "id");
            assertSameRows(src, dst, "k", "id");
        }
    }

    /** What ibex.run.detail says while a run is running, as `ibex status` would see it. */
    static void watch(TestDb repo, List<String> details, AtomicBoolean watching) {
        try (Connection c = repo.connect(); Statement st = c.createStatement()) {
            while (watching.get()) {
                try (ResultSet rs = st.executeQuery("SELECT detail FROM ibex.run WHERE state = 'running' AND detail IS NOT NULL")) {
                    while (rs.next()) {
                        details.add(rs.getString(1));
                    }
                }
                Thread.sleep(10); // paces a sampler, which runs until told to stop: there is nothing to wait for
            }
        } catch (Exception e) {
            details.add("watcher failed: " + e);
        }
    }
}
