package dev.ibex.controller;

import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Repository;
import java.io.IOException;
import java.net.InetAddress;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's repository session: it holds the advisory lock that makes this the one
 * controller, the ibex.controller row others find it by, and the LISTENs for kicks, reloads and
 * stop. When the connection breaks, the lock goes with it: {@link #reconnect} takes both again.
 */
final class ControllerSession {

    /** Logged as the controller. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    private static final String TRY_LOCK = "SELECT pg_try_advisory_lock(?, ?)";
    private static final String ANNOUNCE = """
            INSERT INTO ibex.controller (pid, host, started, heartbeat)
            VALUES (?, ?, coalesce(?, now()), now()) RETURNING started""";
    private static final String HEARTBEAT = "UPDATE ibex.controller SET heartbeat = now() WHERE pid = ?";
    private static final String LEAVE = "DELETE FROM ibex.controller WHERE pid = ?";
    private static final String APPLICATION = "ibex controller";

    private final ConnectionSpec spec;
    private final long pid = ProcessHandle.current().pid();
    private final String host = hostname();
    private Repository repo;
    /** When this controller first started: kept across reconnects. */
    private OffsetDateTime started;

    ControllerSession(ConnectionSpec spec) {
        this.spec = spec;
        this.repo = Repository.open(spec, APPLICATION);
    }

    Repository repo() {
        return repo;
    }

    long pid() {
        return pid;
    }

    String host() {
        return host;
    }

    boolean tryLock() {
        boolean got = repo.one(TRY_LOCK, rs -> rs.getBoolean(1), RunningController.LOCK_CLASS,
                RunningController.LOCK_ID).orElse(false);
        repo.commit();
        return got;
    }

    /** Writes the controller row (replacing a dead controller's) and listens on the channels. */
    void announce() {
        repo.update("DELETE FROM ibex.controller");
        started = repo.one(ANNOUNCE, rs -> rs.getObject(1, OffsetDateTime.class), pid, host, started).orElseThrow();
        try (Statement st = repo.connection().createStatement()) {
            for (String channel : List.of(Channels.KICK, Channels.STOP, Channels.RELOAD)) {
                st.execute("LISTEN " + channel);
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Listening on the repository", e);
        }
        repo.commit();
    }

    /** The notifications that arrive within {@code millis}; null when none did. */
    PGNotification[] notifications(int millis) throws SQLException {
        return repo.connection().unwrap(PGConnection.class).getNotifications(millis);
    }

    void heartbeat() {
        repo.update(HEARTBEAT, pid);
        repo.commit();
    }

    /**
     * The repository connection broke: the lock went with it. Reconnect, take the lock again and
     * carry on; if another controller took it meanwhile, give way to it. False when this
     * controller is to stop.
     */
    boolean reconnect(Exception cause, ControllerSettings settings, BooleanSupplier stopRequested) {
        log.error("Lost the repository connection: {}; reconnecting", PgErrors.describe(cause));
        repo.close();
        Backoff backoff = new Backoff(settings.retryMin(), settings.retryMax());
        while (!stopRequested.getAsBoolean()) {
            try {
                Thread.sleep(backoff.next().toMillis());
                repo = Repository.open(spec, APPLICATION);
                if (!tryLock()) {
                    log.error("Another controller took the repository while this one was cut off ({}); stopping",
                            RunningController.find(repo.connection()).map(RunningController::describe).orElse("?"));
                    return false;
                }
                announce();
                log.info("Reconnected to the repository");
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (RuntimeException e) {
                if (repo != null) {
                    repo.close();
                }
                log.debug("Repository still unreachable: {}", PgErrors.describe(e));
            }
        }
        return false;
    }

    /** Removes the controller row and closes the session, which gives the lock back. */
    void leave() {
        try {
            repo.rollback();
            repo.update(LEAVE, pid);
            repo.commit();
        } catch (RuntimeException e) {
            log.debug("Could not remove the controller row: {}", PgErrors.describe(e));
        }
    }

    void close() {
        repo.close();
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String h = System.getenv("HOSTNAME");
            return h == null ? "localhost" : h;
        }
    }
}
