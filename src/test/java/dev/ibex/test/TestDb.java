package dev.ibex.test;

import dev.ibex.pg.ServerVersion;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** One test database on an embedded server, with helpers to run SQL and compare tables. */
public record TestDb(EmbeddedPostgres server, String host, int port, String name, String user) {

    public String url() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + name;
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url(), user, "");
    }

    public Connection connect(String asUser, String password) throws SQLException {
        return DriverManager.getConnection(url(), asUser, password);
    }

    /** Runs statements, each in its own autocommit transaction. */
    public void exec(String... sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + String.join("; ", sql), e);
        }
    }

    /** The version ibex takes this server for (a cross-version run may take 9.3.5 for 8.4). */
    public ServerVersion version() {
        return new ServerVersion(ServerVersion.assumed(Integer.parseInt(scalar("SHOW server_version_num"))));
    }

    public long count(String table) {
        return Long.parseLong(scalar("SELECT count(*) FROM " + table));
    }

    public String scalar(String sql) {
        List<String> rows = column(sql);
        return rows.isEmpty() ? null : rows.get(0);
    }

    public List<String> column(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql, e);
        }
    }

    /**
     * Row count and an md5 over every row's text, in key order: equal on two databases exactly when
     * the tables hold the same rows.
     */
    public String checksum(String table, String orderBy) {
        return scalar("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY " + orderBy
                + ")), '-') FROM " + table + " t");
    }

    /** The options that point the CLI at this database as its repository. */
    public String[] repositoryOptions() {
        return new String[] {"--db-host", host, "--db-port", Integer.toString(port), "--db-name", name,
            "--db-user", user};
    }

    /** key=value words for `ibex add db`. */
    public String[] dbWords() {
        return new String[] {"dbname=" + name, "host=" + host, "port=" + port, "user=" + user};
    }
}
