package dev.ibex.repository;

import java.util.Arrays;

/**
 * What the next run copies whole instead of applying changes, as ibex.sync.onetimecopy stores it
 * (Bucardo's numbers 0, 1 and 2). A run that copied on every db sets it back to {@link #NONE}.
 */
public enum OneTimeCopy {
    /** Apply changes only. */
    NONE(0, "No"),
    /** Replace every table of the sync on the targets with the source's rows. */
    REPLACE(1, "Yes (replace target tables)"),
    /** Copy only into the target tables that are empty (a target loaded beforehand keeps its rows). */
    EMPTY_TABLES(2, "Yes (empty target tables only)");

    private final int code;
    private final String text;

    OneTimeCopy(int code, String text) {
        this.code = code;
        this.text = text;
    }

    /** The number in ibex.sync.onetimecopy, onetimecopy= and `ibex status --json`. */
    public int code() {
        return code;
    }

    /** What `ibex status` shows. */
    public String text() {
        return text;
    }

    public boolean copies() {
        return this != NONE;
    }

    public static OneTimeCopy of(int code) {
        return Arrays.stream(values()).filter(c -> c.code == code).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("onetimecopy " + code + " is not 0, 1 or 2"));
    }
}
