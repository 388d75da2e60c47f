package dev.ibex.capture;

import dev.ibex.pg.Identifiers;
import dev.ibex.pg.SqlState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Locks every table a reconcile's DDL will touch, all in one statement, retrying until a deadline.
 * Taking them one by one (as each CREATE TRIGGER would) can deadlock with an application
 * transaction that writes the same tables in another order, and PostgreSQL may then cancel the
 * application's transaction.
 *
 * <p>The first attempt does not wait (NOWAIT). A NOWAIT attempt alone never succeeds on a table
 * that writers keep busy back to back, since some writer always holds it; so later attempts queue
 * for the lock, each for a little longer (like pg_repack's lock loop), and writers arriving
 * meanwhile queue behind it: they stall at most one attempt's wait. An attempt's wait stays under
 * half the server's deadlock_timeout, so it ends (statement_timeout, which 8.4 has too) before
 * either side's deadlock check could run and cancel the application's transaction.
 */
final class CaptureLocks {

    private static final long LOCK_WAIT_NANOS = 5_000_000_000L;
    /** An attempt's wait grows by this much each time, up to {@link #MAX_ATTEMPT_MILLIS}. */
    private static final int ATTEMPT_STEP_MILLIS = 50;
    private static final int MAX_ATTEMPT_MILLIS = 500;
    private static final String DEADLOCK_TIMEOUT = "SELECT setting::int FROM pg_settings WHERE name = 'deadlock_timeout'";
    private static final String STATEMENT_TIMEOUT = "SELECT current_setting('statement_timeout')";
    private static final String SET_STATEMENT_TIMEOUT = "SELECT set_config('statement_timeout', ?, true)";

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
        String tables = "LOCK TABLE " + String.join(", ", names.keySet()) + " IN ACCESS EXCLUSIVE MODE";
        long deadline = System.nanoTime() + LOCK_WAIT_NANOS;
        if (attempt(tables + " NOWAIT", deadline)) {
            return;
        }
        String timeout = setting(STATEMENT_TIMEOUT);
        int cap = Math.min(MAX_ATTEMPT_MILLIS, Integer.parseInt(setting(DEADLOCK_TIMEOUT)) / 2);
        SQLException failed = null;
        try {
            for (int i = 1; ; i++) {
                pause();
                setStatementTimeout(String.valueOf(Math.max(1, Math.min(cap, i * ATTEMPT_STEP_MILLIS))));
                if (attempt(tables, deadline)) {
                    return;
                }
            }
        } catch (SQLException e) {
            failed = e;
            throw e;
        } finally {
            restoreStatementTimeout(timeout, failed);
        }
    }

    /** After a failure, a broken connection cannot take the setting back: the failure is what to report. */
    private void restoreStatementTimeout(String timeout, SQLException failed) throws SQLException {
        try {
            setStatementTimeout(timeout);
        } catch (SQLException e) {
            if (failed == null) {
                throw e;
            }
            failed.addSuppressed(e);
        }
    }

    /** One try, under a savepoint so that a failed one leaves the transaction (and its settings) as it was. */
    private boolean attempt(String sql, long deadline) throws SQLException {
        Savepoint attempt = c.setSavepoint();
        try (Statement st = c.createStatement()) {
            st.execute(sql);
            c.releaseSavepoint(attempt);
            return true;
        } catch (SQLException e) {
            c.rollback(attempt);
            boolean busy = SqlState.LOCK_NOT_AVAILABLE.is(e) || SqlState.QUERY_CANCELED.is(e);
            if (!busy || System.nanoTime() > deadline) {
                throw e;
            }
            return false;
        }
    }

    private String setting(String query) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private void setStatementTimeout(String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SET_STATEMENT_TIMEOUT)) {
            ps.setString(1, value);
            ps.executeQuery().close();
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
