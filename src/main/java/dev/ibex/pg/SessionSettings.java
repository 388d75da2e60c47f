package dev.ibex.pg;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The text dialect every ibex session speaks, so that keys and COPY rows read on a source mean the
 * same on a target: UTC timestamps, ISO dates, postgres intervals, every float digit, hex bytea
 * where the server has it (9.0; older servers write escape bytea, which every server reads).
 * And the isolation level that gives one snapshot per transaction on that server.
 */
public final class SessionSettings {

    private static final String ALWAYS = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET IntervalStyle = 'postgres'";

    private SessionSettings() {
    }

    /**
     * How long a statement of ibex's waits for one lock before it fails (9.3 on): a table a user
     * keeps locked fails the run with "lock timeout", which `ibex status` shows, and the run is
     * retried, instead of a run that waits silently.
     */
    public static final String LOCK_TIMEOUT = "10s";

    /**
     * The SET statements for a server of this version. The server's or role's statement_timeout
     * does not bind ibex (a one-time copy's COPY may take hours); waits for a lock are bounded by
     * {@link #LOCK_TIMEOUT} where the server has lock_timeout.
     */
    public static String forVersion(ServerVersion v) {
        String limits = "; SET statement_timeout = 0"
                + (v.has(SqlFeature.LOCK_TIMEOUT) ? "; SET lock_timeout = '" + LOCK_TIMEOUT + "'" : "");
        return v.has(SqlFeature.BYTEA_OUTPUT)
                ? ALWAYS + limits + "; SET extra_float_digits = 3; SET bytea_output = 'hex'"
                : ALWAYS + limits + "; SET extra_float_digits = 2";
    }

    /** A connection of its own, outside the pools, in the pools' dialect. */
    public static Connection connect(ConnectionSpec spec, String applicationName) throws SQLException {
        return applyOrClose(spec.connect(applicationName));
    }

    /** Sets the dialect on a new connection; closes it when that fails. */
    private static Connection applyOrClose(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(forVersion(ServerVersion.of(c)));
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** SET TRANSACTION's level for one snapshot per transaction: SERIALIZABLE before 9.1, where it is that level. */
    public static String snapshotIsolation(ServerVersion v) {
        return v.has(SqlFeature.REPEATABLE_READ) ? "REPEATABLE READ" : "SERIALIZABLE";
    }

    /** The same as a JDBC isolation level. */
    public static int snapshotIsolationLevel(ServerVersion v) {
        return v.has(SqlFeature.REPEATABLE_READ) ? Connection.TRANSACTION_REPEATABLE_READ
                : Connection.TRANSACTION_SERIALIZABLE;
    }

    /** Connections for a pool, each with the dialect of its own server set once, when it is opened. */
    static DataSource dataSource(String url, Properties props) {
        return new SessionDataSource(url, props);
    }

    /** A DataSource of pgjdbc connections to one URL, each given the session settings as it opens. */
    private static final class SessionDataSource implements DataSource {
        private final String url;
        private final Properties props;
        /** HikariCP sets it, and waits that long for connections being added when it shuts down. */
        private volatile int loginTimeoutSeconds;

        SessionDataSource(String url, Properties props) {
            this.url = url;
            this.props = props;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return applyOrClose(DriverManager.getConnection(url, props));
        }

        @Override
        public Connection getConnection(String user, String password) throws SQLException {
            throw new SQLFeatureNotSupportedException("the user is part of the db's settings");
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
            // pgjdbc logs through java.util.logging
        }

        @Override
        public void setLoginTimeout(int seconds) {
            loginTimeoutSeconds = seconds; // the connection's own timeout is connectTimeout, in the properties
        }

        @Override
        public int getLoginTimeout() {
            return loginTimeoutSeconds;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
