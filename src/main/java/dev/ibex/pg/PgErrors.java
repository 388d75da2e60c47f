package dev.ibex.pg;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Turns pgjdbc's exceptions into one line naming the database, the cause and the fix. */
public final class PgErrors {

    private PgErrors() {
    }

    public static IbexException connectFailed(ConnectionSpec spec, SQLException e) {
        String what = "Cannot connect to " + spec.label() + " at " + spec.hostPort();
        String message = SqlState.of(e.getSQLState()).map(s -> refused(spec, what, s))
                .orElseGet(() -> unreached(spec, what, e));
        return new IbexException(ExitCode.DATABASE, message, null, e);
    }

    /** Why the server refused the connection and what to change; null for a state it does not refuse with. */
    private static String refused(ConnectionSpec spec, String what, SqlState state) {
        return switch (state) {
            case INVALID_PASSWORD -> what + ": password authentication failed for user \"" + spec.user()
                    + "\": fix " + key(spec, "pass") + " (or ~/.pgpass / PGPASSWORD)";
            case INVALID_AUTHORIZATION -> what + ": the server refused user \"" + spec.user()
                    + "\": check that the role exists and pg_hba.conf lets it in";
            case INVALID_CATALOG_NAME -> what + ": database \"" + spec.dbname() + "\" does not exist: "
                    + ("repository".equals(spec.label()) ? "run 'ibex install' to create it, or point --db-name at it"
                            : "create it or fix dbname=");
            case TOO_MANY_CONNECTIONS -> what
                    + ": the server has too many connections: raise max_connections or retry later";
            case CANNOT_CONNECT_NOW -> what + ": the server is starting up or shutting down: retry in a moment";
            default -> null;
        };
    }

    /** The server could not be reached, or refused for a reason without advice here. */
    private static String unreached(ConnectionSpec spec, String what, SQLException e) {
        Throwable root = rootCause(e);
        if (root instanceof UnknownHostException) {
            return what + ": unknown host \"" + spec.host() + "\": fix " + key(spec, "host");
        } else if (root instanceof ConnectException) {
            return what + ": connection refused: is PostgreSQL running there and listening on TCP port "
                    + (spec.port() == null ? 5432 : spec.port()) + "? fix " + key(spec, "host") + " / " + key(spec, "port");
        } else if (root instanceof SocketTimeoutException) {
            return what + ": no answer within " + ConnectionSpec.CONNECT_TIMEOUT_SECONDS
                    + " s: check " + key(spec, "host") + ", " + key(spec, "port") + " and firewalls";
        }
        return what + ": " + firstLine(e.getMessage());
    }

    /** A failure while working in a database that we are connected to. */
    public static IbexException failed(String doing, SQLException e) {
        return new IbexException(ExitCode.DATABASE, failedLine(doing, e), null, e);
    }

    /**
     * One line for a log or a run's error: an IbexException's own words (and its cause line), else
     * the exception's class and message.
     */
    public static String describe(Throwable e) {
        if (e instanceof IbexException ie) {
            return ie.causeLine() == null ? ie.getMessage() : ie.getMessage() + " (" + ie.causeLine() + ")";
        }
        return e.getMessage() == null ? e.toString() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** As {@link #describe(Throwable)}, but a database error says what failed: "{doing} failed: {first line}". */
    public static String describe(String doing, Throwable e) {
        return e instanceof IbexException ? describe(e) : failedLine(doing, e);
    }

    /**
     * What to do about a failure: the kind of the first SQLSTATE in its causes; one without a
     * database error (an IbexException, a bug) needs a person.
     */
    public static SqlState.Kind kindOf(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SQLException se) {
                return SqlState.kindOf(se.getSQLState());
            }
        }
        return SqlState.Kind.NEEDS_A_PERSON;
    }

    private static String failedLine(String doing, Throwable e) {
        return doing + " failed: " + message(e);
    }

    /**
     * The server's error on one line with its DETAIL and HINT, which often say what to fix (the
     * key that already exists, the publication that forbids a DELETE); else the first line.
     */
    public static String message(Throwable e) {
        String line = firstLine(e.getMessage());
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
            ServerErrorMessage m = p.getServerErrorMessage();
            if (m.getDetail() != null && !line.contains(m.getDetail())) {
                line += " DETAIL: " + m.getDetail().replace('\n', ' ').trim();
            }
            if (m.getHint() != null && !line.contains(m.getHint())) {
                line += " HINT: " + m.getHint().replace('\n', ' ').trim();
            }
        }
        return line;
    }

    /** How the user sets a connection key: --db-host for the repository, host= for a db. */
    private static String key(ConnectionSpec spec, String name) {
        return "repository".equals(spec.label()) ? "--db-" + name : name + "=";
    }

    public static Throwable rootCause(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c;
    }

    public static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}
