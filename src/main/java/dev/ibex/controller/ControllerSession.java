package dev.ibex.controller;

import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.PgErrors;
import dev.ibex.replicate.Backoff;
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
 * The controller's repository session: it holds the advisory lock on this controller's id that
 * tells the others it lives (it goes the moment the process or its connection dies), the
 * ibex.controller row others find it by, and the LISTENs for kicks, reloads and stop. When the
 * connection breaks, the lock goes with it: {@link #reconnect} takes both again, and says whether
 * another controller declared this one dead meanwhile (then its syncs are no longer its own).
 */
final class ControllerSession {

    /** Logged as the controller. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    private static final String NEXT_ID = "SELECT nextval(pg_get_serial_sequence('ibex.controller', 'id'))::int";
    private static final String TRY_LOCK = "SELECT pg_try_advisory_lock(?, ?)";
    private static final String ANNOUNCE = """
            INSERT INTO ibex.controller (id, pid, host, backend, started, heartbeat)
            VALUES (?, ?, ?, pg_backend_pid(), coalesce(?, now()), now()) RETURNING started""";
    private static final String REJOIN = """
            UPDATE ibex.controller SET backend = pg_backend_pid(), heartbeat = now() WHERE id = ?""";
    private static final String LEAVE = """
            DELETE FROM ibex.sync_claim WHERE controller = ?;
            DELETE FROM ibex.controller WHERE id = ?""";

    private final ConnectionSpec spec;
    private final long pid = ProcessHandle.current().pid();
    private final String host = hostname();
    private Repository repo;
    /** This controller's id in ibex.controller: the key of its liveness lock, and its application_name's. */
    private final int id;
    /** When this controller first started: kept across reconnects. */
    private OffsetDateTime started;

    ControllerSession(ConnectionSpec spec) {
        this.spec = spec;
        Repository r = Repository.open(spec, "ibex controller");
        try {
            this.id = r.one(NEXT_ID, rs -> rs.getInt(1)).orElseThrow();
            r.commit();
        } finally {
            r.close();
        }
        this.repo = Repository.open(spec, application("controller"));
    }

    /** The application_name of this controller's connections: "ibex c12 what"; the pools' is "ibex c12". */
    String application(String what) {
        return appPrefix(id) + (what.isEmpty() ? "" : " " + what);
    }

    static String appPrefix(int controllerId) {
        return "ibex c" + controllerId;
    }

    Repository repo() {
        return repo;
    }

    int id() {
        return id;
    }

    long pid() {
        return pid;
    }

    String host() {
        return host;
    }

    /** Takes this controller's liveness lock; false only if a session of this id still holds it. */
    boolean tryLock() {
        boolean got = repo.one(TRY_LOCK, rs -> rs.getBoolean(1), RunningController.CONTROLLER_LOCK_CLASS, id)
                .orElse(false);
        repo.commit();
        return got;
    }

    /** Writes the controller row and listens on the channels. */
    void announce() {
        Claims.serialize(repo);
        started = repo.one(ANNOUNCE, rs -> rs.getObject(1, OffsetDateTime.class), id, pid, host, started)
                .orElseThrow();
        listen();
        repo.commit();
    }

    private void listen() {
        try (Statement st = repo.connection().createStatement()) {
            for (String channel : List.of(Channels.KICK, Channels.STOP, Channels.RELOAD)) {
                st.execute("LISTEN " + channel);
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Listening on the repository", e);
        }
    }

    /** The notifications that arrive within {@code millis}; null when none did. */
    PGNotification[] notifications(int millis) throws SQLException {
        return repo.connection().unwrap(PGConnection.class).getNotifications(millis);
    }

    /** What {@link #reconnect} found. */
    enum Rejoined { SAME, DECLARED_DEAD, STOP }

    /**
     * The repository connection broke: the lock went with it. Reconnect and take the lock again.
     * SAME when this controller's row was still there (nobody took its syncs); DECLARED_DEAD when
     * another controller removed it meanwhile and may have taken some of its syncs (the row is
     * written again; the claims it kept are still its own, and the next rebalance stops the kids of
     * the others); STOP when this controller is to stop.
     */
    Rejoined reconnect(Exception cause, ControllerSettings settings, BooleanSupplier stopRequested) {
        log.error("Lost the repository connection: {}; reconnecting", PgErrors.describe(cause));
        repo.close();
        Backoff backoff = new Backoff(settings.retryMin(), settings.retryMax());
        while (!stopRequested.getAsBoolean()) {
            try {
                Thread.sleep(backoff.next().toMillis());
                repo = Repository.open(spec, application("controller"));
                if (!tryLock()) {
                    // the old backend has not exited yet
                    repo.close();
                    continue;
                }
                Claims.serialize(repo);
                boolean same = repo.update(REJOIN, id) == 1;
                if (!same) {
                    started = repo.one(ANNOUNCE, rs -> rs.getObject(1, OffsetDateTime.class), id, pid, host, started)
                            .orElseThrow();
                }
                listen();
                repo.commit();
                log.info("Reconnected to the repository");
                return same ? Rejoined.SAME : Rejoined.DECLARED_DEAD;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Rejoined.STOP;
            } catch (RuntimeException e) {
                if (repo != null) {
                    repo.close();
                }
                log.debug("Repository still unreachable: {}", PgErrors.describe(e));
            }
        }
        return Rejoined.STOP;
    }

    /** Removes the controller row and its claims, and closes the session, which gives the lock back. */
    void leave() {
        try {
            repo.rollback();
            repo.update(LEAVE.substring(0, LEAVE.indexOf(';')), id);
            repo.update(LEAVE.substring(LEAVE.indexOf(';') + 1).strip(), id);
            repo.commit();
        } catch (RuntimeException e) {
            log.debug("Could not remove the controller row: {}", PgErrors.describe(e));
        }
    }

    void close() {
        repo.close();
    }

    static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String h = System.getenv("HOSTNAME");
            return h == null ? "localhost" : h;
        }
    }
}
