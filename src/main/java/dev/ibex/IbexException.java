package dev.ibex;

/**
 * An error a user can act on: one line saying what is wrong and how to fix it, and the exit code
 * the CLI ends with. The optional cause line is printed indented below the message.
 */
public class IbexException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /*
     * The exit codes as numbers, for the callers that still pass an int (capture, being reworked
     * elsewhere) and for tests that compare numbers.
     */
    public static final int BAD_INPUT = ExitCode.BAD_INPUT.code();
    public static final int RUN_FAILED = ExitCode.RUN_FAILED.code();
    public static final int DATABASE = ExitCode.DATABASE.code();
    public static final int INTERNAL = ExitCode.INTERNAL.code();

    private final ExitCode exit;
    private final String causeLine;

    public IbexException(ExitCode exit, String message) {
        this(exit, message, null, null);
    }

    public IbexException(ExitCode exit, String message, String causeLine, Throwable cause) {
        super(message, cause);
        this.exit = exit;
        this.causeLine = causeLine;
    }

    public IbexException(int exitCode, String message) {
        this(ExitCode.of(exitCode), message);
    }

    public IbexException(int exitCode, String message, String causeLine, Throwable cause) {
        this(ExitCode.of(exitCode), message, causeLine, cause);
    }

    public static IbexException badInput(String message) {
        return new IbexException(ExitCode.BAD_INPUT, message);
    }

    public ExitCode exit() {
        return exit;
    }

    /** The number the CLI exits with. */
    public int exitCode() {
        return exit.code();
    }

    /** A short indented second line (the server's own words, say), or null. */
    public String causeLine() {
        return causeLine;
    }
}
