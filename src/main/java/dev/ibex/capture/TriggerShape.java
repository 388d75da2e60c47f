package dev.ibex.capture;

import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import java.util.List;

/**
 * How a table's changes reach the log: by a row trigger (every version), or on PostgreSQL 10+ by
 * a statement-level DELETE trigger with a transition table, one INSERT … SELECT per statement,
 * beside the row trigger for INSERT and UPDATE (statement_triggers.sql says why). Both
 * share the table's one function name, so a table can change shape in place; drop_triggers.sql
 * names the triggers of both.
 */
enum TriggerShape {

    ROW(List.of(Capture.CAPTURE_TRIGGER), "capture_function.sql", "delta_function.sql", "capture_trigger.sql"),
    STATEMENT(List.of("ibex_delete", "ibex_rows"), "statement_function.sql",
            "statement_delta_function.sql", "statement_triggers.sql");

    private final List<String> triggers;
    private final String logFunction;
    private final String deltaFunction;
    private final String triggerFile;

    TriggerShape(List<String> triggers, String logFunction, String deltaFunction, String triggerFile) {
        this.triggers = triggers;
        this.logFunction = logFunction;
        this.deltaFunction = deltaFunction;
        this.triggerFile = triggerFile;
    }

    /**
     * The shape for a table: statement-level where transition tables exist (10+) and the table is
     * a plain table no other table's statements reach. A statement on a parent fires no statement
     * trigger of its partitions or inheritance children, so partitioned tables, partitions and
     * children keep the row trigger.
     */
    static TriggerShape of(ServerVersion version, boolean standalone) {
        return version.has(SqlFeature.TRANSITION_TABLES) && standalone ? STATEMENT : ROW;
    }

    /** The change triggers of this shape (the truncate trigger is the same for both). */
    List<String> triggers() {
        return triggers;
    }

    SqlTemplate function(boolean ownDelta) {
        return CaptureSql.get(ownDelta ? deltaFunction : logFunction);
    }

    SqlTemplate triggerDdl() {
        return CaptureSql.get(triggerFile);
    }
}
