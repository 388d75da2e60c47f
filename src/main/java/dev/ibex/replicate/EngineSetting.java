package dev.ibex.replicate;

import dev.ibex.repository.Repository;
import org.slf4j.LoggerFactory;

/**
 * Settings of the replication engine, kept as rows of ibex.config (name, setting) and read at the
 * start of every run, so a change takes effect on the next run without a restart.
 */
public enum EngineSetting {
    COPY_PARALLEL("copy_parallel", 2, 1, 16, "How many tables a one-time copy or a fullcopy run moves at the same "
            + "time, each over its own source and target connections");

    private final String key;
    private final int defaultValue;
    private final int min;
    private final int max;
    private final String description;

    EngineSetting(String key, int defaultValue, int min, int max, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
        this.description = description;
    }

    public String key() {
        return key;
    }

    public int defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** The value in ibex.config, else the default; a value out of range is logged and replaced by the default. */
    public int read(Repository repo) {
        String v = repo.one("SELECT setting FROM ibex.config WHERE name = ?", rs -> rs.getString(1), key).orElse(null);
        if (v == null) {
            return defaultValue;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        LoggerFactory.getLogger(EngineSetting.class).warn("Setting {} = \"{}\" is not a whole number from {} to {}; "
                + "using {}", key, v, min, max, defaultValue);
        return defaultValue;
    }
}
