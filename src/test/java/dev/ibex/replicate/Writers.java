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
 * Threads that change a source until stopped, in transactions of one to four statements, some of
 * them staying open for a while. Unique violations and deadlocks between writers roll back.
 */
public final class Writers implements AutoCloseable {

    /** The next statement of a transaction. */
    @FunctionalInterface
    public interface Workload {
        String statement(ThreadLocalRandom rnd);
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong reconnects = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    private Writers() {
    }

    /**
     * Starts {@code n} writers that insert, update, delete and re-key rows of {@code tables}, shaped
     * (id int PRIMARY KEY, v int, note text); ids stay below {@code maxId}.
     */
    public static Writers start(TestDb db, int n, int maxId, String... tables) {
        return start(db, n, 30, rnd -> {
            String t = tables[rnd.nextInt(tables.length)];
            int id = rnd.nextInt(maxId);
            return switch (rnd.nextInt(5)) {
                // no ON CONFLICT (9.5): old sources are written to as well; a lost race is a unique violation, rolled back
                case 0 -> "INSERT INTO " + t + " SELECT " + id + ", " + rnd.nextInt() + ", 'new' WHERE NOT EXISTS "
                        + "(SELECT 1 FROM " + t + " WHERE id = " + id + ")";
                case 1 -> "UPDATE " + t + " SET v = v + 1, note = note || 'u' WHERE id = " + id;
                case 2 -> "DELETE FROM " + t + " WHERE id = " + id;
                case 3 -> "UPDATE " + t + " SET id = " + rnd.nextInt(maxId) + " WHERE id = " + id;
                default -> "UPDATE " + t + " SET v = v - 1 WHERE id BETWEEN " + id + " AND " + (id + 20);
            };
        });
    }

    /** Starts {@code n} writers running {@code workload}; one transaction in ten stays open up to {@code holdMillis}. */
    public static Writers start(TestDb db, int n, int holdMillis, Workload workload) {
        return start(db, n, holdMillis, workload, false);
    }

    /**
     * As {@link #start(TestDb, int, int, Workload)}, but a writer whose connection breaks or cannot
     * be made (the server restarts) connects again, retrying every 100 ms until it can or is stopped.
     */
    public static Writers startReconnecting(TestDb db, int n, int holdMillis, Workload workload) {
        return start(db, n, holdMillis, workload, true);
    }

    private static Writers start(TestDb db, int n, int holdMillis, Workload workload, boolean reconnect) {
        Writers w = new Writers();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> w.write(db, holdMillis, workload, reconnect), "writer-" + i);
            t.start();
            w.threads.add(t);
        }
        return w;
    }

    public long committed() {
        return committed.get();
    }

    /** How many times a reconnecting writer lost its connection or could not make one. */
    public long reconnects() {
        return reconnects.get();
    }

    /** Waits until at least {@code n} transactions committed. */
    public void awaitCommits(long n) throws InterruptedException {
        while (committed.get() < n && failure.get() == null) {
            Thread.sleep(5);
        }
    }

    /** Writers a test started: a failed test leaves its own running, so each is stopped after the test. */
    public static final class Running {

        private final List<Writers> started = new ArrayList<>();

        public Writers keep(Writers w) {
            started.add(w);
            return w;
        }

        public void stopAll() {
            Writers.stopAll(started);
        }
    }

    /** Stops each, after a test: one that failed already, or fails to stop, has been reported. */
    public static void stopAll(Iterable<Writers> writers) {
        for (Writers w : writers) {
            try {
                w.stop();
            } catch (InterruptedException | AssertionError e) {
                // the test failed already, or reported it
            }
        }
    }

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

    private void write(TestDb db, int holdMillis, Workload workload, boolean reconnect) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        while (!stop.get()) {
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) {
                    try {
                        int statements = 1 + rnd.nextInt(4);
                        for (int i = 0; i < statements; i++) {
                            st.execute(workload.statement(rnd));
                        }
                        if (rnd.nextInt(10) == 0) {
                            Thread.sleep(rnd.nextInt(holdMillis)); // a transaction that stays open across a snapshot
                        }
                        c.commit();
                        committed.incrementAndGet();
                    } catch (SQLException e) {
                        if (reconnect && broken(c, e)) {
                            throw e;
                        }
                        c.rollback();
                    }
                }
            } catch (SQLException e) {
                if (!reconnect) {
                    failure.set(e);
                    return;
                }
                reconnects.incrementAndGet();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    failure.set(ie);
                    return;
                }
            } catch (Throwable t) {
                failure.set(t);
                return;
            }
        }
    }

    /** Whether the connection is gone: closed, or an error of connection (08) or of an operator/server (57P). */
    private static boolean broken(Connection c, SQLException e) throws SQLException {
        String state = e.getSQLState();
        return c.isClosed() || state != null && (state.startsWith("08") || state.startsWith("57P"));
    }
}
