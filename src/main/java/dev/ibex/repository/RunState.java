package dev.ibex.repository;

import java.util.Locale;

/** The state of a run, as ibex.run.state stores it (the column's CHECK lists the same four). */
public enum RunState {
    /** Started and not ended yet: the column's default, so a run row is inserted in this state. */
    RUNNING,
    /** Ended having applied, copied or truncated something. */
    GOOD,
    /** Ended with nothing to do. */
    EMPTY,
    /** Ended with errors, which ibex.run.error holds. */
    BAD;

    private final String sql = name().toLowerCase(Locale.ROOT);

    /** The word in ibex.run.state, in `ibex status --json` and in the runner's result. */
    public String sql() {
        return sql;
    }

    public static RunState of(String sql) {
        return valueOf(sql.toUpperCase(Locale.ROOT));
    }

    public boolean failed() {
        return this == BAD;
    }

    /**
     * An empty run counts as good: status shows the newer of the two as the last good run, so a
     * sync with nothing to do does not look as if it had not run.
     */
    public RunState kind() {
        return this == EMPTY ? GOOD : this;
    }
}
