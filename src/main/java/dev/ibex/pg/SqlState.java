package dev.ibex.pg;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The SQLSTATEs ibex tells apart, each with what can be done about it, after pgjdbc's PSQLState
 * (connection errors are class 08) and Debezium's split of errors into retry and fail.
 */
public enum SqlState {
    INVALID_AUTHORIZATION("28000", Kind.NEEDS_A_PERSON,
            "let the user in: check that the role exists and pg_hba.conf admits it"),
    INVALID_PASSWORD("28P01", Kind.NEEDS_A_PERSON, "give the db its new password: ibex update db NAME pass=..."),
    INVALID_CATALOG_NAME("3D000", Kind.NEEDS_A_PERSON, "create the database, or fix it: ibex update db NAME dbname=..."),
    NOT_NULL_VIOLATION("23502", Kind.NEEDS_A_PERSON,
            "give the target's column a default, or drop it there if the source dropped it (ibex validate SYNC shows "
            + "what differs)"),
    UNIQUE_VIOLATION("23505", Kind.NEEDS_A_PERSON,
            "a target row holds a key the source gives another row: ibex compare SYNC --repair"),
    DEPENDENT_OBJECTS_STILL_EXIST("2BP01", Kind.NEEDS_A_PERSON, "drop or change what depends on the object named"),
    INSUFFICIENT_PRIVILEGE("42501", Kind.NEEDS_A_PERSON,
            "grant ibex's user what the error names (README: what ibex needs, by role)"),
    UNDEFINED_TABLE("42P01", Kind.NEEDS_A_PERSON,
            "create the table there with the source's columns (ibex validate SYNC shows what differs); if it had "
            + "rows, ibex compare SYNC --repair copies them in"),
    UNDEFINED_COLUMN("42703", Kind.NEEDS_A_PERSON,
            "add the column there as on the source (ibex validate SYNC shows what differs)"),
    /**
     * No space left on a device of the server (a table's tablespace, the data directory, temp
     * files): nothing ibex can do frees it, so it waits for a person, retrying until there is room.
     */
    DISK_FULL("53100", Kind.NEEDS_A_PERSON, "free disk space on that server (the error names the file, in its data "
            + "directory or a tablespace)"),
    /** Another session took the same locks in another order (a DBA's DDL, say): one of them is cancelled. */
    DEADLOCK_DETECTED("40P01", Kind.TRANSIENT, null),
    TOO_MANY_CONNECTIONS("53300", Kind.TRANSIENT, null),
    LOCK_NOT_AVAILABLE("55P03", Kind.TRANSIENT, null),
    QUERY_CANCELED("57014", Kind.TRANSIENT, null),
    /** The server ended the session: pg_terminate_backend, or a shutdown. */
    ADMIN_SHUTDOWN("57P01", Kind.CONNECTION, null),
    CRASH_SHUTDOWN("57P02", Kind.CONNECTION, null),
    CANNOT_CONNECT_NOW("57P03", Kind.TRANSIENT, null);

    /** What to do about an error. */
    public enum Kind {
        /** Trying again later may well work: the server was busy, starting or locked. */
        TRANSIENT,
        /** The connection broke or could not be made: reconnect, then try again. */
        CONNECTION,
        /** Trying again cannot help until someone changes a password, a grant, a table or a setting. */
        NEEDS_A_PERSON
    }

    private final String code;
    private final Kind kind;
    private final String fix;

    SqlState(String code, Kind kind, String fix) {
        this.code = code;
        this.kind = kind;
        this.fix = fix;
    }

    /**
     * What a person does about a failure of this state, for status; ibex retries by itself and
     * goes on once it is done. The generic advice for states without their own.
     */
    public static String fixFor(String code) {
        return of(code).map(s -> s.fix).filter(f -> f != null)
                .orElse("fix what the error names; ibex retries by itself and goes on once it is fixed");
    }

    /**
     * A failure ibex finds before PostgreSQL would (a missing table, no way to suppress triggers),
     * carrying the SQLSTATE PostgreSQL would give it, so the run records what kind of failure it is.
     */
    public IbexException refusal(String message) {
        return new IbexException(ExitCode.BAD_INPUT, message, null, new SQLException(message, code));
    }

    /** Whether a recorded run's SQLSTATE is one retrying cannot fix; a run without one is not. */
    public static boolean needsAPerson(String code) {
        return code != null && kindOf(code) == Kind.NEEDS_A_PERSON;
    }

    /** The five characters PostgreSQL reports, e.g. "42P01". */
    public String code() {
        return code;
    }

    public Kind kind() {
        return kind;
    }

    public boolean is(SQLException e) {
        return code.equals(e.getSQLState());
    }

    /** Class 22, data exception: a value that is not of its type (invalid text representation, say). */
    public static boolean isDataException(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("22");
    }

    public static Optional<SqlState> of(String code) {
        return Arrays.stream(values()).filter(s -> s.code.equals(code)).findFirst();
    }

    /** The SQLSTATE of the first database error among {@code e} and its causes; null when none has one. */
    public static String in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException se && se.getSQLState() != null) {
                return se.getSQLState();
            }
        }
        return null;
    }

    /**
     * What to do about {@code code}, also for states not listed here: class 08 (and pgjdbc's
     * errors without a state, which are I/O failures) and 57P0x (the server ended the session:
     * shutdown, pg_terminate_backend) are connection errors, class 40
     * (serialization failure, deadlock) and class 53 (insufficient resources) but disk full are
     * transient, the rest needs a person.
     */
    public static Kind kindOf(String code) {
        if (code == null) {
            return Kind.CONNECTION;
        }
        return of(code).map(SqlState::kind).orElseGet(() -> {
            if (code.startsWith("08") || code.startsWith("57P0")) {
                return Kind.CONNECTION; // 57P01, 57P02, 57P05: the server ended the session
            }
            return code.startsWith("40") || code.startsWith("53") ? Kind.TRANSIENT : Kind.NEEDS_A_PERSON;
        });
    }
}
