package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.config.Tunable;
import dev.ibex.pg.SqlFeature;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Tables of copy_split_mb or more are copied in parts by several workers, each part one target
 * transaction: the target still ends equal to the source, whatever key the table has, under
 * concurrent writes, after a TRUNCATE, and after a part failed.
 */
class SplitCopyIT {

    private static final String BIG = "(id int PRIMARY KEY, v int, note text) WITH (autovacuum_enabled = false)";
    private static final String COMPOSITE = "(a int, b text, v int, note text, PRIMARY KEY (a, b))";
    private static final String TEXT_KEY = "(k text PRIMARY KEY, v int, note text)";
    private static final int ROWS = 60_000;

    @Test
    void splitTablesOfEveryKeyShapeEndIdenticalUnderConcurrentWrites() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        assumeTrue(src.version().has(SqlFeature.SNAPSHOT_EXPORT), "parts need an exported snapshot (9.2)");
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE big " + BIG, "CREATE TABLE comp " + COMPOSITE, "CREATE TABLE txt " + TEXT_KEY,
                    "CREATE TABLE small (id int PRIMARY KEY, v int, note text)");
        }
        fill(src);
        dst.exec("INSERT INTO big VALUES (-1, 0, 'stale'), (1, 0, 'stale')", "INSERT INTO txt VALUES ('zz', 0, 'stale')",
                // a foreign key into big: the target refuses TRUNCATE, so big's rows are deleted instead
                "CREATE TABLE big_ref (big_id int REFERENCES big)");
        List<String> details = new CopyOnWriteArrayList<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo()).progressEvery(10)) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "big", "id"), m.table("src", "public", "comp", "a", "b"),
                    m.table("src", "public", "txt", "k"), m.table("src", "public", "small", "id")), "src", "dst");
            oneTimeCopyInParts(m);
            m.capture("src");
            Thread watcher = new Thread(() -> OneTimeCopyIT.watch(m.repoDb(), details, watching), "watcher");
            watcher.start();
            try (Writers writers = Writers.start(src, 4, 30, SplitCopyIT::change)) {
                writers.awaitCommits(50);
                SyncRunner.Result r = runner.runOnce("s1");
                watching.set(false);
                watcher.join();
                assertEquals("good", r.state(), r.toString());
                assertEquals("0", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
                assertEquals(3, r.deletes(), "big's two stale rows deleted, txt's one truncated: " + r);
                assertTrue(transactions(dst, "big") > 1, "big was copied in parts");
                assertTrue(transactions(dst, "comp") > 1, "comp was copied in parts");
                // before 14 only an integer first key column splits a table
                assertEquals(sourceMajor(src) >= 14, transactions(dst, "txt") > 1, "txt copied in parts from 14 on");
                assertEquals(1, transactions(dst, "small"), "small stays one stream");
                // a table copied in parts shows as one: its rows so far against its estimate
                assertTrue(details.stream().anyMatch(d -> d.matches(".*copy public\\.big \\d+/\\d+ rows.*")),
                        details.toString());
                assertTrue(details.stream().noneMatch(d -> d.indexOf("public.big") != d.lastIndexOf("public.big")),
                        details.toString());
                for (int i = 0; i < 3; i++) {
                    assertEquals("good", runner.runOnce("s1").state());
                }
                assertTrue(writers.committed() > 100, writers.committed() + " transactions");
            }
            drain(runner);
            assertAllSame(src, dst);

            // a TRUNCATE logged on the source copies the table whole again, in parts
            src.exec("TRUNCATE big", "INSERT INTO big SELECT g, g, repeat('t', 80) FROM generate_series(1, " + ROWS + ") g");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertTrue(transactions(dst, "big") > 1, "big was copied in parts again");
            assertEquals("empty", runner.runOnce("s1").state());
            assertAllSame(src, dst);
        }
    }

    /** Table big on both dbs; its last source row breaks a CHECK only the target has. */
    private static void poisonedBig(TestDb src, TestDb dst) {
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE big " + BIG);
        }
        src.exec("INSERT INTO big SELECT g, g, repeat('x', 80) FROM generate_series(1, " + ROWS + ") g",
                "INSERT INTO big VALUES (" + (ROWS + 100) + ", 0, 'poison')", "VACUUM ANALYZE big");
        dst.exec("ALTER TABLE big ADD CONSTRAINT no_poison CHECK (note <> 'poison')");
    }

    /**
     * A part the target refuses (its last row breaks a target-only CHECK) after others committed leaves the run bad and the one-time copy pending,
     * whatever the other parts committed; once the cause is gone the next run copies everything again.
     */
    @Test
    void aFailedPartLeavesTheRunBadAndTheNextRunConverges() throws Exception {
        try (ReplicaSet set = ReplicaSet.create(); SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            assumeTrue(src.version().has(SqlFeature.SNAPSHOT_EXPORT), "parts need an exported snapshot (9.2)");
            poisonedBig(src, dst);
            dst.exec("INSERT INTO big VALUES (-1, 0, 'stale')");
            m.sync("s1", false, List.of(m.table("src", "public", "big", "id")), "src", "dst");
            oneTimeCopyInParts(m);
            m.capture("src");
            try (Writers writers = Writers.start(src, 3, ROWS, "big")) {
                writers.awaitCommits(30);
                SyncRunner.Result r = runner.runOnce("s1");
                assertEquals("bad", r.state(), r.toString());
                assertTrue(r.error().contains("no_poison"), r.error());
                assertEquals("1", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
                assertEquals("0", dst.scalar("SELECT count(*) FROM big WHERE id = -1"), "the table was emptied first");
                long partial = dst.count("big");
                assertTrue(partial > 0 && partial < ROWS, "some parts committed: " + partial);
                assertTrue(transactions(dst, "big") > 1, "in more than one part: " + partial);

                dst.exec("ALTER TABLE big DROP CONSTRAINT no_poison");
                r = runner.runOnce("s1");
                assertEquals("good", r.state(), r.toString());
                assertEquals("0", m.repoDb().scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's1'"));
                assertTrue(transactions(dst, "big") > 1, "copied in parts");
                writers.awaitCommits(writers.committed() + 30);
                assertEquals("good", runner.runOnce("s1").state());
            }
            drain(runner);
            assertSameRows(src, dst, "big", "id");
        }
    }

    /**
     * onetimecopy 2 copies only into empty tables, so a table it left partly copied would count as
     * loaded beforehand: under mode 2 a large table is copied in one transaction, and a failed copy
     * leaves it empty for the next run.
     */
    @Test
    void modeTwoCopiesALargeTableInOneTransaction() {
        try (ReplicaSet set = ReplicaSet.create(); SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            poisonedBig(src, dst);
            m.sync("s1", false, List.of(m.table("src", "public", "big", "id")), "src", "dst");
            oneTimeCopyInParts(m);
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 2 WHERE name = 's1'");
            m.capture("src");
            assertEquals("bad", runner.runOnce("s1").state());
            assertEquals(0, dst.count("big"), "nothing of the failed copy stays");
            dst.exec("ALTER TABLE big DROP CONSTRAINT no_poison");
            src.exec("UPDATE big SET v = -v WHERE id % 1000 = 0");
            assertEquals("good", runner.runOnce("s1").state());
            assertEquals(1, transactions(dst, "big"), "one stream, one transaction");
            assertEquals("empty", runner.runOnce("s1").state());
            assertSameRows(src, dst, "big", "id");
        }
    }

    private static void fill(TestDb src) {
        src.exec("INSERT INTO big SELECT g, g, repeat('b', 80) FROM generate_series(1, " + ROWS + ") g",
                "INSERT INTO comp SELECT g / 3, 'b' || g % 3, g, repeat('c', 80) FROM generate_series(1, " + ROWS + ") g",
                "INSERT INTO txt SELECT md5(g::text), g, repeat('t', 80) FROM generate_series(1, " + ROWS + ") g",
                "INSERT INTO small SELECT g, g, 's' FROM generate_series(1, 100) g", "VACUUM ANALYZE");
    }

    /** onetimecopy 1, two workers, and a split size the test tables (about 7 MB each) are well above. */
    private static void oneTimeCopyInParts(Model m) {
        m.repo().update("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's1'");
        m.repo().update("INSERT INTO ibex.config (name, setting) VALUES (?, '2'), (?, '1')",
                Tunable.COPY_PARALLEL.key(), Tunable.COPY_SPLIT_MB.key());
    }

    /** Inserts, updates, deletes and key changes on all three split tables. */
    private static String change(java.util.concurrent.ThreadLocalRandom rnd) {
        int id = 1 + rnd.nextInt(ROWS);
        return switch (rnd.nextInt(8)) {
            case 0 -> "INSERT INTO big VALUES (" + (ROWS + rnd.nextInt(ROWS)) + ", 1, 'new') ON CONFLICT (id) DO NOTHING";
            case 1 -> "UPDATE big SET v = v + 1, note = note || 'u' WHERE id = " + id;
            case 2 -> "DELETE FROM big WHERE id = " + id;
            case 3 -> "UPDATE comp SET v = v + 1 WHERE a = " + id / 3;
            case 4 -> "UPDATE comp SET b = b || 'k' WHERE a = " + id / 3 + " AND b = 'b1'";
            case 5 -> "DELETE FROM comp WHERE a = " + id / 3 + " AND b = 'b2'";
            case 6 -> "UPDATE txt SET v = v - 1, k = k || 'x' WHERE k = md5('" + id + "')";
            default -> "INSERT INTO txt VALUES (md5('n" + id + "'), 0, 'new') ON CONFLICT (k) DO NOTHING";
        };
    }

    private static void drain(SyncRunner runner) {
        assertEquals("good", runner.runOnce("s1").state());
        assertEquals("empty", runner.runOnce("s1").state());
    }

    private static void assertAllSame(TestDb src, TestDb dst) {
        assertSameRows(src, dst, "big", "id");
        assertSameRows(src, dst, "comp", "a, b");
        assertSameRows(src, dst, "txt", "k");
        assertSameRows(src, dst, "small", "id");
    }

    /** How many target transactions wrote the table's rows. */
    private static long transactions(TestDb db, String table) {
        return Long.parseLong(db.scalar("SELECT count(DISTINCT xmin::text) FROM " + table));
    }

    private static int sourceMajor(TestDb src) {
        return Integer.parseInt(src.scalar("SHOW server_version_num")) / 10000;
    }
}
