package dev.ibex;

/**
 * An error a user can act on: one line saying what is wrong and how to fix it, and the exit code
 * the CLI ends with. The optional cause line is printed indented below the message.
 */
public class IbexException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Exit codes, documented in README.md. */
    public static final int BAD_INPUT = 1;
    public static final int RUN_FAILED = 2;
    public static final int DATABASE = 3;
    public static final int INTERNAL = 4;

    private final int exitCode;
    private final String causeLine;

    public IbexException(int exitCode, String message) {
        this(exitCode, message, null, null);
    }

    public IbexException(int exitCode, String message, String causeLine, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
        this.causeLine = causeLine;
    }

    public static IbexException badInput(String message) {
        return new IbexException(BAD_INPUT, message);
    }

    public int exitCode() {
        return exitCode;
    }

    /** A short indented second line (the server's own words, say), or null. */
    public String causeLine() {
        return causeLine;
    }
}
