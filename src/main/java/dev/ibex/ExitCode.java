package dev.ibex;

import java.util.Arrays;

/** The CLI's exit codes, as README.md's "Exit codes" documents them: scripts depend on the numbers. */
public enum ExitCode {
    /** Done. */
    OK(0),
    /** Unknown verb, option or object, duplicate name, invalid value; `kick S N` timed out. */
    BAD_INPUT(1),
    /** A sync run failed (`kick S N` printed KILLED!). */
    RUN_FAILED(2),
    /** A database could not be reached or refused the work. */
    DATABASE(3),
    /** A bug: run again with --debug and report the stack trace. */
    INTERNAL(4);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static ExitCode of(int code) {
        return Arrays.stream(values()).filter(c -> c.code == code).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no exit code " + code));
    }

    /** The graver of two, as a verb that did several things exits with. */
    public ExitCode worst(ExitCode other) {
        return other.code > code ? other : this;
    }
}
