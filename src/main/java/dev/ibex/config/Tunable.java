package dev.ibex.config;

import dev.ibex.IbexException;
import dev.ibex.repository.Repository;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/**
 * Every setting kept in the repository (rows of ibex.config, written by `ibex set`), defined once:
 * name, default, allowed range and meaning. The controller reads them at start and on reload, the
 * engine at the start of every run.
 */
public enum Tunable {
    KID_RETRY_MIN("kid_retry_min", 1, 0.1, 3600, "seconds before a failed run is retried the first time"),
    KID_RETRY_MAX("kid_retry_max", 60, 0.1, 86400, "cap of that delay, which doubles after each failure (seconds)"),
    AUTOKICK_POLL("autokick_poll", 0.05, 0.001, 60, "how often the controller looks for committed changes on "
            + "each source that autokick syncs read (seconds); an idle source costs one tiny query per look"),
    PURGE_INTERVAL("purge_interval", 10, 1, 86400, "how often delta rows every target has applied are purged (seconds)"),
    RUN_TRIM_INTERVAL("run_trim_interval", 600, 1, 86400, "how often old run history is deleted (seconds)"),
    RUN_HISTORY_KEEP("run_history_keep", 1000, 1, 10_000_000, "runs kept per sync"),
    RUN_HISTORY_DAYS("run_history_days", 7, 1, 36500, "days of run history kept"),
    CONTROLLER_LEASE("controller_lease", 10, 2, 3600, "how long a controller that stopped beating its heartbeat "
            + "keeps its syncs before another controller on the repository takes them over (seconds)"),
    STOP_TIMEOUT("stop_timeout", 60, 1, 86400, "how long a stopping controller waits for running batches (seconds)"),
    COPY_PARALLEL("copy_parallel", 2, 1, 16, "tables a one-time copy or fullcopy moves at the same time, each over "
            + "its own source and target connections"),
    COPY_SPLIT_MB("copy_split_mb", 64, 0.1, 1_000_000, "tables this large (MB on the source) or larger are read in "
            + "parts by up to copy_parallel workers at once"),
    MODEL_LOCK_WAIT("model_lock_wait", 30, 0.1, 86400, "how long a command that changes what reads a source (add, "
            + "update, remove, reload) waits for a run of one of its syncs, or its purge, to end (seconds); then it "
            + "changes nothing and says which run held on");

    private final String key;
    private final double defaultValue;
    private final double min;
    private final double max;
    private final String description;

    Tunable(String key, double defaultValue, double min, double max, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
        this.description = description;
    }

    public String key() {
        return key;
    }

    public double defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    public static Tunable byKey(String key) {
        return Arrays.stream(values()).filter(t -> t.key.equalsIgnoreCase(key)).findFirst()
                .orElseThrow(() -> IbexException.badInput("Unknown setting \"" + key + "\": known settings are "
                        + Arrays.stream(values()).map(Tunable::key).collect(Collectors.joining(", "))));
    }

    /** The value as given, checked: a number within range, or an error that says which range. */
    public double parse(String value) {
        try {
            double n = Double.parseDouble(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw IbexException.badInput("Setting " + key + " must be a number from " + show(min) + " to " + show(max)
                + ", not \"" + value + "\"");
    }

    /** The value among the repository's rows, else the default; a bad row is logged and ignored. */
    public double read(Map<String, String> rows) {
        String v = rows.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            return parse(v);
        } catch (IbexException e) {
            LoggerFactory.getLogger(Tunable.class).warn("{}; using {}", e.getMessage(), show(defaultValue));
            return defaultValue;
        }
    }

    public double read(Repository repo) {
        return read(rows(repo));
    }

    public static Map<String, String> rows(Repository repo) {
        Map<String, String> rows = new HashMap<>();
        List<String[]> all = repo.list("SELECT name, setting FROM ibex.config",
                rs -> new String[] {rs.getString(1), rs.getString(2)});
        all.forEach(r -> rows.put(r[0], r[1]));
        return rows;
    }

    public static String show(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
