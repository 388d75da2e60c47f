package dev.ibex.capture;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SessionSettings;
import dev.ibex.pg.SqlState;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Deletes the logged changes every consumer has applied: ibex.log and ibex.truncate_log rows
 * below txid_snapshot_xmin of every (sync, target) S_prev that reads from the source, and the rows
 * of each table's own delta table below that of the syncs that read the table. A sync without a
 * snapshot yet holds everything. First moves on the S_prev of consumers with nothing pending.
 * For the controller's periodic job.
 */
public final class DeltaPurge {

    private DeltaPurge() {
    }

    /** Per table read from {@code source}, the S_prev of every consumer (NULL: a consumer without one). */
    static final String CONSUMERS = """
            SELECT r.schemaname, r.tablename, s.name, st.target, st.snapshot
            FROM ibex.sync s
            JOIN ibex.dbgroup_member src ON src.dbgroup = s.dbgroup AND src.role = 'source' AND src.db = ?
            JOIN ibex.relgroup_member rm ON rm.relgroup = s.relgroup
            JOIN ibex.relation r ON r.id = rm.relation AND r.reltype = 'table' AND r.keycols <> '{}'
            LEFT JOIN ibex.sync_state st ON st.sync = s.name AND st.source = src.db""";


    /**
     * Per table, the newest txid of its changes from a txid on (bind it twice): a consumer whose
     * S_prev has an xmax above it saw them all, but for its in-progress xids ({@link #IN_XIDS}).
     * Few rows, whatever the number of changes.
     */
    static final String NEWEST = """
            SELECT c.schemaname, c.tablename, l.newest
            FROM (SELECT tab, max(txid) AS newest FROM ibex.log WHERE txid >= ? GROUP BY tab) l
            JOIN ibex.captured c ON c.tab = l.tab
            UNION ALL
            SELECT schemaname, tablename, max(txid) FROM ibex.truncate_log WHERE txid >= ? GROUP BY schemaname, tablename""";

    /** The tables changed by any of the txids bound as one array (twice): the consumers' in-progress ones. */
    static final String IN_XIDS = """
            SELECT DISTINCT c.schemaname, c.tablename, l.txid FROM ibex.log l JOIN ibex.captured c ON c.tab = l.tab
            WHERE l.txid = ANY (?::bigint[])
            UNION ALL
            SELECT DISTINCT schemaname, tablename, txid FROM ibex.truncate_log WHERE txid = ANY (?::bigint[])""";

    private static final String NOW = "SELECT txid_current_snapshot()::text";

    /** One (sync, target) reading from the source: its S_prev (null: none yet) and its tables. */
    private record Consumer(String sync, String target, String snapshot, Set<String> tables) {
    }

    /** @return the number of rows deleted */
    private static long purgeHeld(Repository repo, DbPools pools, Db source) {
        Map<List<String>, Consumer> consumers = new LinkedHashMap<>();
        for (Object[] row : repo.list(CONSUMERS, rs -> new Object[] {CapturedTable.key(rs.getString(1), rs.getString(2)),
            rs.getString(3), rs.getString(4), rs.getString(5)}, source.name())) {
            consumers.computeIfAbsent(List.of((String) row[1], String.valueOf(row[2])),
                    k -> new Consumer((String) row[1], (String) row[2], (String) row[3], new HashSet<>()))
                    .tables().add((String) row[0]);
        }
        if (consumers.isEmpty()) {
            return 0;
        }
        try (Connection c = pools.connection(source)) {
            if (aheadOfSource(c, consumers.values())) {
                // the db's transaction ids went back: by such a S_prev, the changes since look seen and
                // would be purged (or the S_prev moved past them); the next run copies the tables whole
                return 0;
            }
            advanceIdle(repo, c, source, consumers);
            return delete(c, consumers.values());
        } catch (SQLException e) {
            throw PgErrors.failed("Purging applied changes on db \"" + source.name() + "\"", e);
        }
    }

    /** Whether a consumer's S_prev lies ahead of the source's transaction ids (see {@link TxidSnapshot#aheadOf}). */
    private static boolean aheadOfSource(Connection c, Collection<Consumer> consumers) throws SQLException {
        TxidSnapshot now;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(NOW)) {
            rs.next();
            now = TxidSnapshot.parse(rs.getString(1));
        }
        return consumers.stream().anyMatch(k -> k.snapshot() != null && TxidSnapshot.parse(k.snapshot()).aheadOf(now));
    }

    /**
     * Purges unless a command is changing what reads the source ({@link ModelLocks}): its new
     * consumer, not committed yet, would be missing from the consumers; 0 then, and the next
     * round purges.
     */
    public static long purge(Repository repo, DbPools pools, Db source) {
        if (!ModelLocks.tryHoldSource(repo, source.name())) {
            return 0;
        }
        try {
            return purgeHeld(repo, pools, source);
        } finally {
            ModelLocks.releaseSource(repo, source.name());
        }
    }

    /**
     * The shared log is purged below the oldest S_prev of every consumer, and a sync whose tables
     * do not change is not kicked: its S_prev would hold the whole log back. So a consumer with
     * nothing pending (no log row of its tables that its S_prev did not see, in one snapshot of
     * the source) has its S_prev moved to that snapshot, as an empty run would. A run that
     * records an older snapshot meanwhile is harmless: nothing of its tables lies between the two.
     */
    private static void advanceIdle(Repository repo, Connection c, Db source, Map<List<String>, Consumer> consumers)
            throws SQLException {
        List<Consumer> known = consumers.values().stream().filter(k -> k.snapshot() != null).toList();
        if (known.isEmpty()) {
            return;
        }
        long floor = known.stream().mapToLong(k -> TxidSnapshot.parse(k.snapshot()).xmin()).min().orElseThrow();
        String xips = known.stream().flatMapToLong(k -> Arrays.stream(TxidSnapshot.parse(k.snapshot()).xip()))
                .distinct().mapToObj(Long::toString).collect(Collectors.joining(",", "{", "}"));
        LogState log = logState(c, floor, xips);
        if (log == null) {
            return; // not captured yet
        }
        String now = log.now();
        for (Consumer k : known) {
            if (!k.snapshot().equals(now) && nothingPending(k, log.newest(), log.inXids())) {
                new SyncStates(repo).advance(k.sync(), source.name(), k.target(), k.snapshot(), now);
                consumers.put(List.of(k.sync(), k.target()), new Consumer(k.sync(), k.target(), now, k.tables()));
            }
        }
        repo.commit();
    }

    /** The source's snapshot, each table's newest txid at or above the floor, and the tables of in-progress xids. */
    private record LogState(String now, Map<String, Long> newest, List<Object[]> inXids) {
    }

    /** Read in one snapshot of the source, so one transaction and one method; null when the source has no capture yet. */
    private static LogState logState(Connection c, long floor, String xips) throws SQLException {
        String level = SessionSettings.snapshotIsolation(ServerVersion.of(c));
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        Map<String, Long> newest = new HashMap<>();
        List<Object[]> inXids = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            st.execute("SET TRANSACTION ISOLATION LEVEL " + level);
            String now;
            try (ResultSet rs = st.executeQuery("SELECT txid_current_snapshot()::text")) {
                rs.next();
                now = rs.getString(1);
            }
            try (PreparedStatement ps = c.prepareStatement(NEWEST)) {
                ps.setLong(1, floor);
                ps.setLong(2, floor);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        newest.merge(CapturedTable.key(rs.getString(1), rs.getString(2)), rs.getLong(3), Math::max);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(IN_XIDS)) {
                ps.setString(1, xips);
                ps.setString(2, xips);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        inXids.add(new Object[] {CapturedTable.key(rs.getString(1), rs.getString(2)), rs.getLong(3)});
                    }
                }
            }
            c.commit();
            return new LogState(now, newest, inXids);
        } catch (SQLException e) {
            c.rollback();
            if (SqlState.UNDEFINED_TABLE.is(e)) {
                return null;
            }
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /**
     * No change of the consumer's tables that its S_prev did not see, among those the snapshot of
     * {@link #NEWEST} saw: none at or above its xmax, none by its in-progress xids.
     */
    private static boolean nothingPending(Consumer k, Map<String, Long> newest, List<Object[]> inXids) {
        TxidSnapshot prev = TxidSnapshot.parse(k.snapshot());
        boolean newer = k.tables().stream().anyMatch(t -> newest.getOrDefault(t, Long.MIN_VALUE) >= prev.xmax());
        return !newer && inXids.stream().noneMatch(r -> k.tables().contains((String) r[0]) && !prev.sees((Long) r[1]));
    }

    /** Deletes what every consumer of each store has seen. */
    private static long delete(Connection c, Collection<Consumer> consumers) throws SQLException {
        // "schema\0table" -> the lowest horizon of the consumers reading it
        Map<String, Long> horizons = new HashMap<>();
        long everyone = Long.MAX_VALUE;
        for (Consumer k : consumers) {
            long xmin = k.snapshot() == null ? 0 : TxidSnapshot.parse(k.snapshot()).xmin();
            k.tables().forEach(t -> horizons.merge(t, xmin, Math::min));
            everyone = Math.min(everyone, xmin);
        }
        long deleted = delete(c, "ibex.log", everyone);
        deleted += delete(c, "ibex.truncate_log", everyone);
        for (Map.Entry<String, String> d : ownDeltas(c).entrySet()) {
            deleted += delete(c, "ibex." + Identifiers.quote(d.getValue()), horizons.getOrDefault(d.getKey(), 0L));
        }
        return deleted;
    }

    /** "schema\0table" -> its own delta table, for the tables whose keys do not go to ibex.log. */
    private static Map<String, String> ownDeltas(Connection c) throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(ChangeLog.OWN_DELTAS)) {
            while (rs.next()) {
                out.put(CapturedTable.key(rs.getString(1), rs.getString(2)), rs.getString(3));
            }
        } catch (SQLException e) {
            if (SqlState.UNDEFINED_TABLE.is(e)) {
                return out; // not captured yet
            }
            throw e;
        }
        return out;
    }

    private static long delete(Connection c, String table, long below) throws SQLException {
        if (below <= 0) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE txid < ?")) {
            ps.setLong(1, below);
            return ps.executeUpdate();
        } catch (SQLException e) {
            if (SqlState.UNDEFINED_TABLE.is(e)) {
                return 0; // not captured yet
            }
            throw e;
        }
    }
}
