package dev.ibex.replicate;

import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Model;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** Writers change the source (inserts, updates, deletes, key changes) while runs repeat. */
class ConcurrencyIT {

    @Test
    void concurrentWritersLoseNothing() throws Exception {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL, note text)",
                        "CREATE TABLE pair (a int, b int, v int, PRIMARY KEY (a, b))");
             SyncRunner runner = new SyncRunner(set.model().repo())) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            m.sync("s1", true, List.of(m.table("src", "public", "acct", "id"),
                    m.table("src", "public", "pair", "a", "b")), "src", "dst").capture("src");

            Writers writers = Writers.start(src, 4, 50, ConcurrencyIT::statement);
            long until = System.nanoTime() + 5_000_000_000L;
            int runs = 0;
            while (System.nanoTime() < until) {
                SyncRunner.Result r = runner.runOnce("s1");
                assertTrue(!r.state().equals("bad"), r.toString());
                runs++;
            }
            writers.stop();
            SyncRunner.Result last = runner.runOnce("s1");
            assertTrue(!last.state().equals("bad"), last.toString());
            assertTrue(runs > 3 && writers.committed() > 100, runs + " runs, " + writers.committed() + " transactions");
            assertSameRows(src, dst, "acct", "id");
            assertSameRows(src, dst, "pair", "a, b");
            assertEquals("empty", runner.runOnce("s1").state());
        }
    }

    /** Changes to acct (including its key) and to pair, whose key is two columns. */
    private static String statement(ThreadLocalRandom rnd) {
        int id = rnd.nextInt(500);
        return switch (rnd.nextInt(6)) {
            case 0 -> "INSERT INTO acct VALUES (" + id + ", " + rnd.nextInt() + ", 'n') ON CONFLICT (id) DO NOTHING";
            case 1 -> "UPDATE acct SET v = v + 1, note = note || 'x' WHERE id = " + id;
            case 2 -> "DELETE FROM acct WHERE id = " + id;
            case 3 -> "UPDATE acct SET id = " + rnd.nextInt(1000) + " WHERE id = " + id;
            case 4 -> "INSERT INTO pair VALUES (" + id % 20 + ", " + rnd.nextInt(20) + ", 1) "
                    + "ON CONFLICT (a, b) DO UPDATE SET v = pair.v + 1";
            default -> "UPDATE pair SET b = b + 100 WHERE a = " + id % 20 + " AND b < 20";
        };
    }
}
