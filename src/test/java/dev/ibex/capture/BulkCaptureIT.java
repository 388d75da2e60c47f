package dev.ibex.capture;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Statement-level capture (PostgreSQL 10+ sources): bulk statements replicate exactly, for keys in
 * the shared log and keys in a table's own delta table; partitions keep the row trigger.
 */
class BulkCaptureIT {

    private static final String TRIGGERS = """
            SELECT coalesce(string_agg(tgname, ',' ORDER BY tgname), '') FROM pg_trigger
            WHERE tgrelid = '%s'::regclass AND tgname LIKE 'ibex%%'""";

    private static final String STATEMENT_TRIGGERS = "ibex_delete,ibex_rows,ibex_truncate";

    /** A new source database; statement-level capture needs transition tables, so an older source skips the test. */
    private static TestDb tenPlusSource() {
        TestDb src = PgServers.source();
        assumeTrue(src.version().has(SqlFeature.TRANSITION_TABLES), "statement-level capture needs a 10+ source");
        return src;
    }

    @Test
    void bulkUpdatesInsertsAndDeletesReplicateExactly() {
        TestDb src = tenPlusSource();
        TestDb dst = PgServers.target();
        try (ReplicaSet set = ReplicaSet.on(src, dst, "CREATE TABLE orders (a int, b text, v int, PRIMARY KEY (a, b))",
                "CREATE TABLE events (at timestamptz, n int, v int, PRIMARY KEY (at, n))")) {
            set.sync("s1", "orders:a,b", "events:at,n");
            assertEquals(STATEMENT_TRIGGERS, src.scalar(TRIGGERS.formatted("orders")));
            assertEquals(STATEMENT_TRIGGERS, src.scalar(TRIGGERS.formatted("events")));
            assertEquals("empty", set.runner().runOnce("s1").state());

            src.exec("INSERT INTO orders SELECT g, 'k' || g % 7, g FROM generate_series(1, 20000) g",
                    "INSERT INTO events SELECT timestamptz '2026-01-01' + g * interval '1 s', g % 3, g "
                            + "FROM generate_series(1, 20000) g");
            set.goodRun("s1");
            assertSameRows(src, dst, "orders", "a, b");
            assertSameRows(src, dst, "events", "at, n");

            src.exec("UPDATE orders SET v = v + 1",
                    "UPDATE orders SET a = a + 100000 WHERE a % 3 = 0", // key changes, in bulk
                    "UPDATE orders SET b = b || '!', v = 0 WHERE a % 5 = 0",
                    "UPDATE events SET at = at + interval '1 day' WHERE n = 1",
                    "UPDATE events SET v = -v",
                    "DELETE FROM orders WHERE a % 2 = 0",
                    "DELETE FROM events WHERE n = 2",
                    "UPDATE orders SET v = 7 WHERE false", // no rows: nothing logged, nothing breaks
                    "INSERT INTO orders SELECT g, 'new', g FROM generate_series(20001, 25000) g");
            assertEquals("0", src.scalar("SELECT count(*) FROM ibex.log l JOIN ibex.captured c ON c.tab = l.tab "
                    + "WHERE c.tablename = 'orders' AND l.k1 IS NULL"), "keys of int and text go to the log");
            set.goodRun("s1");
            assertSameRows(src, dst, "orders", "a, b");
            assertSameRows(src, dst, "events", "at, n");

            src.exec("BEGIN; UPDATE orders SET a = -a WHERE a < 1000; UPDATE orders SET a = -a WHERE a < 0; "
                    + "DELETE FROM events WHERE n = 0; INSERT INTO events SELECT at, 0, 1 FROM events WHERE n = 1; COMMIT");
            set.goodRun("s1");
            assertSameRows(src, dst, "orders", "a, b");
            assertSameRows(src, dst, "events", "at, n");
            assertEquals("empty", set.runner().runOnce("s1").state());

            // upserts, and rows a foreign key's cascade changes
            src.exec("INSERT INTO orders SELECT g, 'new', -g FROM generate_series(24001, 26000) g "
                    + "ON CONFLICT (a, b) DO UPDATE SET v = excluded.v");
            set.goodRun("s1");
            assertSameRows(src, dst, "orders", "a, b");
        }
    }

    @Test
    void aSourceUpgradedTo10ChangesShapeInPlace() {
        TestDb src = tenPlusSource();
        TestDb dst = PgServers.target();
        String assumed = System.getProperty(ServerVersion.ASSUME, "");
        assumeTrue(assumed.isBlank(), "the test takes the source for 9.6 itself");
        try (ReplicaSet set = ReplicaSet.on(src, dst, "CREATE TABLE up (id int PRIMARY KEY, v int)")) {
            System.setProperty(ServerVersion.ASSUME, src.scalar("SHOW server_version_num") + "=90624");
            try {
                set.sync("s1", "up");
            } finally {
                System.setProperty(ServerVersion.ASSUME, assumed);
            }
            assertEquals("ibex_capture,ibex_truncate", src.scalar(TRIGGERS.formatted("up")));
            src.exec("INSERT INTO up SELECT g, g FROM generate_series(1, 100) g");
            String tab = src.scalar("SELECT tab FROM ibex.captured");
            set.model().capture("src"); // as a 10+ source
            assertEquals(STATEMENT_TRIGGERS, src.scalar(TRIGGERS.formatted("up")));
            assertEquals(tab, src.scalar("SELECT tab FROM ibex.captured"), "the same key keeps its number");
            assertEquals("1", src.scalar("SELECT count(*) FROM ibex.truncate_log"), "no copy of the whole table");
            src.exec("DELETE FROM up WHERE id % 2 = 0", "INSERT INTO up SELECT g, g FROM generate_series(101, 200) g");
            set.goodRun("s1");
            assertSameRows(src, dst, "up", "id");
        }
    }

    @Test
    void foreignKeyCascadesReachTheTransitionTables() {
        TestDb src = tenPlusSource();
        TestDb dst = PgServers.target();
        src.exec("CREATE TABLE cust (id int PRIMARY KEY)",
                "CREATE TABLE lines (cust int REFERENCES cust ON UPDATE CASCADE ON DELETE CASCADE, n int, "
                        + "PRIMARY KEY (cust, n))");
        dst.exec("CREATE TABLE lines (cust int, n int, PRIMARY KEY (cust, n))");
        try (ReplicaSet set = ReplicaSet.on(src, dst)) {
            set.sync("s1", "lines:cust,n");
            src.exec("INSERT INTO cust SELECT g FROM generate_series(1, 300) g",
                    "INSERT INTO lines SELECT c, n FROM generate_series(1, 300) c, generate_series(1, 10) n");
            set.goodRun("s1");
            src.exec("UPDATE cust SET id = id + 1000 WHERE id % 3 = 0", "DELETE FROM cust WHERE id % 3 = 1");
            set.goodRun("s1");
            assertSameRows(src, dst, "lines", "cust, n");
        }
    }

    @Test
    void partitionsKeepTheRowTriggerAndRecaptureFollowsTheKey() {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        // rows that move between partitions: 11+
        assumeTrue(src.version().atLeast(110000), "rows move between partitions from 11 on");
        try (ReplicaSet set = ReplicaSet.on(src, dst,
                "CREATE TABLE parted (id int, part int, v int, PRIMARY KEY (id, part)) PARTITION BY LIST (part)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)",
                "CREATE TABLE plain (id int PRIMARY KEY, other int NOT NULL UNIQUE, v int)")) {
            Model m = set.model();
            int plain = m.table("src", "public", "plain", "id");
            // a statement on the parent fires no statement trigger of a partition: partitions keep the row trigger
            m.sync("s1", false, List.of(m.table("src", "public", "parted_1", "id", "part"),
                    m.table("src", "public", "parted_2", "id", "part"), plain), "src", "dst").capture("src");
            assertEquals("ibex_capture,ibex_truncate", src.scalar(TRIGGERS.formatted("parted_1")));
            assertEquals(STATEMENT_TRIGGERS, src.scalar(TRIGGERS.formatted("plain")));
            src.exec("INSERT INTO parted SELECT g, 1 + g % 2, g FROM generate_series(1, 1000) g",
                    "INSERT INTO plain SELECT g, g, g FROM generate_series(1, 1000) g");
            set.goodRun("s1");
            src.exec("UPDATE parted SET part = 3 - part WHERE id % 4 = 0", // rows move between partitions
                    "UPDATE parted SET v = 0");
            set.goodRun("s1");
            assertSameRows(src, dst, "parted_1", "id, part");
            assertSameRows(src, dst, "parted_2", "id, part");

            // the same table under another key: the function logs the new key
            m.sql("UPDATE ibex.relation SET keycols = '{other}' WHERE id = ?", plain);
            m.capture("src");
            assertEquals(STATEMENT_TRIGGERS, src.scalar(TRIGGERS.formatted("plain")));
            assertEquals("t", src.scalar("SELECT prosrc ~ 'o\\.\"?other\"?::text' FROM pg_proc "
                    + "WHERE proname = 'capture_public_plain'"));
            src.exec("UPDATE plain SET other = other + 5000 WHERE id % 2 = 0", "UPDATE plain SET id = id + 5000 WHERE id < 10");
            set.goodRun("s1");
            assertSameRows(src, dst, "plain", "id");

            // a trigger disabled by hand is put back
            src.exec("ALTER TABLE plain DISABLE TRIGGER ibex_delete");
            m.capture("src");
            assertEquals("0", src.scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ibex%' AND tgenabled = 'D'"));
            m.dropSync("s1", "src");
            assertEquals("", src.scalar(TRIGGERS.formatted("plain")));
            assertEquals("", src.scalar(TRIGGERS.formatted("parted_1")));
        }
    }
}
