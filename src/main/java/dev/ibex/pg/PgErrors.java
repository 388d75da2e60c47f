package dev.ibex.pg;

import dev.ibex.IbexException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;

/** Turns pgjdbc's exceptions into one line naming the database, the cause and the fix. */
public final class PgErrors {

    private PgErrors() {
    }

    public static IbexException connectFailed(ConnectionSpec spec, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String what = "Cannot connect to " + spec.label() + " at " + spec.hostPort();
        String message = switch (state) {
            case "28P01" -> what + ": password authentication failed for user \"" + spec.user()
                    + "\": fix " + key(spec, "pass") + " (or ~/.pgpass / PGPASSWORD)";
            case "28000" -> what + ": the server refused user \"" + spec.user()
                    + "\": check that the role exists and pg_hba.conf lets it in";
            case "3D000" -> what + ": database \"" + spec.dbname() + "\" does not exist: "
                    + ("repository".equals(spec.label()) ? "run 'ibex install' to create it, or point --db-name at it"
                            : "create it or fix dbname=");
            case "53300" -> what + ": the server has too many connections: raise max_connections or retry later";
            case "57P03" -> what + ": the server is starting up or shutting down: retry in a moment";
            default -> {
                Throwable root = rootCause(e);
                if (root instanceof UnknownHostException) {
                    yield what + ": unknown host \"" + spec.host() + "\": fix " + key(spec, "host");
                } else if (root instanceof ConnectException) {
                    yield what + ": connection refused: is PostgreSQL running there and listening on TCP port "
                            + (spec.port() == null ? 5432 : spec.port()) + "? fix " + key(spec, "host") + " / " + key(spec, "port");
                } else if (root instanceof SocketTimeoutException) {
                    yield what + ": no answer within " + ConnectionSpec.CONNECT_TIMEOUT_SECONDS
                            + " s: check " + key(spec, "host") + ", " + key(spec, "port") + " and firewalls";
                }
                yield what + ": " + firstLine(e.getMessage());
            }
        };
        return new IbexException(IbexException.DATABASE, message, null, e);
    }

    /** A failure while working in a database that we are connected to. */
    public static IbexException failed(String doing, SQLException e) {
        return new IbexException(IbexException.DATABASE, doing + " failed: " + firstLine(e.getMessage()), null, e);
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
