package dev.ibex.replicate;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One whole-table copy while it runs: rows and bytes so far, against the rows expected (the
 * source's count, or pg_class.reltuples for a large table; -1 when unknown), and the line
 * ibex.run.detail shows for it.
 */
final class CopyProgress {

    final String table;
    final long expected;
    final long started;
    private final AtomicLong rows = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    CopyProgress(String table, long expected, long startedNanos) {
        this.table = table;
        this.expected = expected;
        this.started = startedNanos;
    }

    void row(int length) {
        rows.incrementAndGet();
        bytes.addAndGet(length);
    }

    long rows() {
        return rows.get();
    }

    /** e.g. "copy public.orders 1200000/5000000 rows 42.1 MB/s ETA 01:31". */
    String line(long nowNanos) {
        return line(table, rows.get(), expected, bytes.get(), (nowNanos - started) / 1e9);
    }

    static String line(String table, long rows, long expected, long bytes, double seconds) {
        StringBuilder sb = new StringBuilder("copy ").append(table).append(' ').append(rows);
        if (expected >= 0) {
            sb.append('/').append(Math.max(expected, rows));
        }
        sb.append(" rows");
        if (seconds > 0.5) {
            sb.append(String.format(Locale.ROOT, " %.1f MB/s", bytes / seconds / 1e6));
            if (expected > rows && rows > 0) {
                sb.append(" ETA ").append(clock(Math.round((expected - rows) * seconds / rows)));
            }
        }
        return sb.toString();
    }

    /** 91 -> "01:31", 3725 -> "1:02:05". */
    static String clock(long seconds) {
        long h = seconds / 3600;
        long m = seconds % 3600 / 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%02d:%02d", m, s);
    }
}
