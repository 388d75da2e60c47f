package dev.ibex.pg;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.postgresql.PGProperty;
import org.postgresql.jdbcurlresolver.PgPassParser;

/**
 * Where and as whom to connect to one database. {@link #toString()} never shows the password.
 *
 * @param label    what the user calls it: a db name from the repository, or "repository"
 * @param conn     extra libpq-style parameters, "sslmode=require connect_timeout=5"
 * @param service  a pg_service.conf service name
 */
public record ConnectionSpec(String label, String host, Integer port, String dbname, String user,
                             String password, String conn, String service) {

    public static final int CONNECT_TIMEOUT_SECONDS = 10;

    /** The same spec with the password taken from PGPASSFILE or ~/.pgpass when none was given. */
    public ConnectionSpec withPgpass() {
        if (password != null || host == null) {
            return this;
        }
        String p = PgPassParser.getPassword(host, port == null ? "5432" : port.toString(),
                dbname == null ? "*" : dbname, user == null ? "*" : user);
        return p == null ? this : new ConnectionSpec(label, host, port, dbname, user, p, conn, service);
    }

    /** Extra connection parameters as they may be shown: any password in them replaced by ***. */
    public static String maskPasswords(String conn) {
        return conn == null ? null : conn.replaceAll("(?i)(password\\s*=\\s*)\\S+", "$1***");
    }

    public String hostPort() {
        return (host == null ? "localhost" : host) + ":" + (port == null ? 5432 : port);
    }

    public String jdbcUrl() {
        StringBuilder url = new StringBuilder("jdbc:postgresql://");
        if (host != null) {
            url.append(host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host);
        }
        if (port != null) {
            url.append(':').append(port);
        }
        url.append('/');
        if (service != null) {
            // pgjdbc reads pg_service.conf only for a service named in the URL; what the spec gives beats it
            url.append("?service=").append(URLEncoder.encode(service, StandardCharsets.UTF_8));
        }
        return url.toString();
    }

    public Properties properties(String applicationName) {
        Properties p = new Properties();
        if (dbname != null) {
            PGProperty.PG_DBNAME.set(p, dbname);
        }
        if (user != null) {
            PGProperty.USER.set(p, user);
        }
        if (password != null) {
            PGProperty.PASSWORD.set(p, password);
        }
        PGProperty.APPLICATION_NAME.set(p, applicationName);
        PGProperty.CONNECT_TIMEOUT.set(p, CONNECT_TIMEOUT_SECONDS);
        PGProperty.TCP_KEEP_ALIVE.set(p, true);
        if (conn != null) {
            for (String pair : conn.trim().split("[\\s;&]+")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    p.setProperty(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
                }
            }
        }
        return p;
    }

    /** Opens a connection, or throws an error that names this database, the cause and the fix. */
    public Connection connect(String applicationName) {
        try {
            return DriverManager.getConnection(jdbcUrl(), properties(applicationName));
        } catch (SQLException e) {
            throw PgErrors.connectFailed(this, e);
        }
    }

    @Override
    public String toString() {
        return "db \"" + label + "\" (" + (service != null ? "service=" + service + " " : "")
                + "dbname=" + dbname + " host=" + hostPort() + " user=" + user + ")";
    }
}
