package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.repository.Repository;
import dev.ibex.status.MetricsAddress;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** A controller on a thread of the test JVM, for tests that need one running but not its process. */
public final class InProcessController implements AutoCloseable {

    private final TestDb repo;
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Threads of this JVM numbered above this one were started after this controller's. */
    private final long firstThreadId;

    public InProcessController(TestDb repo) throws Exception {
        this(repo, Optional.empty());
    }

    /** One that serves its metrics on {@code metrics}. */
    public InProcessController(TestDb repo, Optional<MetricsAddress> metrics) throws Exception {
        this.repo = repo;
        Path piddir = Files.createTempDirectory("ibex-pid");
        Controller c = new Controller(Model.spec(repo), new PidFile(piddir), "test").metrics(metrics);
        firstThreadId = new Thread(() -> { }).getId();
        thread = new Thread(() -> {
            try {
                c.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "test-controller");
        thread.start();
        eventually(Duration.ofSeconds(30), "the controller comes up", () -> {
            assertTrue(thread.isAlive(), "controller did not come up: " + failure);
            return up();
        });
    }

    boolean up() {
        try (Repository r = Repository.open(Model.spec(repo))) {
            return RunningController.find(r.connection()).map(rc -> rc.started() != null).orElse(false);
        }
    }

    /**
     * The live kid thread of {@code sync} ("ibex-sync-" + name) this controller started, if any; a
     * kid of a controller of an earlier test, still finishing its run, is not it.
     */
    public Optional<Thread> kid(String sync) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getId() > firstThreadId && t.isAlive() && t.getName().equals("ibex-sync-" + sync))
                .findFirst();
    }

    /**
     * Whether the kid of {@code sync} waits out its back-off after a failed run: inside the wait,
     * where only the end of the delay, an urgent kick or a stop wakes it.
     */
    public boolean kidBacksOff(String sync) {
        return kid(sync).filter(t -> t.getState() == Thread.State.TIMED_WAITING)
                .map(t -> Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals(Kid.class.getName())
                        && f.getMethodName().equals("awaitRetry")))
                .orElse(false);
    }

    public void assertRunning() {
        assertTrue(thread.isAlive(), "controller thread ended: " + failure.get());
    }

    @Override
    public void close() {
        repo.exec("NOTIFY " + Channels.STOP);
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertTrue(!thread.isAlive(), "controller did not stop");
    }
}
