package dev.ibex.test;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A server of its own whose pg_hba.conf demands scram-sha-256 passwords from every role but
 * postgres (the embedded servers trust every local connection). postgres connects without a
 * password over 127.0.0.1; every other role needs its own.
 */
public final class ScramServer implements AutoCloseable {

    public static final String HOST = "127.0.0.1";

    private final EmbeddedPostgres server;

    private ScramServer(EmbeddedPostgres server) {
        this.server = server;
    }

    public static ScramServer start() {
        EmbeddedPostgres server = PgServers.dedicated("default");
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            Path hba;
            try (ResultSet rs = st.executeQuery("SHOW hba_file")) {
                rs.next();
                hba = Path.of(rs.getString(1));
            }
            assertTrue(Files.readString(hba).contains("trust"), "expected a trusting pg_hba.conf to start from");
            Files.writeString(hba, """
                    local all postgres trust
                    host  all postgres 127.0.0.1/32 trust
                    host  all postgres ::1/128 trust
                    local all all scram-sha-256
                    host  all all 127.0.0.1/32 scram-sha-256
                    host  all all ::1/128 scram-sha-256
                    """);
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set up the password server", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ScramServer(server);
    }

    public int port() {
        return server.getPort();
    }

    /** Runs statements as postgres in database {@code db} ("postgres" for the cluster's roles). */
    public void exec(String db, String... sql) {
        db(db).exec(sql);
    }

    /** A login role with a scram password. */
    public void role(String name, String password) {
        exec("postgres", "SET password_encryption = 'scram-sha-256'",
                "CREATE ROLE " + name + " LOGIN PASSWORD '" + password.replace("'", "''") + "'");
    }

    /** A database owned by {@code owner}, reached by the tests as postgres. */
    public TestDb database(String name, String owner) {
        exec("postgres", "CREATE DATABASE " + name + " OWNER " + owner);
        return db(name);
    }

    /** Database {@code name} as postgres sees it (no password). */
    public TestDb db(String name) {
        return new TestDb(server, HOST, server.getPort(), name, "postgres");
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
