package dev.ibex.config;

import java.util.List;

/**
 * Every setting ibex reads, defined once: its name (the YAML key and the long option), the
 * environment variable that may set it, its default and what it means.
 */
public enum Setting {
    DB_HOST("db-host", "IBEX_DB_HOST", null, "Host of the repository (control) database"),
    DB_PORT("db-port", "IBEX_DB_PORT", "5432", "Port of the repository database"),
    DB_NAME("db-name", "IBEX_DB_NAME", "ibex", "Name of the repository database"),
    DB_USER("db-user", "IBEX_DB_USER", null, "User for the repository database"),
    DB_PASS("db-pass", "IBEX_DB_PASS", null, "Password for the repository database (prefer ~/.pgpass)"),
    PIDDIR("piddir", "IBEX_PIDDIR", "/tmp/ibex", "Directory of the controller's pid file"),
    LOG_DIR("log-dir", "IBEX_LOG_DIR", "/tmp/ibex", "Directory of the controller's log file (ibex.log)"),
    LOG_LEVEL("log-level", "IBEX_LOG_LEVEL", "info", "Log level: error, warn, info, debug or trace"),
    METRICS_PORT("metrics-port", "IBEX_METRICS_PORT", null,
            "TCP port of the controller's Prometheus endpoint (/metrics); unset: no endpoint"),
    METRICS_ADDRESS("metrics-address", "IBEX_METRICS_ADDRESS", "127.0.0.1",
            "Address the metrics endpoint listens on (0.0.0.0: every interface)");

    private final String key;
    private final String env;
    private final String defaultValue;
    private final String description;

    Setting(String key, String env, String defaultValue, String description) {
        this.key = key;
        this.env = env;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public String key() {
        return key;
    }

    public String env() {
        return env;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    public static Setting byKey(String key) {
        for (Setting s : values()) {
            if (s.key.equals(key) || s.key.replace('-', '_').equals(key)) {
                return s;
            }
        }
        return null;
    }

    public static List<String> keys() {
        return java.util.Arrays.stream(values()).map(Setting::key).toList();
    }
}
