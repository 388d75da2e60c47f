package dev.ibex.capture;

import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncStates;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Capture objects on source databases (schema ibex, delta tables, triggers), made to match the
 * repository.
 */
public final class Capture {

    public static final String LOCK_TIMEOUT = "5s";

    static final String CAPTURE_TRIGGER = "ibex_capture";
    static final String TRUNCATE_TRIGGER = "ibex_truncate";

    private Capture() {
    }

    /**
     * Makes the capture objects on one source match what the repository (as seen through
     * {@code repo}'s connection, uncommitted rows included) says: every table read by a sync whose
     * dbgroup has this db as a source is captured, tables no sync reads lose their objects, and a
     * source with none is left with no ibex objects. Seeds ibex.sync_state for new (sync, source, target) combinations with the
     * snapshot taken after the triggers went in. Idempotent; one transaction on the source, with a
     * lock_timeout. Throws IbexException naming the table on failure. Does not commit {@code repo};
     * when it changes anything it holds {@link ModelLocks} until then, so that no purge of the
     * source and no run of its syncs reads the model in between.
     */
    public static void reconcile(Repository repo, Db source) {
        List<CapturedTable> desired = desiredTables(repo, source.name());
        // only a reconcile that changes something waits for the source's runs: a controller's
        // reload, which mostly finds everything in place, must not hold its heartbeat back
        boolean[] held = {false};
        Runnable hold = () -> {
            if (!held[0]) {
                ModelLocks.holdForChange(repo, source.name());
                held[0] = true;
            }
        };
        try (Connection c = source.spec().connect("ibex capture")) {
            c.setAutoCommit(false);
            try {
                new CaptureInstaller(c, source).install(desired, hold);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
            seedStates(repo, source, c, hold);
        } catch (SQLException e) {
            throw PgErrors.failed("Installing capture on db \"" + source.name() + "\"", e);
        }
    }

    /** The tables the source's syncs read, with their key columns; keyless tables are copied whole. */
    static final String DESIRED = """
            SELECT DISTINCT r.schemaname, r.tablename, r.keycols
            FROM ibex.sync s
            JOIN ibex.dbgroup_member src ON src.dbgroup = s.dbgroup AND src.role = 'source' AND src.db = ?
            JOIN ibex.relgroup_member rm ON rm.relgroup = s.relgroup
            JOIN ibex.relation r ON r.id = rm.relation
            WHERE r.reltype = 'table' AND r.keycols <> '{}'
            ORDER BY r.schemaname, r.tablename""";

    /** Whether the repository has tables captured on {@code source}: then it must have capture objects. */
    public static boolean expected(Repository repo, Db source) {
        return !desiredTables(repo, source.name()).isEmpty();
    }

    static List<CapturedTable> desiredTables(Repository repo, String source) {
        Map<String, CapturedTable> byName = new LinkedHashMap<>();
        for (CapturedTable t : repo.list(DESIRED, rs -> new CapturedTable(rs.getString(1), rs.getString(2),
                strings(rs.getArray(3))), source)) {
            // two relations naming one table with different keys: the first wins
            byName.putIfAbsent(CapturedTable.key(t.schema(), t.table()), t);
        }
        return new ArrayList<>(byName.values());
    }

    static final String TARGETS = """
            SELECT DISTINCT s.name, t.db
            FROM ibex.sync s
            JOIN ibex.dbgroup_member src ON src.dbgroup = s.dbgroup AND src.role = 'source' AND src.db = ?
            JOIN ibex.dbgroup_member t ON t.dbgroup = s.dbgroup
             AND (t.role IN ('target', 'fullcopy') OR (t.role = 'source' AND t.db <> src.db))""";

    /**
     * New (sync, source, target) rows start at a snapshot taken after the triggers committed: every
     * change from then on is in a delta table and not yet visible in S_prev. A table taken out of
     * a sync is no longer covered by its rows' S_prev: put back, it is copied whole.
     */
    private static void seedStates(Repository repo, Db source, Connection c, Runnable beforeChange) throws SQLException {
        SyncStates states = new SyncStates(repo);
        if (states.coversTablesLeft(source.name())) {
            beforeChange.run();
            states.forgetTablesLeft(source.name());
        }
        Set<SyncStates.Pair> wanted = new HashSet<>(repo.list(TARGETS,
                rs -> new SyncStates.Pair(rs.getString(1), rs.getString(2)), source.name()));
        Set<SyncStates.Pair> present = new HashSet<>(states.pairs(source.name()));
        if (wanted.equals(present)) {
            return;
        }
        beforeChange.run();
        for (SyncStates.Pair gone : present) {
            if (!wanted.contains(gone)) {
                states.drop(gone.sync(), source.name(), gone.target());
            }
        }
        List<SyncStates.Pair> missing = wanted.stream().filter(w -> !present.contains(w)).toList();
        if (missing.isEmpty()) {
            return;
        }
        String snapshot;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT txid_current_snapshot()::text")) {
            rs.next();
            snapshot = rs.getString(1);
        }
        c.commit();
        for (SyncStates.Pair m : missing) {
            states.seed(m.sync(), source.name(), m.target(), snapshot);
        }
    }

    /** A text[] column as a list; empty for NULL. */
    static List<String> strings(Array a) throws SQLException {
        List<String> out = new ArrayList<>();
        if (a != null) {
            for (Object o : (Object[]) a.getArray()) {
                out.add((String) o);
            }
        }
        return out;
    }
}
