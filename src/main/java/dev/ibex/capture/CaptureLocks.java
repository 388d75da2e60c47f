package dev.ibex.capture;

import dev.ibex.pg.Identifiers;
import dev.ibex.pg.SqlState;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Locks every table a reconcile's DDL will touch, all at once and without waiting, retrying until
 * a deadline. Taking them one by one (as each CREATE TRIGGER would) can deadlock with an
 * application transaction that writes the same tables in another order, and PostgreSQL may then
 * cancel the application's transaction; a NOWAIT attempt that fails holds nothing.
 */
final class CaptureLocks {

    private static final long LOCK_WAIT_NANOS = 5_000_000_000L;

    private final Connection c;
    private final CaptureCatalog catalog;
    /** quoted name -> schema.table, sorted so that every reconcile locks in one order */
    private final Map<String, String> names = new TreeMap<>();

    CaptureLocks(Connection c, CaptureCatalog catalog) {
        this.c = c;
        this.catalog = catalog;
    }

    /** Adds a table to lock, when it exists. */
    CaptureLocks add(String schema, String table) throws SQLException {
        if (catalog.tableOid(schema, table) != 0) {
            names.put(Identifiers.qualified(schema, table), schema + "." + table);
        }
        return this;
    }

    /** The application's tables among them, as "schema.table", to name in a message. */
    List<String> shown() {
        return names.values().stream().filter(n -> !n.startsWith("ibex.")).toList();
    }

    /** Takes every lock added, or throws the last failure once the deadline passed. */
    void lock() throws SQLException {
        if (names.isEmpty()) {
            return;
        }
        String sql = "LOCK TABLE " + String.join(", ", names.keySet()) + " IN ACCESS EXCLUSIVE MODE NOWAIT";
        long deadline = System.nanoTime() + LOCK_WAIT_NANOS;
        while (true) {
            Savepoint attempt = c.setSavepoint();
            try (Statement st = c.createStatement()) {
                st.execute(sql);
                c.releaseSavepoint(attempt);
                return;
            } catch (SQLException e) {
                c.rollback(attempt);
                if (!SqlState.LOCK_NOT_AVAILABLE.is(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                pause();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20 + ThreadLocalRandom.current().nextInt(80));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
