package dev.ibex.replicate;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.pg.SqlState;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The target runs out of disk space mid-apply (reliability issue, fault 5). The target table and
 * its key index live in a tablespace on a 32 MB tmpfs, which a filler file then fills to all but
 * about 1.5 MB; under a writer load the source inserts 20,000 rows of 500 bytes in one
 * transaction. Its apply fails with PostgreSQL's disk full (53100), which ibex shows as needing a
 * person, with the error naming the file and what to do, and retries; once the filler is removed
 * the next retry goes through, and with no command beyond the final {@code kick s 0} the target
 * equals the source by count and checksum of ordered rows.
 *
 * <p>Mounting a tmpfs takes root (CAP_SYS_ADMIN): without it the test is skipped, saying so. CI
 * runs as root.
 */
class DiskFullIT {

    private static final String U = "CREATE TABLE u (id int PRIMARY KEY, v int, note text)";

    private Path mount;
    private boolean mounted;
    private EmbeddedPostgres server;
    private Model model;
    private TestDb repo;
    private TestDb src;
    private TestDb dst;
    private final Writers.Running running = new Writers.Running();

    @AfterEach
    void tearDown() throws Exception {
        running.stopAll();
        if (model != null) {
            model.close();
        }
        // the server first: it must not write into the tablespace once it is gone
        if (server != null) {
            server.close();
        }
        if (mounted) {
            if (run("umount", mount.toString()) != 0) {
                run("umount", "-l", mount.toString());
            }
        }
        if (mount != null) {
            try (Stream<Path> files = Files.walk(mount)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** Runs a command; its exit code (its output goes to the test's). */
    private static int run(String... command) throws IOException, InterruptedException {
        return new ProcessBuilder(command).redirectErrorStream(true).inheritIO().start().waitFor();
    }

    /**
     * A tmpfs of {@code mb} MB, its root open to all, with a directory "ts" for a tablespace owned
     * by {@code owner}; skips the test when it cannot be mounted.
     */
    private Path smallDisk(int mb, UserPrincipal owner) throws Exception {
        mount = Files.createTempDirectory("ibex-small-disk");
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + mb + "m,mode=0755", "tmpfs",
                mount.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assumeTrue(p.waitFor() == 0, "Skipped: a small tablespace needs a tmpfs of its own, and mounting one needs root "
                + "(CAP_SYS_ADMIN); mount said: " + out);
        mounted = true;
        Path ts = Files.createDirectory(mount.resolve("ts"));
        Files.setOwner(ts, owner);
        Files.setPosixFilePermissions(ts, PosixFilePermissions.fromString("rwx------"));
        return ts;
    }

    /** Fills the disk of {@code dir} with a file until {@code leftBytes} are left. */
    private static Path fill(Path dir, long leftBytes) throws IOException {
        Path filler = dir.resolve("filler");
        long bytes = Files.getFileStore(dir).getUsableSpace() - leftBytes;
        ByteBuffer mb = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < bytes; ) {
                mb.clear().limit((int) Math.min(mb.capacity(), bytes - written));
                written += ch.write(mb);
            }
        }
        return filler;
    }

    private String status() {
        return Cli.run(repo, "status", "s").out();
    }

    @Test
    void aTargetOutOfSpaceMidApplyNeedsAPersonAndHealsOnceSpaceIsFreed() throws Exception {
        long t0 = System.nanoTime();
        // the target on a server of its own: its tablespace's disk goes away when the test ends
        server = PgServers.dedicated(PgServers.targetVersion());
        TestDb postgres = new TestDb(server, "localhost", server.getPort(), "postgres", "postgres");
        UserPrincipal serverUser = Files.getOwner(Path.of(postgres.scalar("SHOW data_directory")));
        Path ts = smallDisk(32, serverUser);
        postgres.exec("CREATE DATABASE dst", "CREATE TABLESPACE small LOCATION '" + ts + "'");
        dst = new TestDb(server, "localhost", server.getPort(), "dst", "postgres");
        dst.exec("CREATE TABLE t (id int PRIMARY KEY USING INDEX TABLESPACE small, v int, note text) TABLESPACE small", U);
        src = PgServers.source();
        src.exec("CREATE TABLE t (id int PRIMARY KEY, v int, note text)", U);
        ReplicaSet set = ReplicaSet.on(src, dst);
        model = set.model();
        repo = set.repoDb();
        FaultsIT.retryQuickly(repo);
        model.sync("s", "src", List.of("dst"), "public.t:id", "public.u:id");
        try (InProcessController c = new InProcessController(repo)) {
            FaultsIT.awaitCaptured(src, "t", "u");
            // the writers truncate u only: a TRUNCATE of t on the target would free its disk
            Writers writers = running.keep(Writers.start(src, 3, 30, FaultsIT.load(2000, "u", "t", "u")));
            writers.awaitCommits(100);
            eventually(Duration.ofSeconds(60), "rows on the target", () -> dst.count("t") > 0);

            Path filler = fill(mount, 1_500_000);
            System.out.printf("the tablespace's disk has %.1f MB left%n", Files.getFileStore(ts).getUsableSpace() / 1e6);
            long bad = model.runs("s", "bad");
            src.exec("INSERT INTO t SELECT g, g, repeat('z', 500) FROM generate_series(100000, 119999) g");
            String full = "SELECT count(*) FROM ibex.run WHERE sync = 's' AND state = 'bad' AND sqlstate = '"
                    + SqlState.DISK_FULL.code() + "'";
            eventually(Duration.ofSeconds(60), "runs failing on the full disk, retried",
                    () -> Long.parseLong(repo.scalar(full)) >= 2);
            String shown = status();
            System.out.println(shown);
            assertTrue(shown.matches("(?s).*Current state +: Needs attention.*"), shown);
            assertTrue(shown.matches("(?s).*Last error +: Applying to target db \"dst\" failed: .*"
                    + "No space left on device.*"), shown);
            assertTrue(shown.matches("(?s).*Fix +: free disk space on that server.*"), shown);
            assertTrue(model.runs("s", "bad") > bad);
            assertEquals(0, dst.count("t WHERE id >= 100000"), "nothing of the batch on the full disk");
            c.assertRunning();

            // the person frees space; nothing else
            Files.delete(filler);
            long good = model.runs("s", "good");
            eventually(Duration.ofSeconds(60), "a good run once space is freed", () -> model.runs("s", "good") > good);
            eventually(Duration.ofSeconds(60), "the big batch on the target",
                    () -> dst.count("t WHERE id >= 100000") == src.count("t WHERE id >= 100000"));
            assertTrue(!status().contains("Needs attention"), status());
            writers.awaitCommits(writers.committed() + 200);
            writers.stop();

            eventually(Duration.ofSeconds(120), "the target to equal the source by itself",
                    () -> FaultsIT.checksum(src, "t").equals(FaultsIT.checksum(dst, "t"))
                            && FaultsIT.checksum(src, "u").equals(FaultsIT.checksum(dst, "u")));
            Cli.Result kick = Cli.run(repo, "kick", "s", "0");
            assertEquals(0, kick.exit(), kick.toString());
            for (String t : List.of("t", "u")) {
                assertEquals(FaultsIT.checksum(src, t), FaultsIT.checksum(dst, t), t);
                assertEquals(src.count(t), dst.count(t), t);
            }
            c.assertRunning();
        }
        // the tablespace is emptied before its disk goes
        dst.exec("DROP TABLE t");
        postgres.exec("DROP TABLESPACE small");
        System.out.printf("disk full case: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
