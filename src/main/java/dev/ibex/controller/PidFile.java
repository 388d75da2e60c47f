package dev.ibex.controller;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code <piddir>/ibex.pid} for local scripts, Bucardo's layout: the pid, the command line, the start
 * time. The advisory lock decides whether a controller runs; this file only reports it.
 */
public final class PidFile {

    public static final String NAME = "ibex.pid";

    private final Path path;

    public PidFile(Path piddir) {
        this.path = piddir.resolve(NAME);
    }

    public Path path() {
        return path;
    }

    public Optional<Long> read() {
        try {
            String first = Files.readAllLines(path, StandardCharsets.UTF_8).stream().findFirst().orElse("").trim();
            return Optional.of(Long.parseLong(first));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    void write(long pid, String invocation) throws IOException {
        Files.createDirectories(path.getParent());
        Path tmp = path.resolveSibling(NAME + ".tmp");
        Files.writeString(tmp, pid + "\n" + invocation + "\n" + Instant.now() + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes the file if it still names {@code pid} (a newer controller may have replaced it). */
    void removeIfOwnedBy(long pid) {
        if (read().map(p -> p == pid).orElse(false)) {
            removeStale();
        }
    }

    /** Removes the file whoever it names: only when no controller holds the lock. */
    public void removeStale() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // nothing a user needs: the lock is what counts
        }
    }
}
