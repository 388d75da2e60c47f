package dev.ibex.capture;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The capture DDL files, read once. */
final class CaptureSql {

    private static final String FOLDER = "sql/capture/";

    private static final Map<String, SqlTemplate> CACHE = new ConcurrentHashMap<>();

    private CaptureSql() {
    }

    static SqlTemplate get(String name) {
        return CACHE.computeIfAbsent(name, n -> new SqlTemplate(FOLDER + n));
    }

    static String schema() {
        return get("schema.sql").text();
    }

    static String namespace() {
        return get("namespace.sql").text();
    }

    static String plpgsql() {
        return get("plpgsql.sql").text();
    }

    static SqlTemplate deltaTable() {
        return get("delta_table.sql");
    }

    static SqlTemplate truncateTrigger() {
        return get("truncate_trigger.sql");
    }

    static SqlTemplate dropTable() {
        return get("drop_table.sql");
    }

    static SqlTemplate dropTriggers() {
        return get("drop_triggers.sql");
    }

    static SqlTemplate dropDelta() {
        return get("drop_delta.sql");
    }

    static SqlTemplate dropSchema() {
        return get("drop_schema.sql");
    }
}
