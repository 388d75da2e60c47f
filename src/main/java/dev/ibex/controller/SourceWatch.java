package dev.ibex.controller;

import dev.ibex.capture.ChangeLog;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.replicate.Backoff;
import dev.ibex.repository.Db;
import dev.ibex.status.Durations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Autokick: finds committed changes to one source's captured tables, on a dedicated unpooled
 * connection, and reports each changed table ("schema.table"). Every autokick_poll it takes a txid
 * snapshot; when a transaction may have ended since the previous probe, a probe looks in the
 * source's change log for rows that probe's snapshot could not see (txid at or above its xmax, or
 * one of its in-progress xids: index lookups, whatever the log's size or the number of tables).
 *
 * <p>Polling instead of a NOTIFY trigger: NOTIFY takes a database-wide lock at commit, which
 * serializes every writing transaction of the source, and wakes the listener once per transaction.
 * A change is reported by the first probe whose snapshot sees it committed, so the run it kicks
 * sees it too. Reconnects by itself with back-off; after a reconnect, and when the watched tables
 * change, every sync reading the source is kicked, since changes made meanwhile went unseen.
 */
final class SourceWatch {

    private static final Logger log = LoggerFactory.getLogger(SourceWatch.class);

    private static final String SNAPSHOT = "SELECT txid_current_snapshot()::text";

    private final Db db;
    private final Consumer<String> onTable;
    private final Runnable onKickAll;
    private final Backoff backoff;
    private final Duration cap;
    private final Thread thread;
    private volatile Duration poll;
    private volatile Set<String> tables;
    private volatile boolean tablesChanged;
    private volatile boolean stopping;
    private volatile Connection connection;

    /** Per connection: the probe, the captured tables' names by log number, and the snapshot of the previous probe. */
    private PreparedStatement probe;
    private final Map<Integer, String> names = new HashMap<>();
    private String previous;

    /**
     * @param tables   "schema.table" of the tables to watch
     * @param onKickAll kicks every sync reading the source
     */
    SourceWatch(Db db, Set<String> tables, ControllerSettings settings, Consumer<String> onTable, Runnable onKickAll) {
        this.db = db;
        this.tables = Set.copyOf(tables);
        this.onTable = onTable;
        this.onKickAll = onKickAll;
        this.backoff = new Backoff(settings.retryMin(), settings.retryMax());
        this.cap = settings.retryMax();
        this.poll = settings.autokickPoll();
        this.thread = new Thread(this::loop, "ibex-watch-" + db.name());
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Watches these tables from the next poll on. */
    void watch(Set<String> now, ControllerSettings settings) {
        poll = settings.autokickPoll();
        if (!now.equals(tables)) {
            tables = Set.copyOf(now);
            tablesChanged = true;
        }
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
            try (Connection c = db.spec().connect("ibex autokick")) {
                connection = c;
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    // the probe's lookups go by the txid index, whatever the statistics of a young delta table say
                    st.execute("SET enable_seqscan = off");
                }
                start(c);
                if (failed) {
                    log.info("Watching for changes on db {} again", db.name());
                    failed = false;
                }
                backoff.reset();
                watch(c);
            } catch (RuntimeException | SQLException e) {
                if (stopping) {
                    break;
                }
                Duration delay = backoff.next();
                if (!failed) {
                    log.warn("Not watching for changes on db {}: {}; retrying every {} at most", db.name(),
                            PgErrors.describe(e), Durations.age(cap));
                }
                failed = true;
                sleep(delay);
            } finally {
                connection = null;
                probe = null;
            }
        }
    }

    private void watch(Connection c) throws SQLException {
        while (!stopping) {
            sleep(poll);
            if (stopping) {
                return;
            }
            if (tablesChanged) {
                start(c);
                continue;
            }
            if (!TxidSnapshot.parse(snapshot(c)).nothingEndedSince(TxidSnapshot.parse(previous))) {
                probe(c);
            }
        }
    }

    /**
     * Prepares the probe and takes the first snapshot; changes committed before it are left to the
     * runs that kicking every reader starts.
     */
    private void start(Connection c) throws SQLException {
        tablesChanged = false;
        if (probe != null) {
            probe.close();
        }
        probe = c.prepareStatement(ChangeLog.PROBE);
        readNames(c);
        previous = snapshot(c);
        onKickAll.run();
    }

    private void readNames(Connection c) throws SQLException {
        names.clear();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(ChangeLog.NAMES)) {
            while (rs.next()) {
                names.put(rs.getInt(1), rs.getString(2));
            }
        }
    }

    private String snapshot(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(SNAPSHOT)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * Reports the watched tables with changes the previous probe could not see; this probe's
     * snapshot becomes the previous. A table number not known yet (captured since) reads the
     * names again.
     */
    private void probe(Connection c) throws SQLException {
        for (int i = 1; i <= 4; i++) {
            probe.setString(i, previous);
        }
        String seen = null;
        List<Integer> tabs = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        try (ResultSet rs = probe.executeQuery()) {
            while (rs.next()) {
                if (rs.getString(1) != null) {
                    seen = rs.getString(1);
                } else if (rs.getObject(2) != null) {
                    tabs.add(rs.getInt(2));
                } else {
                    changed.add(rs.getString(3));
                }
            }
        } catch (SQLException e) {
            if (!SqlState.UNDEFINED_TABLE.is(e)) {
                throw e;
            }
            // the capture went away under us (a reload removed it): start again
            tablesChanged = true;
            return;
        }
        if (!names.keySet().containsAll(tabs)) {
            readNames(c);
        }
        for (Integer tab : tabs) {
            String name = names.get(tab);
            if (name != null) {
                changed.add(name);
            }
        }
        previous = seen;
        Set<String> watched = tables;
        changed.stream().filter(watched::contains).distinct().forEach(onTable);
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }
}
