package dev.ibex.status;

import dev.ibex.pg.SqlState;
import dev.ibex.repository.RunLog;

/**
 * The gauges of one sync as of the last scrape, from what `ibex status` reads. NaN where status
 * says unknown, so a graph shows a gap rather than a made-up zero.
 */
record SyncReading(double lagSeconds, double backlogRows, double lastGoodEpochSeconds, boolean failing,
                   boolean needsPerson, CopyDetail copy) {

    static final SyncReading UNKNOWN = new SyncReading(Double.NaN, Double.NaN, Double.NaN, false, false,
            CopyDetail.NONE);

    static SyncReading of(SyncStatus s) {
        RunLog.Entry good = s.lastGood();
        boolean failing = s.failing();
        return new SyncReading(
                s.lag() == null ? Double.NaN : s.lag().toMillis() / 1000.0,
                s.backlog() == null ? Double.NaN : s.backlog(),
                good == null ? Double.NaN : good.ended().toEpochMilli() / 1000.0,
                failing,
                paused(s) || s.needsAttention(),
                s.running() == null ? CopyDetail.NONE : CopyDetail.of(s.running().detail()));
    }

    /**
     * Its runs fail to connect: counting its backlog would wait for a connect timeout on every
     * scrape, and a slow scrape looks to Prometheus like a controller gone.
     */
    static boolean cutOff(SyncStatus s) {
        return s.failing() && SqlState.kindOf(s.lastBad().sqlstate()) == SqlState.Kind.CONNECTION;
    }

    /** Paused by someone: it stays so until someone resumes it. */
    private static boolean paused(SyncStatus s) {
        return s.paused();
    }
}
