package dev.ibex.controller;

import dev.ibex.pg.PgErrors;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's periodic duties: checktime kicks, delta purge, run-history trimming. Timed by
 * the monotonic clock (a ScheduledThreadPoolExecutor waits by System.nanoTime), not the wall
 * clock: under Quartz, whose triggers fire at wall-clock times, a clock set back 2 hours stopped
 * every duty for 2 hours, so a sync woken by its checktime alone stood still (ClockJumpIT).
 */
final class Duties implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Duties.class);

    private final ScheduledThreadPoolExecutor executor;
    private final Map<String, ScheduledFuture<?>> scheduled = new ConcurrentHashMap<>();

    Duties() {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "ibex-duty-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        executor = new ScheduledThreadPoolExecutor(2, threads);
        executor.setRemoveOnCancelPolicy(true);
    }

    /**
     * Runs {@code duty} every {@code interval}, the first time one interval from now; replaces a
     * duty of that name. A duty never runs twice at once; one that overran its interval runs
     * again one interval after it ended, missed turns are skipped.
     */
    void every(String name, Duration interval, Runnable duty) {
        long millis = Math.max(1, interval.toMillis());
        Runnable guarded = () -> {
            try {
                duty.run();
            } catch (RuntimeException e) {
                log.warn("Duty {} failed: {}", name, PgErrors.describe(e));
            } catch (Error e) {
                // a periodic task that throws is never run again: log it and go on
                log.error("Duty {} failed: {}", name, e.toString());
            }
        };
        ScheduledFuture<?> old = scheduled.put(name,
                executor.scheduleWithFixedDelay(guarded, millis, millis, TimeUnit.MILLISECONDS));
        if (old != null) {
            old.cancel(false);
        }
    }

    void cancel(String name) {
        ScheduledFuture<?> f = scheduled.remove(name);
        if (f != null) {
            f.cancel(false);
        }
    }

    /** Stops the duties; waits up to a minute for those running to end. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                log.warn("Duties still running after 60 s: interrupting them");
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
