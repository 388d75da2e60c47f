package dev.ibex.repository;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Creates and upgrades the repository schema from the numbered files in sql/repository/. */
public final class RepositoryInstaller {

    static final String FOLDER = "sql/repository";

    private RepositoryInstaller() {
    }

    /** A numbered migration file, 001_repository.sql. */
    public record Migration(int version, String file) {
    }

    public static List<Migration> migrations() {
        List<Migration> out = new ArrayList<>();
        for (String f : SqlFiles.list(FOLDER)) {
            out.add(new Migration(Integer.parseInt(f.substring(0, f.indexOf('_'))), f));
        }
        return out;
    }

    public static int latestVersion() {
        List<Migration> m = migrations();
        return m.isEmpty() ? 0 : m.get(m.size() - 1).version();
    }

    /** The installed version, 0 when there is no repository in this database. */
    public static int installedVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT to_regclass('ibex.schema_version') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return 0;
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM ibex.schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Connects to the repository database, creating the database first when it is missing and the
     * user may create databases.
     *
     * @return the connection, and whether the database was created
     */
    public static Connection connectCreatingDatabase(ConnectionSpec spec, List<String> notes) {
        try {
            return spec.connect("ibex install");
        } catch (IbexException e) {
            if (!(e.getCause() instanceof SQLException se) || !SqlState.INVALID_CATALOG_NAME.is(se)) {
                throw e;
            }
        }
        ConnectionSpec maintenance = new ConnectionSpec(spec.label(), spec.host(), spec.port(), "postgres",
                spec.user(), spec.password(), spec.conn(), spec.service());
        try (Connection c = maintenance.connect("ibex install"); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + Identifiers.quote(spec.dbname()));
            notes.add("Created database \"" + spec.dbname() + "\"");
        } catch (SQLException e) {
            throw new IbexException(ExitCode.DATABASE, "Database \"" + spec.dbname() + "\" does not exist at "
                    + spec.hostPort() + " and user \"" + spec.user() + "\" cannot create it: "
                    + "run 'createdb " + spec.dbname() + "' as a user who may, or choose another --db-name",
                    PgErrors.firstLine(e.getMessage()), e);
        }
        return spec.connect("ibex install");
    }

    /** Applies every migration above the installed version in one transaction; returns those applied. */
    public static List<Migration> apply(Connection c, int fromVersion) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        List<Migration> applied = new ArrayList<>();
        try {
            for (Migration m : migrations()) {
                if (m.version() <= fromVersion) {
                    continue;
                }
                try (Statement st = c.createStatement()) {
                    st.execute(SqlFiles.read(FOLDER + "/" + m.file()));
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO ibex.schema_version (version, file) VALUES (?, ?)")) {
                    ps.setInt(1, m.version());
                    ps.setString(2, m.file());
                    ps.executeUpdate();
                }
                applied.add(m);
            }
            c.commit();
            return applied;
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }
}
