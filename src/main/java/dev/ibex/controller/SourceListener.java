package dev.ibex.controller;

import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Autokick: a dedicated, unpooled connection to one source that LISTENs on channel {@code ibex},
 * where the statement triggers announce "schema.table". Reconnects by itself with back-off; after
 * a reconnect every sync reading the source is kicked, since changes made meanwhile went unheard.
 */
final class SourceListener {

    private static final Logger log = LoggerFactory.getLogger(SourceListener.class);
    private static final Duration PING_EVERY = Duration.ofSeconds(30);

    private final Db db;
    private final Consumer<String> onTable;
    private final Runnable onReconnect;
    private final Backoff backoff;
    private final Duration cap;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile Connection connection;

    SourceListener(Db db, ControllerSettings settings, Consumer<String> onTable, Runnable onReconnect) {
        this.db = db;
        this.onTable = onTable;
        this.onReconnect = onReconnect;
        this.backoff = new Backoff(settings.retryMin(), settings.retryMax());
        this.cap = settings.retryMax();
        this.thread = new Thread(this::loop, "ibex-listen-" + db.name());
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() {
        stopping = true;
        thread.interrupt();
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }
    }

    private void loop() {
        boolean failed = false;
        while (!stopping) {
            try (Connection c = db.spec().connect("ibex autokick listener")) {
                connection = c;
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + Channels.SOURCE);
                }
                if (failed) {
                    log.info("Listening again for changes on db {}", db.name());
                    onReconnect.run();
                    failed = false;
                }
                backoff.reset();
                listen(c);
            } catch (RuntimeException | SQLException e) {
                if (stopping) {
                    break;
                }
                Duration delay = backoff.next();
                if (!failed) {
                    log.warn("Not listening for changes on db {}: {}; retrying every {} at most", db.name(),
                            Kid.describe(e), dev.ibex.status.Durations.age(cap));
                }
                failed = true;
                sleep(delay);
            } finally {
                connection = null;
            }
        }
    }

    private void listen(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        long nextPing = System.nanoTime() + PING_EVERY.toNanos();
        while (!stopping) {
            PGNotification[] ns = pg.getNotifications(1000);
            if (ns != null) {
                for (PGNotification n : ns) {
                    onTable.accept(n.getParameter());
                }
            }
            if (System.nanoTime() > nextPing) {
                // a silent network can leave a dead socket looking open; a query finds out
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                }
                nextPing = System.nanoTime() + PING_EVERY.toNanos();
            }
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }
}
