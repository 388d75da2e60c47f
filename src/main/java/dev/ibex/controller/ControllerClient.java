package dev.ibex.controller;

import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Repository;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** How the CLI talks to the controller: NOTIFY and rows on the repository, no port. */
public final class ControllerClient {

    private final Repository repo;
    /**
     * Notifications fetched but not handed out yet: one fetch may bring several (the answers of
     * several controllers, or an earlier request's answer and this one's), and each counts.
     */
    private final Deque<PGNotification> fetched = new ArrayDeque<>();

    public ControllerClient(Repository repo) {
        this.repo = repo;
    }

    public Optional<RunningController> running() {
        Optional<RunningController> r = RunningController.find(repo.connection());
        repo.commit();
        return r;
    }

    /**
     * Whether a controller serves this repository, for a command that relies on one: one that holds
     * its liveness lock, or one whose heartbeat is younger than controller_lease. The lock goes with
     * the controller's session, so a healthy controller reconnecting (the repository restarted, its
     * session was cut) holds none for a while, kid_retry_min and up, and must not be taken for
     * stopped then; it kicks all its syncs once back, which answers a kick it missed meanwhile. One
     * stopped by 'ibex stop' removes its row and is seen gone at once; one killed, once silent for
     * the lease, the bound after which the other controllers take its syncs too. Commits.
     */
    public boolean serving() {
        if (running().isPresent()) {
            return true;
        }
        boolean beating = RunningController.beatWithin(repo, ControllerSettings.read(repo).lease());
        repo.commit();
        return beating;
    }

    /** Every running controller, the first started first. */
    public List<RunningController> all() {
        List<RunningController> r = RunningController.all(repo.connection());
        repo.commit();
        return r;
    }

    /** Sends a notification; it reaches the controller when the current transaction commits. */
    public void notify(String channel, String payload) {
        try (PreparedStatement ps = repo.connection().prepareStatement("SELECT pg_notify(?, ?)")) {
            ps.setString(1, channel);
            ps.setString(2, payload == null ? "" : payload);
            ps.execute();
        } catch (SQLException e) {
            throw PgErrors.failed("Sending " + channel + " to the controller", e);
        }
    }

    public void listen(String channel) {
        try (Statement st = repo.connection().createStatement()) {
            st.execute("LISTEN " + channel);
        } catch (SQLException e) {
            throw PgErrors.failed("Listening on " + channel, e);
        }
        repo.commit();
    }

    /**
     * Waits up to {@code wait} for a notification on a channel this client listens on; returns its
     * payload, or empty when none came. Notifications of other channels before it are dropped; those
     * that came with it wait for the next call.
     */
    public Optional<String> await(String channel, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            PGConnection pg = repo.connection().unwrap(PGConnection.class);
            while (true) {
                while (!fetched.isEmpty()) {
                    PGNotification n = fetched.poll();
                    if (n.getName().equals(channel)) {
                        return Optional.of(n.getParameter());
                    }
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return Optional.empty();
                }
                PGNotification[] ns = pg.getNotifications((int) Math.min(left, Integer.MAX_VALUE));
                if (ns != null) {
                    fetched.addAll(Arrays.asList(ns));
                }
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Waiting for the controller", e);
        }
    }

    /** Waits until no controller holds the lock; true if it went within {@code wait}. */
    public boolean awaitGone(Duration wait) throws InterruptedException {
        return awaitGone(wait, List.of());
    }

    /**
     * Waits until the controllers of these ids are gone, or all when none are named; true if they
     * went within {@code wait}.
     */
    public boolean awaitGone(Duration wait, List<Integer> ids) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (all().stream().anyMatch(c -> ids.isEmpty() || ids.contains(c.id()))) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(200);
        }
        return true;
    }

    /**
     * Asks every running controller to reload and waits for each one's answer; false if one did
     * not answer in time.
     */
    public boolean reload(String payload, Duration wait) {
        int controllers = Math.max(1, all().size());
        String request = Channels.reloadRequest(payload == null ? "" : payload);
        listen(Channels.RELOADED);
        notify(Channels.RELOAD, request);
        repo.commit();
        return awaitAnswers(request, controllers, wait);
    }

    /**
     * Waits for {@code count} notifications on {@link Channels#RELOADED} (one per controller: each
     * answers from its own session), with {@code payload}, or any payload when null.
     */
    public boolean awaitAnswers(String payload, int count, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        int answered = 0;
        while (answered < count) {
            Duration left = Duration.ofNanos(deadline - System.nanoTime());
            if (left.isNegative() || left.isZero()) {
                return false;
            }
            Optional<String> got = await(Channels.RELOADED, left);
            if (got.isEmpty()) {
                return false;
            }
            if (payload == null || got.get().equals(payload)) {
                answered++;
            }
        }
        return true;
    }
}
