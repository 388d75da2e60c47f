package dev.ibex.controller;

import dev.ibex.config.Tunable;
import dev.ibex.repository.Repository;
import java.time.Duration;
import java.util.Map;

/** The controller's timings (see {@link Tunable}), read at start and on every reload. */
public record ControllerSettings(Duration retryMin, Duration retryMax, Duration purgeInterval, Duration trimInterval,
                                 int keepRuns, int keepDays, Duration stopWait, Duration autokickPoll,
                                 Duration lease) {

    public static final ControllerSettings DEFAULTS = from(Map.of());

    public static ControllerSettings read(Repository repo) {
        return from(Tunable.rows(repo));
    }

    private static ControllerSettings from(Map<String, String> rows) {
        return new ControllerSettings(seconds(Tunable.KID_RETRY_MIN, rows), seconds(Tunable.KID_RETRY_MAX, rows),
                seconds(Tunable.PURGE_INTERVAL, rows), seconds(Tunable.RUN_TRIM_INTERVAL, rows),
                (int) Tunable.RUN_HISTORY_KEEP.read(rows), (int) Tunable.RUN_HISTORY_DAYS.read(rows),
                seconds(Tunable.STOP_TIMEOUT, rows), seconds(Tunable.AUTOKICK_POLL, rows),
                seconds(Tunable.CONTROLLER_LEASE, rows));
    }

    private static Duration seconds(Tunable t, Map<String, String> rows) {
        return Duration.ofMillis(Math.round(t.read(rows) * 1000));
    }
}
