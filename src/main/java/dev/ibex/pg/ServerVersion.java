package dev.ibex.pg;

import dev.ibex.IbexException;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.PGConnection;

/**
 * A server's version as PostgreSQL numbers it (server_version_num: 8.4.1 = 80401, 17.2 = 170002),
 * read from the connection without a query. ibex reads sources from {@link #OLDEST} on.
 *
 * <p>For tests only, the system property {@value #ASSUME} ("90305=80400") makes ibex treat a
 * server of the first version as one of the second: the SQL chosen for 8.4 then runs for real on a
 * 9.3.5 server, the oldest binaries a registry ships.
 */
public record ServerVersion(int num) implements Comparable<ServerVersion> {

    public static final ServerVersion OLDEST = new ServerVersion(80400);
    /**
     * The oldest server ibex writes to: the apply's SQL runs from 8.4 on, but ending a lost
     * controller's sessions there (fencing) reads pg_stat_activity.pid, 9.2 on; 9.3 is the oldest
     * that tests write to for real (a target of the way back after cutover, a source among several).
     */
    public static final ServerVersion OLDEST_TARGET = new ServerVersion(90300);
    public static final String ASSUME = "ibex.assume-server-version";

    public static ServerVersion of(Connection c) throws SQLException {
        String text = c.unwrap(PGConnection.class).getParameterStatus("server_version");
        return new ServerVersion(assumed(org.postgresql.core.ServerVersion.from(text).getVersionNum()));
    }

    /** The version ibex treats a server of this real version as: itself, unless a test said otherwise. */
    public static int assumed(int real) {
        return assumed(real, System.getProperty(ASSUME));
    }

    /** The same as {@link #of}, for callers that report an unreadable version as a failure of this db. */
    public static ServerVersion of(Connection c, String label) {
        try {
            return of(c);
        } catch (SQLException e) {
            throw PgErrors.failed("Reading the server version of db \"" + label + "\"", e);
        }
    }

    /** {@code real}, or the version {@code mapping} ("90305=80400,90503=90100") makes of it. */
    public static int assumed(int real, String mapping) {
        if (mapping == null || mapping.isBlank()) {
            return real;
        }
        for (String pair : mapping.split(",")) {
            String[] kv = pair.trim().split("=");
            if (kv.length == 2 && Integer.parseInt(kv[0].trim()) == real) {
                return Integer.parseInt(kv[1].trim());
            }
        }
        return real;
    }

    public boolean has(SqlFeature f) {
        return num >= f.since();
    }

    public boolean atLeast(int versionNum) {
        return num >= versionNum;
    }

    /** "8.4", "9.6", "17". */
    public String majorText() {
        return num >= 100000 ? Integer.toString(num / 10000) : (num / 10000) + "." + (num / 100 % 100);
    }

    /** Refuses a source older than {@link #OLDEST} in one line. */
    public void requireSupportedSource(String db) {
        if (num < OLDEST.num) {
            throw IbexException.badInput("Db \"" + db + "\" runs PostgreSQL " + majorText() + ", older than "
                    + OLDEST.majorText() + ", the oldest source ibex supports: upgrade it to 8.4 first (pg_dump "
                    + "and restore, or Bucardo 4), then replicate from there");
        }
    }

    @Override
    public int compareTo(ServerVersion o) {
        return Integer.compare(num, o.num);
    }

    @Override
    public String toString() {
        return majorText();
    }
}
