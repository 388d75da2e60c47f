package dev.ibex.demo;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Embedded PostgreSQL servers for `ibex demo` only: the binaries travel in the jar, and nothing on
 * the daemon's start-up path loads this class.
 */
final class DemoServers implements AutoCloseable {

    private final EmbeddedPostgres source;
    private final EmbeddedPostgres target;

    DemoServers(Path workDir) {
        this.source = start(workDir.resolve("source"));
        EmbeddedPostgres t;
        try {
            t = start(workDir.resolve("target"));
        } catch (RuntimeException e) {
            closeQuietly(source);
            throw e;
        }
        this.target = t;
    }

    int sourcePort() {
        return source.getPort();
    }

    int targetPort() {
        return target.getPort();
    }

    private static EmbeddedPostgres start(Path dataDir) {
        try {
            return EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(true)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start an embedded PostgreSQL server in " + dataDir, e);
        }
    }

    private static void closeQuietly(EmbeddedPostgres pg) {
        try {
            pg.close();
        } catch (IOException e) {
            // stopping anyway
        }
    }

    @Override
    public void close() {
        closeQuietly(target);
        closeQuietly(source);
    }
}
