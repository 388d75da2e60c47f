package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.capture.ChangeLog;
import dev.ibex.capture.LoggedTable;
import dev.ibex.pg.DbPools;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ReplicateIT {

    static void bothExec(TestDb a, TestDb b, String... sql) {
        a.exec(sql);
        b.exec(sql);
    }

    @Test
    void insertsUpdatesDeletesKeyChangesAndTruncates() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE orders (a int, b text, v text, PRIMARY KEY (a, b))",
                    "CREATE TABLE items (id bigint PRIMARY KEY, n int)");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s1", true, List.of(m.table("src", "public", "orders", "a", "b"),
                    m.table("src", "public", "items", "id")), "src", "dst").capture("src");

            assertEquals("empty", runner.runOnce("s1").state());
            src.exec("INSERT INTO orders SELECT g, 'k' || g, 'v' || g FROM generate_series(1, 100) g",
                    "INSERT INTO items SELECT g, g FROM generate_series(1, 50) g");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertEquals(150, r.inserts());
            assertSameRows(src, dst, "orders", "a, b");
            assertSameRows(src, dst, "items", "id");

            src.exec("UPDATE orders SET v = 'changed' WHERE a % 3 = 0",
                    "DELETE FROM orders WHERE a % 5 = 0",
                    "UPDATE orders SET a = a + 1000 WHERE a % 7 = 0",
                    "UPDATE orders SET b = b || '!' WHERE a = 1",
                    "UPDATE items SET id = id + 100 WHERE id > 40",
                    "DELETE FROM items WHERE id < 5");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertNull(r.error());
            assertSameRows(src, dst, "orders", "a, b");
            assertSameRows(src, dst, "items", "id");
            assertEquals("empty", runner.runOnce("s1").state());

            src.exec("TRUNCATE items", "INSERT INTO items VALUES (7, 7)");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, dst, "items", "id");
            assertSameRows(src, dst, "orders", "a, b");
            assertEquals("1", m.repoDb().scalar("SELECT truncates FROM ibex.run WHERE id = " + r.runId()));
            assertEquals("good", m.repoDb().scalar("SELECT state FROM ibex.run WHERE id = " + r.runId()));
            assertEquals("set", m.repoDb().scalar("SELECT suppression FROM ibex.sync_state WHERE sync = 's1'"));
            assertEquals("0", dst.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
        }
    }

    @Test
    void everyTypeAndOddIdentifiers() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        boolean generated = Integer.parseInt(src.scalar("SHOW server_version_num")) >= 120000
                && Integer.parseInt(dst.scalar("SHOW server_version_num")) >= 120000;
        String longName = "l".repeat(63);
        // jsonb is 9.4 on: an older source keeps the document as text
        String doc = src.version().atLeast(90400) ? "jsonb" : "text";
        bothExec(src, dst, "CREATE DOMAIN code AS text CHECK (VALUE <> '')",
                "CREATE SCHEMA \"My Schema\"",
                "CREATE TABLE \"My Schema\".\"to\" (\"to\" code, \"Key \"\"2\"\"\" timestamptz, gone int, n numeric(30,10), "
                        + "b bytea, j " + doc + ", ia int[], ta text[], t text, u text, big text, ts timestamp, d date, "
                        + "iv interval, ok boolean, PRIMARY KEY (\"to\", \"Key \"\"2\"\"\"))"
                       ,
                "ALTER TABLE \"My Schema\".\"to\" DROP COLUMN gone",
                "CREATE TABLE \"" + longName + "\" (id numeric PRIMARY KEY, x text"
                        + (generated ? ", g text GENERATED ALWAYS AS (upper(x)) STORED" : "") + ")");
        String table = "\"My Schema\".\"to\"";
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "My Schema", "to", "to", "Key \"2\""),
                    m.table("src", "public", longName, "id")), "src", "dst").capture("src");
            src.exec("INSERT INTO " + table + " VALUES ('a', '2024-02-29 23:59:59.123456+05:30', 12345678901234567890.0123456789, "
                    + "'\\x00ff10'::bytea, '{\"k\": [1, \"two\", null], \"é\": \"\\u00e9\"}', '{1,NULL,3}', "
                    + "ARRAY['a b', E'c\\\\\"d', NULL], E'tab\\there\\nnew line\\\\back\\rcr', 'ünïcødé ✓ 日本 🐐', "
                    + "repeat('x', 1048576), '1999-12-31 23:59:59.999999', '0001-01-01', '1 year 2 mons -3 days 04:05:06.7', true)",
                    "INSERT INTO " + table + " (\"to\", \"Key \"\"2\"\"\") VALUES (E'odd\\tkey\\\\ \"q\" ''s', 'infinity')",
                    "INSERT INTO " + table + " (\"to\", \"Key \"\"2\"\"\", b) VALUES ('big', '2000-01-01', "
                            + "(SELECT string_agg(decode(md5(g::text), 'hex'), '') FROM generate_series(1, 65536) g))",
                    "INSERT INTO \"" + longName + "\" (id, x) VALUES (1.0, 'a'), (2.50, 'b'), (-0.001, NULL)");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, dst, table, "\"to\", \"Key \"\"2\"\"\"");
            assertSameRows(src, dst, "\"" + longName + "\"", "id");
            assertTrue(Long.parseLong(dst.scalar("SELECT sum(octet_length(big)) FROM " + table)) >= 1048576);

            src.exec("UPDATE " + table + " SET \"to\" = 'b', t = NULL WHERE \"to\" = 'a'",
                    "DELETE FROM \"" + longName + "\" WHERE id = 1",
                    "INSERT INTO \"" + longName + "\" (id, x) VALUES (1.00, 'again')",
                    "UPDATE \"" + longName + "\" SET x = 'changed' WHERE id = 2.5");
            r = runner.runOnce("s1");
            assertEquals("good", r.state(), r.toString());
            assertSameRows(src, dst, table, "\"to\", \"Key \"\"2\"\"\"");
            assertSameRows(src, dst, "\"" + longName + "\"", "id");
            if (generated) {
                assertEquals("CHANGED", dst.scalar("SELECT g FROM \"" + longName + "\" WHERE id = 2.5"));
            }
        }
    }

    @Test
    void aLongTransactionWithAnEarlyTxidIsNotLost() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        bothExec(src, dst, "CREATE TABLE t (id int PRIMARY KEY, v text)");
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo());
             Connection slow = src.connect(); Statement st = slow.createStatement()) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "dst").capture("src");
            slow.setAutoCommit(false);
            st.execute("SELECT txid_current()");
            st.execute("INSERT INTO t VALUES (1, 'slow')");
            src.exec("INSERT INTO t VALUES (2, 'fast')");
            assertEquals("good", runner.runOnce("s1").state());
            assertEquals(List.of("2"), dst.column("SELECT id FROM t ORDER BY id"));
            slow.commit();
            src.exec("INSERT INTO t VALUES (3, 'later')");
            assertEquals("good", runner.runOnce("s1").state());
            assertSameRows(src, dst, "t", "id");
            assertEquals("3", dst.scalar("SELECT count(*) FROM t"));
        }
    }

    /**
     * A delta table not yet analyzed looks like 200 keys to the planner: the key read must sort
     * (which spills past work_mem), never hash them (which cannot spill before PostgreSQL 13).
     */
    @Test
    void keysAreReadBySortNotByHashOnTheSource() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "dst").capture("src");
            src.exec("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100000) g");
            String prev = m.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's1'");
            List<String> plan = new ArrayList<>();
            try (Connection c = src.connect()) {
                c.setAutoCommit(false);
                LoggedTable t;
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT tab, schemaname, tablename, keycols, keytypes, delta FROM ibex.captured")) {
                    rs.next();
                    t = ChangeLog.loggedTable(rs);
                    st.execute(SourceBatch.SOURCE_PLANS);
                }
                for (String[] query : List.of(new String[] {ChangeLog.TOUCHED, "6"},
                        new String[] {ChangeLog.keysQuery(List.of(ChangeLog.keysSql(0, t, 1, false)), false), "3"})) {
                    try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + query[0])) {
                        // S_prev twice, then the reading sync's name (ChangeLog.notOwn)
                        for (int i = 1; i <= Integer.parseInt(query[1]); i++) {
                            ps.setString(i, i % 3 == 0 ? "s1" : prev);
                        }
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                plan.add(rs.getString(1));
                            }
                        }
                    }
                }
            }
            assertTrue(plan.stream().noneMatch(l -> l.contains("HashAggregate")), String.join("\n", plan));
            assertTrue(plan.stream().anyMatch(l -> l.contains("Sort")), String.join("\n", plan));
        }
    }

    @Test
    void aKeyWrittenIntoTheLogByHandIsNamedAndTheSyncHealsOnceItIsGone() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v text)");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "dst").capture("src");
            src.exec("INSERT INTO t VALUES (1, 'one')",
                    "INSERT INTO ibex.log (tab, k1) SELECT tab, 'not a number' FROM ibex.captured");
            SyncRunner.Result r = runner.runOnce("s1");
            assertEquals("bad", r.state(), r.toString());
            assertTrue(r.toString().contains("ibex.log on source db \"src\" holds a key that is not a value of its "
                    + "table's key type"), r.toString());
            assertEquals("0", dst.scalar("SELECT count(*) FROM t"));
            src.exec("DELETE FROM ibex.log WHERE k1 = 'not a number'");
            assertEquals("good", runner.runOnce("s1").state());
            assertSameRows(src, dst, "t", "id");
        }
    }

    @Test
    void backlogIsAppliedInBoundedSteps() throws InterruptedException {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        bothExec(src, dst, "CREATE TABLE t (id int PRIMARY KEY, v text)");
        try (Model m = Model.create(); DbPools pools = new DbPools();
             SyncRunner runner = new SyncRunner(m.repo(), pools).stepSize(10_000, 2)) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "dst").capture("src");
            src.exec("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 200000) g");
            assertEquals(200_000, Backlog.pending(m.repo(), pools, "s1"));
            List<String> details = new CopyOnWriteArrayList<>();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> OneTimeCopyIT.watch(m.repoDb(), details, watching), "watcher");
            watcher.start();
            SyncRunner.Result r;
            try {
                r = runner.runOnce("s1");
            } finally {
                watching.set(false);
                watcher.join();
            }
            assertEquals("good", r.state(), r.toString());
            assertTrue(details.stream().anyMatch(d -> d.matches("apply [1-9]\\d*0000/200000 keys.* \\(public\\.t\\)")),
                    details.toString());
            assertEquals(200_000, r.inserts());
            assertEquals("200000 keys in 10 steps", m.repoDb().scalar("SELECT detail FROM ibex.run WHERE id = " + r.runId()));
            assertSameRows(src, dst, "t", "id");
            assertEquals(0, Backlog.pending(m.repo(), pools, "s1"));
        }
    }
}
