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

    private static final String RECORD = """
            UPDATE ibex.sync_state SET snapshot = ?, suppression = coalesce(?, suppression), tables = ?,
                   updated = now()
            WHERE sync = ? AND source = ? AND target = ?""";
    private static final String ADVANCE = """
            UPDATE ibex.sync_state SET snapshot = ?, updated = now()
            WHERE sync = ? AND source = ? AND target = ? AND snapshot = ?""";
    private static final String SEED = """
            INSERT INTO ibex.sync_state (sync, source, target, snapshot) VALUES (?, ?, ?, ?)""";
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
        repo.update(SEED, sync, source, target, snapshot);
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
