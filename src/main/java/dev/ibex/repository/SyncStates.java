package dev.ibex.repository;

import java.util.Collection;
import java.util.List;

/**
 * The batch boundaries, ibex.sync_state: per (sync, source db, target db) the last txid snapshot
 * applied, S_prev (see DESIGN.md), the tables it covers, and how the target suppresses triggers. Seeded and dropped by
 * capture as the model changes, moved on by the runs and by the purge. Every write is here; the
 * reads that join it with other tables in one round trip (a run's start, the purge's consumers,
 * status) sit with their readers. Nothing here commits: the caller owns the transaction.
 */
public final class SyncStates {

    /** One boundary: the pair it is of. */
    public record Pair(String sync, String target) {
    }

    private static final String ADVANCE = """
            UPDATE ibex.sync_state SET snapshot = ?, updated = now()
            WHERE sync = ? AND source = ? AND target = ? AND snapshot = ?""";
    /**
     * The tables sync {@code st.sync} reads now, as a run records them in ibex.sync_state.tables
     * ("schema.table"), for a statement on ibex.sync_state st.
     */
    private static final String SYNC_TABLES = """
            ARRAY(SELECT DISTINCT r.schemaname || '.' || r.tablename
                  FROM ibex.sync s JOIN ibex.relgroup_member m ON m.relgroup = s.relgroup
                  JOIN ibex.relation r ON r.id = m.relation AND r.reltype = 'table'
                  WHERE s.name = st.sync ORDER BY 1)""";
    /**
     * A run's tables that its sync still reads when it records: one a command took out of the sync
     * while the run went on is not covered (see {@link #forgetTablesLeft}).
     */
    private static final String RECORD = """
            UPDATE ibex.sync_state st SET snapshot = ?, suppression = coalesce(?, suppression),
                   tables = ARRAY(SELECT unnest(?::text[]) INTERSECT SELECT unnest(%s) ORDER BY 1), updated = now()
            WHERE sync = ? AND source = ? AND target = ?""".formatted(SYNC_TABLES);
    /** Covered from the seed on: the tables the sync reads now; one added later is new to the pair. */
    private static final String SEED = """
            INSERT INTO ibex.sync_state (sync, source, target, snapshot, tables)
            SELECT st.sync, ?, ?, ?, %s
            FROM (SELECT ?::text AS sync) st""".formatted(SYNC_TABLES);
    /** Whether a pair fed from the source covers a table its sync no longer reads. */
    private static final String TABLES_LEFT = """
            SELECT EXISTS (SELECT 1 FROM ibex.sync_state st WHERE st.source = ? AND NOT st.tables <@ %s)"""
            .formatted(SYNC_TABLES);
    private static final String FORGET_TABLES_LEFT = """
            UPDATE ibex.sync_state st SET tables = ARRAY(SELECT unnest(st.tables) INTERSECT SELECT unnest(%1$s) ORDER BY 1)
            WHERE st.source = ? AND NOT st.tables <@ %1$s""".formatted(SYNC_TABLES);
    private static final String DROP = "DELETE FROM ibex.sync_state WHERE sync = ? AND source = ? AND target = ?";
    private static final String PAIRS = "SELECT sync, target FROM ibex.sync_state WHERE source = ?";
    private static final String SNAPSHOTS = "SELECT DISTINCT snapshot FROM ibex.sync_state WHERE sync = ? AND source = ?";

    private final Repository repo;

    public SyncStates(Repository repo) {
        this.repo = repo;
    }

    /**
     * A run applied its batch of {@code tables} ("schema.table") up to {@code snapshot};
     * {@code suppression} null keeps the word stored.
     */
    public void record(String sync, String source, String target, String snapshot, String suppression,
                       Collection<String> tables) {
        repo.update(RECORD, snapshot, suppression, List.copyOf(tables), sync, source, target);
    }

    /** The purge moves an idle consumer on, only if nobody moved it since {@code from} was read. */
    public void advance(String sync, String source, String target, String from, String to) {
        repo.update(ADVANCE, to, sync, source, target, from);
    }

    /** A new pair starts at a snapshot taken after the source's triggers committed. */
    public void seed(String sync, String source, String target, String snapshot) {
        repo.update(SEED, source, target, snapshot, sync);
    }

    /**
     * Whether a pair fed from {@code source} covers a table its sync no longer reads (taken out of
     * the sync since its last run): see {@link #forgetTablesLeft}.
     */
    public boolean coversTablesLeft(String source) {
        return repo.one(TABLES_LEFT, rs -> rs.getBoolean(1), source).orElse(false);
    }

    /**
     * Takes the tables their sync no longer reads out of what each S_prev from {@code source}
     * covers. Nothing reads a table's changes for a sync while it is out of the sync: the purge
     * moves the sync's S_prev past them, and deletes its own delta table's rows as far as its other
     * readers have gone. Put back, the table must be copied whole to the sync's targets again, as
     * any table new to the sync, and not be taken for one whose changes since S_prev were read.
     */
    public void forgetTablesLeft(String source) {
        repo.update(FORGET_TABLES_LEFT, source);
    }

    public void drop(String sync, String source, String target) {
        repo.update(DROP, sync, source, target);
    }

    /** The (sync, target) pairs fed from {@code source}. */
    public List<Pair> pairs(String source) {
        return repo.list(PAIRS, rs -> new Pair(rs.getString(1), rs.getString(2)), source);
    }

    /** The distinct S_prev of a sync's targets fed from {@code source}. */
    public List<String> snapshots(String sync, String source) {
        return repo.list(SNAPSHOTS, rs -> rs.getString(1), sync, source);
    }
}
