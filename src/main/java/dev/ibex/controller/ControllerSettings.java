package dev.ibex.controller;

import dev.ibex.repository.Repository;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The controller's timings, from ibex.config rows (seconds; `ibex set` writes them), else these
 * defaults. Read at start and on every reload.
 *
 * @param retryMin          first delay before a failed run is retried (kid_retry_min, 1 s)
 * @param retryMax          cap of that delay, doubling after each failure (kid_retry_max, 60 s)
 * @param purgeInterval     how often delta rows every consumer has applied are purged (purge_interval, 60 s)
 * @param trimInterval      how often old run rows are deleted (run_trim_interval, 600 s)
 * @param keepRuns          runs kept per sync (run_history_keep, 1000)
 * @param keepDays          days of runs kept (run_history_days, 7)
 * @param stopWait          how long a stopping controller waits for running batches (stop_timeout, 60 s)
 */
public record ControllerSettings(Duration retryMin, Duration retryMax, Duration purgeInterval, Duration trimInterval,
                                 int keepRuns, int keepDays, Duration stopWait) {

    public static final ControllerSettings DEFAULTS = new ControllerSettings(Duration.ofSeconds(1),
            Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(600), 1000, 7, Duration.ofSeconds(60));

    public static ControllerSettings read(Repository repo) {
        Map<String, String> rows = new HashMap<>();
        repo.list("SELECT name, setting FROM ibex.config", rs -> rows.put(rs.getString(1), rs.getString(2)));
        return new ControllerSettings(
                seconds(rows, "kid_retry_min", DEFAULTS.retryMin),
                seconds(rows, "kid_retry_max", DEFAULTS.retryMax),
                seconds(rows, "purge_interval", DEFAULTS.purgeInterval),
                seconds(rows, "run_trim_interval", DEFAULTS.trimInterval),
                (int) number(rows, "run_history_keep", DEFAULTS.keepRuns),
                (int) number(rows, "run_history_days", DEFAULTS.keepDays),
                seconds(rows, "stop_timeout", DEFAULTS.stopWait));
    }

    private static Duration seconds(Map<String, String> rows, String name, Duration fallback) {
        double s = number(rows, name, fallback.toMillis() / 1000.0);
        return s <= 0 ? fallback : Duration.ofMillis(Math.round(s * 1000));
    }

    private static double number(Map<String, String> rows, String name, double fallback) {
        String v = rows.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            org.slf4j.LoggerFactory.getLogger(ControllerSettings.class)
                    .warn("Setting {} = \"{}\" is not a number of seconds; using {}", name, v, fallback);
            return fallback;
        }
    }
}
