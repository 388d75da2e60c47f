package dev.ibex.repository;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.Connectable;
import dev.ibex.pg.ConnectionSpec;
import java.util.Map;
import java.util.Properties;
import org.postgresql.jdbcurlresolver.PgServiceConfParser;

/** One named database connection, as stored in ibex.db. */
public record Db(String name, String dbname, String host, Integer port, String user, String password,
                 String conn, String service, String status) implements Connectable {

    public boolean active() {
        return "active".equals(status);
    }

    /** How to connect, with this process's environment; see {@link #spec(Map)}. */
    public ConnectionSpec spec() {
        return spec(System.getenv());
    }

    /**
     * How to connect. Each of host, port, user and password is taken, as libpq does, from the first
     * place that has it: this db's own value, its service in pg_service.conf, the environment
     * (PGHOST, PGPORT, PGUSER, PGPASSWORD; PGDATABASE for a missing dbname), then the default
     * (localhost, 5432, the operating-system user; the password from PGPASSFILE or ~/.pgpass).
     * Every value is taken on its own: a stored port counts whether or not a host is stored.
     *
     * @param env the environment variables to use (a map, so that tests need not change the real ones)
     */
    public ConnectionSpec spec(Map<String, String> env) {
        Properties svc = service == null ? new Properties() : serviceProperties();
        String h = first(host, svc.getProperty("PGHOST"), env(env, "PGHOST"), "localhost");
        Integer p = port;
        if (p == null) {
            p = portNumber(svc.getProperty("PGPORT"), "port in service \"" + service + "\" of pg_service.conf");
        }
        if (p == null) {
            p = portNumber(env(env, "PGPORT"), "PGPORT");
        }
        String d = first(dbname, svc.getProperty("PGDBNAME"), env(env, "PGDATABASE"), null);
        String u = first(user, svc.getProperty("user"), env(env, "PGUSER"), System.getProperty("user.name"));
        String pw = first(password, svc.getProperty("password"), env(env, "PGPASSWORD"), null);
        return new ConnectionSpec(name, h, p, d, u, pw, conn, service).withPgpass();
    }

    /** The settings of this db's service, or an error naming the service, the db and where to define it. */
    private Properties serviceProperties() {
        Properties p = PgServiceConfParser.getServiceProperties(service);
        if (p == null) {
            throw new IbexException(ExitCode.DATABASE, "Cannot connect to " + name + ": service \"" + service
                    + "\" is not defined (or its file has an unknown key) in pg_service.conf (PGSERVICEFILE, else "
                    + "~/.pg_service.conf, else PGSYSCONFDIR/pg_service.conf): add a [" + service + "] section there, "
                    + "or fix service=");
        }
        return p;
    }

    private Integer portNumber(String text, String from) {
        if (text == null) {
            return null;
        }
        try {
            int n = Integer.parseInt(text.trim());
            if (n < 1 || n > 65535) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IbexException(ExitCode.BAD_INPUT, "Cannot connect to " + name + ": " + from + " is \""
                    + text + "\", not a port number: fix it, or give the db its own port=");
        }
    }

    private static String first(String a, String b, String c, String d) {
        return a != null ? a : b != null ? b : c != null ? c : d;
    }

    private static String env(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v;
    }

    @Override
    public String toString() {
        return "Db[" + name + " dbname=" + dbname + " host=" + host + " port=" + port + " user=" + user + "]";
    }
}
