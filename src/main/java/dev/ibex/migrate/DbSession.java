package dev.ibex.migrate;

import dev.ibex.pg.Catalog;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** One open connection to a replicated db, with the few server facts the checks keep asking for. */
public final class DbSession implements AutoCloseable {

    private final Db db;
    private final Connection connection;
    private final int versionNum;
    private final String user;
    private final boolean superuser;

    private DbSession(Db db, Connection connection) throws SQLException {
        this.db = db;
        this.connection = connection;
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int, current_user, "
                     + "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)")) {
            rs.next();
            this.versionNum = rs.getInt(1);
            this.user = rs.getString(2);
            this.superuser = rs.getBoolean(3);
        }
    }

    /** Connects, or throws the one-line IbexException of ConnectionSpec.connect. */
    public static DbSession open(Db db, String applicationName) {
        Connection c = db.spec().connect(applicationName);
        try {
            return new DbSession(db, c);
        } catch (SQLException e) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already failing
            }
            throw PgErrors.failed("Reading the server version of db \"" + db.name() + "\"", e);
        }
    }

    public Db db() {
        return db;
    }

    public String name() {
        return db.name();
    }

    public Connection connection() {
        return connection;
    }

    public int versionNum() {
        return versionNum;
    }

    /** The version ibex's SQL is chosen by (a test may make a server look older, see ServerVersion). */
    public ServerVersion serverVersion() {
        return new ServerVersion(ServerVersion.assumed(versionNum));
    }

    /** The major version as a comparable number: 9.6 -> 906, 17.2 -> 1700. */
    public int major() {
        return major(versionNum);
    }

    public static int major(int versionNum) {
        return versionNum >= 100000 ? versionNum / 10000 * 100 : versionNum / 100;
    }

    /** 906 -> "9.6", 1700 -> "17". */
    public static String majorText(int major) {
        return major >= 1000 ? Integer.toString(major / 100) : major / 100 + "." + major % 100;
    }

    public String version() {
        return majorText(major());
    }

    public String user() {
        return user;
    }

    public boolean superuser() {
        return superuser;
    }

    /** First column of each row, as text. */
    /** The columns of the relation with exactly this schema and name, or empty when there is none. */
    public Optional<List<Catalog.Column>> columns(String schema, String table) {
        return new Catalog(connection, name()).columns(schema, table);
    }

    public List<String> column(String sql, Object... params) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    public String scalar(String sql, Object... params) throws SQLException {
        List<String> rows = column(sql, params);
        return rows.isEmpty() ? null : rows.get(0);
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // closing anyway
        }
    }
}
