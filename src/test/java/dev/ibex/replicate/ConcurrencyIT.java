package dev.ibex.replicate;

import static dev.ibex.replicate.ReplicateIT.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Writers change the source (inserts, updates, deletes, key changes) while runs repeat. */
class ConcurrencyIT {

    @Test
    void concurrentWritersLoseNothing() throws Exception {
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        for (TestDb db : List.of(src, dst)) {
            db.exec("CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL, note text)",
                    "CREATE TABLE pair (a int, b int, v int, PRIMARY KEY (a, b))");
        }
        try (Model m = Model.create(); SyncRunner runner = new SyncRunner(m.repo())) {
            m.db("src", src).db("dst", dst);
            m.sync("s1", true, List.of(m.table("src", "public", "acct", "id"),
                    m.table("src", "public", "pair", "a", "b")), "src", "dst").capture("src");

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong committed = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                Thread t = new Thread(() -> write(src, stop, committed, failure), "writer-" + w);
                t.start();
                writers.add(t);
            }
            long until = System.nanoTime() + 5_000_000_000L;
            int runs = 0;
            while (System.nanoTime() < until) {
                SyncRunner.Result r = runner.runOnce("s1");
                assertTrue(!r.state().equals("bad"), r.toString());
                runs++;
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("writer failed", failure.get());
            }
            SyncRunner.Result last = runner.runOnce("s1");
            assertTrue(!last.state().equals("bad"), last.toString());
            assertTrue(runs > 3 && committed.get() > 100, runs + " runs, " + committed + " transactions");
            assertSameRows(src, dst, "acct", "id");
            assertSameRows(src, dst, "pair", "a, b");
            assertEquals("empty", runner.runOnce("s1").state());
        }
    }

    private static void write(TestDb db, AtomicBoolean stop, AtomicLong committed, AtomicReference<Throwable> failure) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                try {
                    int statements = 1 + rnd.nextInt(4);
                    for (int i = 0; i < statements; i++) {
                        int id = rnd.nextInt(500);
                        switch (rnd.nextInt(6)) {
                            case 0 -> st.execute("INSERT INTO acct VALUES (" + id + ", " + rnd.nextInt() + ", 'n') "
                                    + "ON CONFLICT (id) DO NOTHING");
                            case 1 -> st.execute("UPDATE acct SET v = v + 1, note = note || 'x' WHERE id = " + id);
                            case 2 -> st.execute("DELETE FROM acct WHERE id = " + id);
                            case 3 -> st.execute("UPDATE acct SET id = " + rnd.nextInt(1000) + " WHERE id = " + id);
                            case 4 -> st.execute("INSERT INTO pair VALUES (" + id % 20 + ", " + rnd.nextInt(20) + ", 1) "
                                    + "ON CONFLICT (a, b) DO UPDATE SET v = pair.v + 1");
                            default -> st.execute("UPDATE pair SET b = b + 100 WHERE a = " + id % 20 + " AND b < 20");
                        }
                    }
                    if (rnd.nextInt(10) == 0) {
                        Thread.sleep(rnd.nextInt(50)); // a transaction that stays open across a run
                    }
                    c.commit();
                    committed.incrementAndGet();
                } catch (SQLException e) {
                    c.rollback(); // unique violations and deadlocks between writers are expected
                }
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }
}
