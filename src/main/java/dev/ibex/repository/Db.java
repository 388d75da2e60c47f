package dev.ibex.repository;

import dev.ibex.pg.ConnectionSpec;

/** One named database connection, as stored in ibex.db. */
public record Db(String name, String dbname, String host, Integer port, String user, String password,
                 String conn, String service, String status) {

    public boolean active() {
        return "active".equals(status);
    }

    /** How to connect; PGHOST/PGPORT/PGUSER/PGPASSWORD and ~/.pgpass fill what is missing. */
    public ConnectionSpec spec() {
        String h = host != null ? host : env("PGHOST");
        Integer p = port;
        if (p == null && env("PGPORT") != null) {
            try {
                p = Integer.valueOf(env("PGPORT").trim());
            } catch (NumberFormatException e) {
                p = null;
            }
        }
        String u = user != null ? user : env("PGUSER");
        String pw = password != null ? password : env("PGPASSWORD");
        if (service == null) {
            h = h == null ? "localhost" : h;
            u = u == null ? System.getProperty("user.name") : u;
        }
        return new ConnectionSpec(name, h, p, dbname, u, pw, conn, service).withPgpass();
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : v;
    }

    @Override
    public String toString() {
        return "Db[" + name + " dbname=" + dbname + " host=" + host + " port=" + port + " user=" + user + "]";
    }
}
