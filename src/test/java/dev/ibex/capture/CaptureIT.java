package dev.ibex.capture;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.IbexException;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CaptureIT {

    private static final String OBJECTS = """
            SELECT coalesce(string_agg(kind || ':' || name, ',' ORDER BY kind, name), '') FROM (
              SELECT 'class' AS kind, c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'ibex'
              UNION ALL SELECT 'proc', p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'ibex'
              UNION ALL SELECT 'trigger', tgrelid::regclass || '.' || tgname FROM pg_trigger WHERE tgname LIKE 'ibex%'
              UNION ALL SELECT 'schema', nspname FROM pg_namespace WHERE nspname = 'ibex') o""";

    @Test
    void capturesKeysOfEveryChangeAndTruncates() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE orders (a int, b text, v text, PRIMARY KEY (a, b))")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s1", false, List.of(m.table("src", "public", "orders", "a", "b")), "src", "dst").capture("src");
            assertEquals("1", m.repoDb().scalar("SELECT count(*) FROM ibex.sync_state WHERE sync = 's1' AND source = 'src' "
                    + "AND target = 'dst' AND snapshot ~ '^\\d+:\\d+:'"));

            src.exec("INSERT INTO orders VALUES (1, 'x', 'one'), (2, 'y', 'two')",
                    "UPDATE orders SET v = 'uno' WHERE a = 1",
                    "UPDATE orders SET a = 3 WHERE a = 2",
                    "DELETE FROM orders WHERE a = 1");
            assertEquals(List.of("1|x", "2|y", "1|x", "2|y", "3|y", "1|x"),
                    src.column("SELECT k1 || '|' || k2 FROM ibex.log ORDER BY txid, k1, k2"));
            assertEquals("0", src.scalar("SELECT count(*) FROM pg_class WHERE relname LIKE 'delta\\_%'"),
                    "keys of int and text go to the shared log");
            src.exec("TRUNCATE orders");
            assertEquals("public.orders", src.scalar("SELECT schemaname || '.' || tablename FROM ibex.truncate_log"));
        }
    }

    @Test
    void keysWhoseTextDependsOnSettingsGoToTheirOwnDeltaTable() {
        try (ReplicaSet set = ReplicaSet.create()) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("CREATE TABLE events (at timestamptz, n int, v text, PRIMARY KEY (at, n))",
                    "CREATE TABLE wide (a int, b int, c int, d int, e int, PRIMARY KEY (a, b, c, d, e))");
            m.sync("s1", false, List.of(m.table("src", "public", "events", "at", "n"),
                    m.table("src", "public", "wide", "a", "b", "c", "d", "e")), "src", "dst").capture("src");
            src.exec("INSERT INTO wide VALUES (1, 2, 3, 4, 5)");
            assertEquals("1|2|3|4|5", src.scalar("SELECT a || '|' || b || '|' || c || '|' || d || '|' || e "
                    + "FROM ibex.delta_public_wide"), "five key columns do not fit the shared log");
            src.exec("SET TimeZone = 'Asia/Kolkata'; "
                    + "INSERT INTO events VALUES ('2026-12-05 10:00:00.123456+00', 1, 'x')");
            assertEquals("true|1", src.scalar(
                    "SELECT (at = '2026-12-05 10:00:00.123456+00') || '|' || n FROM ibex.delta_public_events"));
            assertEquals("2", src.scalar("SELECT count(*) FROM ibex.log WHERE k1 IS NULL"),
                    "a row in the shared log finds the table");
            assertEquals("{at,n}|{\"timestamp with time zone\",integer}|delta_public_events",
                    src.scalar("SELECT keycols::text || '|' || keytypes::text || '|' || delta FROM ibex.captured "
                            + "WHERE tablename = 'events'"));
            assertEquals("0", dst.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"),
                    "nothing is created on a target");
        }
    }

    /** Capture installed before ibex.log had ts and origin gets them, with the rows logged before kept. */
    @Test
    void captureFromBeforeChangeTimesGetsThemInPlace() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v text)",
                "CREATE TABLE e (at timestamp PRIMARY KEY, v text)");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            Model m = set.model();
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id"), m.table("src", "public", "e", "at")),
                    "src", "dst").capture("src");
            src.exec("ALTER TABLE ibex.log DROP COLUMN ts, DROP COLUMN origin",
                    "ALTER TABLE ibex.truncate_log DROP COLUMN origin",
                    "ALTER TABLE ibex.delta_public_e DROP COLUMN ibex_ts, DROP COLUMN ibex_origin",
                    "INSERT INTO t VALUES (1, 'logged before')", "INSERT INTO e VALUES ('2026-12-05 10:00', 'e')");
            m.capture("src");
            assertEquals("2", src.scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = 'ibex.log'::regclass "
                    + "AND attname IN ('ts', 'origin')"));
            assertEquals("2", src.scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = 'ibex.delta_public_e'::regclass "
                    + "AND attname IN ('ibex_ts', 'ibex_origin')"));
            assertEquals("1", src.scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = 'ibex.truncate_log'::regclass "
                    + "AND attname = 'origin'"));
            src.exec("INSERT INTO t VALUES (2, 'logged after')");
            assertEquals("good", runner.runOnce("s1").state());
            set.assertSameRows("t", "id");
            set.assertSameRows("e", "at");
        }
    }

    @Test
    void reconcileOfCaptureInPlaceTakesNoLockSoWritersGoOn() throws Exception {
        try (ReplicaSet set = ReplicaSet.create()) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)");
            m.sync("s1", true, List.of(m.table("src", "public", "a", "id"), m.table("src", "public", "b", "id")),
                    "src", "dst").capture("src");
            try (Connection writer = src.connect()) {
                writer.setAutoCommit(false);
                try (Statement st = writer.createStatement()) {
                    st.execute("INSERT INTO b VALUES (1)"); // holds locks on b and its delta table
                    // a reconcile that asked for b's lock would queue behind this open writer until its
                    // deadline and fail, naming b busy: that it returns is the proof, however slow the machine
                    assertDoesNotThrow(() -> m.capture("src"), "reconcile asked for the writer's locks");
                    st.execute("INSERT INTO a VALUES (1)");
                }
                writer.commit();
            }
            assertEquals("1", src.scalar("SELECT count(*) FROM a"));
        }
    }

    @Test
    void reconcileIsIdempotentAndRemovalLeavesNothing() {
        try (ReplicaSet set = ReplicaSet.create()) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            String longName = "t".repeat(40) + "_" + "u".repeat(22);
            assertEquals(63, longName.length());
            src.exec("CREATE SCHEMA \"Odd Schema\"",
                    "CREATE TABLE \"Odd Schema\".\"to\" (\"to\" int PRIMARY KEY, \"Mixed \"\"q\"\" col\" text)",
                    "CREATE TABLE public.\"" + longName + "\" (id bigint PRIMARY KEY)",
                    "CREATE TABLE public.\"" + longName.substring(0, 62) + "x\" (id bigint PRIMARY KEY)");
            String before = src.scalar(OBJECTS);
            m.sync("s1", true, List.of(m.table("src", "Odd Schema", "to", "to"),
                    m.table("src", "public", longName, "id"),
                    m.table("src", "public", longName.substring(0, 62) + "x", "id")), "src", "dst");
            m.capture("src");
            String once = src.scalar(OBJECTS);
            m.capture("src");
            assertEquals(once, src.scalar(OBJECTS));
            List<String> names = src.column("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace "
                    + "WHERE nspname = 'ibex' UNION ALL SELECT proname FROM pg_proc p JOIN pg_namespace n "
                    + "ON n.oid = pronamespace WHERE nspname = 'ibex'");
            assertEquals("3", src.scalar("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = pronamespace "
                    + "WHERE nspname = 'ibex' AND proname LIKE 'capture\\_%'"), names.toString());
            for (String n : names) {
                assertTrue(n.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 63, n);
            }
            // the row trigger logs keys, for an ordinary user too
            String app = "app_" + src.name();
            src.exec("CREATE ROLE " + app + " LOGIN", "GRANT USAGE ON SCHEMA \"Odd Schema\" TO " + app,
                    "GRANT INSERT, UPDATE, DELETE, SELECT ON \"Odd Schema\".\"to\" TO " + app);
            try (Connection appConn = src.connect(app, ""); Statement ast = appConn.createStatement()) {
                ast.execute("INSERT INTO \"Odd Schema\".\"to\" VALUES (7, 'seven')");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
            assertEquals("7", src.scalar("SELECT k1 FROM ibex.log l JOIN ibex.captured c ON c.tab = l.tab "
                    + "WHERE c.tablename = 'to'"));

            m.dropSync("s1", "src");
            assertEquals(before, src.scalar(OBJECTS));
            assertEquals("0", m.repoDb().scalar("SELECT count(*) FROM ibex.sync_state"));
            assertEquals("", dst.scalar(OBJECTS));
            src.exec("DROP OWNED BY " + app, "DROP ROLE " + app);
        }
    }

    @Test
    void schemaSharedWithTheRepositoryIsKept() {
        try (Model m = Model.create()) {
            TestDb same = m.repoDb();
            TestDb dst = PgServers.target();
            same.exec("CREATE TABLE public.items (id int PRIMARY KEY)");
            dst.exec("CREATE TABLE public.items (id int PRIMARY KEY)");
            m.db("src", same).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "items", "id")), "src", "dst").capture("src");
            assertEquals("1", same.scalar("SELECT count(*) FROM pg_trigger WHERE tgname IN ('ibex_capture', 'ibex_rows')"));
            m.dropSync("s1", "src");
            assertEquals("0", same.scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ibex%'"));
            assertEquals("0", same.scalar("SELECT count(*) FROM pg_class WHERE relname LIKE 'delta%'"));
            assertEquals("5", same.scalar("SELECT count(*) FROM ibex.schema_version"), "the repository survives");
        }
    }

    @Test
    void busyTableIsNamedAndNothingChanges() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        src.exec("CREATE TABLE busy (id int PRIMARY KEY)");
        String before = src.scalar(OBJECTS);
        try (Model m = Model.create(); Connection locker = src.connect(); Statement st = locker.createStatement()) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "busy", "id")), "src", "dst");
            locker.setAutoCommit(false);
            st.execute("LOCK TABLE busy IN ROW EXCLUSIVE MODE");
            IbexException e = assertThrows(IbexException.class, () -> Capture.reconcile(m.repo(), m.dbRow("src")));
            assertTrue(e.getMessage().startsWith("Table public.busy on db \"src\" is busy"), e.getMessage());
            assertTrue(e.getMessage().contains("retry when it is quieter"), e.getMessage());
            locker.rollback();
            assertEquals(before, src.scalar(OBJECTS));
        }
    }

    /**
     * Two writers that keep a table locked back to back, so that some writer always holds it: a
     * NOWAIT lock alone never gets it. Capture gets it all the same, and no writer fails for it.
     */
    @Test
    void tableWrittenBackToBackIsCapturedAndItsWritersGoOn() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        src.exec("CREATE TABLE hot (id serial PRIMARY KEY)");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong commits = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        List<Thread> writers = new ArrayList<>();
        for (String hold : List.of("0.04", "0.045")) {
            Thread t = new Thread(() -> {
                try (Connection c = src.connect(); Statement st = c.createStatement()) {
                    c.setAutoCommit(false);
                    while (!stop.get()) {
                        st.execute("INSERT INTO hot DEFAULT VALUES");
                        st.execute("SELECT pg_sleep(" + hold + ")");
                        c.commit();
                        commits.incrementAndGet();
                    }
                } catch (Exception e) {
                    failure.set(e);
                }
            }, "hot-writer-" + hold);
            writers.add(t);
            t.start();
        }
        try (Model m = Model.create()) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "hot", "id")), "src", "dst");
            Capture.reconcile(m.repo(), m.dbRow("src"));
            long after = commits.get() + 10;
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (commits.get() < after && failure.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
        }
        assertEquals(null, failure.get(), "a writer failed");
        assertTrue(commits.get() >= 10, "writers went on");
        assertEquals("t", src.scalar("SELECT count(*) > 0 FROM pg_trigger WHERE tgrelid = 'hot'::regclass AND tgname LIKE 'ibex%'"));
        assertTrue(Long.parseLong(src.scalar("SELECT count(*) FROM ibex.log")) >= 10, "rows written since were logged");
    }

    @Test
    void missingTableIsBadInput() {
        try (ReplicaSet set = ReplicaSet.create()) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("CREATE TABLE here (id int PRIMARY KEY)");
            int id = m.table("src", "public", "here", "id");
            src.exec("DROP TABLE here");
            m.sync("s1", false, List.of(id), "src", "dst");
            IbexException e = assertThrows(IbexException.class, () -> Capture.reconcile(m.repo(), m.dbRow("src")));
            assertEquals(IbexException.BAD_INPUT, e.exitCode());
            assertTrue(e.getMessage().contains("Table public.here does not exist on db \"src\""), e.getMessage());
            assertEquals("0", src.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
        }
    }
}
