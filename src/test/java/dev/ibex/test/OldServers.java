package dev.ibex.test;

import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.zip.ZipFile;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;

/**
 * PostgreSQL servers older than zonky's oldest, from the Linux binaries inside
 * com.opentable.components:otj-pg-embedded jars (the pom copies them into target/pg-binaries).
 * Their layout (bin, lib, share) is zonky's; 0.3.0 packs it as tar.bz2, which is recompressed once
 * to the tar.xz zonky unpacks.
 */
final class OldServers {

    private record Jar(String file, String entry) {
    }

    private static final Map<String, Jar> JARS = Map.of(
            "9.3.5", new Jar("otj-pg-embedded-0.3.0.jar", "postgresql-Linux-x86_64.tbz"),
            "9.5.3", new Jar("otj-pg-embedded-0.7.1.jar", "postgresql-Linux-x86_64.txz"));

    private OldServers() {
    }

    static boolean holds(String version) {
        return JARS.containsKey(version);
    }

    static PgBinaryResolver resolver(String version) {
        Path dir = Path.of(System.getProperty("ibex.test.binaries", "target/pg-binaries"));
        Jar jar = JARS.get(version);
        Path file = dir.resolve(jar.file());
        if (!Files.isReadable(file)) {
            throw new IllegalStateException("No PostgreSQL " + version + " binaries at " + file
                    + ": run mvn generate-test-resources (the pg-binaries execution in pom.xml copies them)");
        }
        Path txz = dir.resolve("postgresql-" + version + "-linux-x86_64.txz");
        return (system, arch) -> {
            if (!Files.exists(txz)) {
                writeTxz(file, jar.entry(), txz);
            }
            return Files.newInputStream(txz);
        };
    }

    private static synchronized void writeTxz(Path jar, String entry, Path txz) throws IOException {
        if (Files.exists(txz)) {
            return;
        }
        Path tmp = Files.createTempFile(txz.getParent(), "pg", ".part");
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            var e = zip.getEntry(entry);
            if (e == null) {
                throw new IOException("no " + entry + " in " + jar);
            }
            try (InputStream raw = new BufferedInputStream(zip.getInputStream(e));
                    OutputStream out = Files.newOutputStream(tmp)) {
                if (entry.endsWith(".txz")) {
                    raw.transferTo(out);
                } else {
                    try (InputStream tar = new BZip2CompressorInputStream(raw);
                            OutputStream xz = new XZCompressorOutputStream(out, 0)) {
                        tar.transferTo(xz);
                    }
                }
            }
            Files.move(tmp, txz, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
