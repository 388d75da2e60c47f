package dev.ibex.replicate;

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

/**
 * Threads that insert, update, delete and re-key rows of tables shaped (id int PRIMARY KEY, v int,
 * note text) on a source until stopped, some transactions staying open for a while.
 */
public final class Writers implements AutoCloseable {

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    private Writers() {
    }

    /** Starts {@code n} writers on {@code tables}; ids stay below {@code maxId}. */
    public static Writers start(TestDb db, int n, int maxId, String... tables) {
        Writers w = new Writers();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> w.write(db, maxId, tables), "writer-" + i);
            t.start();
            w.threads.add(t);
        }
        return w;
    }

    public long committed() {
        return committed.get();
    }

    /** Waits until at least {@code n} transactions committed. */
    public void awaitCommits(long n) throws InterruptedException {
        while (committed.get() < n && failure.get() == null) {
            Thread.sleep(5);
        }
    }

    /** Stops the writers and waits for them; rethrows what broke one. */
    public void stop() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("writer failed", failure.get());
        }
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void write(TestDb db, int maxId, String[] tables) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                try {
                    int statements = 1 + rnd.nextInt(4);
                    for (int i = 0; i < statements; i++) {
                        String t = tables[rnd.nextInt(tables.length)];
                        int id = rnd.nextInt(maxId);
                        switch (rnd.nextInt(5)) {
                            case 0 -> st.execute("INSERT INTO " + t + " VALUES (" + id + ", " + rnd.nextInt()
                                    + ", 'new') ON CONFLICT (id) DO NOTHING");
                            case 1 -> st.execute("UPDATE " + t + " SET v = v + 1, note = note || 'u' WHERE id = " + id);
                            case 2 -> st.execute("DELETE FROM " + t + " WHERE id = " + id);
                            case 3 -> st.execute("UPDATE " + t + " SET id = " + rnd.nextInt(maxId) + " WHERE id = " + id);
                            default -> st.execute("UPDATE " + t + " SET v = v - 1 WHERE id BETWEEN " + id + " AND "
                                    + (id + 20));
                        }
                    }
                    if (rnd.nextInt(10) == 0) {
                        Thread.sleep(rnd.nextInt(30)); // a transaction that stays open across a snapshot
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
