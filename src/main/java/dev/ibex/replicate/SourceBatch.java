package dev.ibex.replicate;

import dev.ibex.IbexException;
import dev.ibex.config.Tunable;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SessionSettings;
import dev.ibex.pg.SqlFeature;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import dev.ibex.repository.OneTimeCopy;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything read from one source in one snapshot, applied to its targets: the changed keys since
 * each S_prev, grouped by the targets that share it, applied in bounded steps (delete the step's
 * keys, then stream COPY from the source into every target), and each target's new S_prev.
 */
final class SourceBatch {

    /** How much one target transaction applies, and how often a whole-table copy reports progress. */
    record Pace(int keysPerChunk, int chunksPerStep, long progressMillis) {
    }

    /**
     * A batch reads its keys by the delta tables' txid index and its rows by the table's key
     * index. Statistics of a fast-growing table lag behind (an empty-looking pgbench_history got
     * a hash join over the whole table for every 200 keys), so the plans are pinned: with these off
     * every key lookup is an index probe, bounded by the number of keys, never by the table size.
     */
    static final String KEY_PLANS = "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; "
            + "SET LOCAL enable_mergejoin = off";

    /**
     * Before PostgreSQL 13 a hash aggregate cannot spill to disk, and a delta table not yet analyzed
     * is taken for 200 distinct keys: the DISTINCT of a million-key backlog would then grow a hash
     * table in the source server's memory. A sort spills past work_mem instead.
     */
    static final String SOURCE_PLANS = KEY_PLANS + "; SET LOCAL enable_hashagg = off";

    /** The batch's snapshot level for the source's version (SERIALIZABLE before 9.1) comes first. */
    private static final String BEGIN_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL %s; "
            + "SELECT txid_current_snapshot()::text; " + SOURCE_PLANS;

    /** Logged as the runner: the batch is one step of a run. */
    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);

    /** A chunk of changed keys of one table. */
    private record Item(TableCopy table, List<String[]> keys) {
    }

    /** Targets fed together: same S_prev, same tables copied whole (one-time copy). */
    private record Group(String prev, Set<String> whole) {
    }

    private final Repository repo;
    private final DbPools pools;
    private final Pace pace;
    private final SyncPlan plan;
    private final Db source;
    private final RunRecord run;
    private final RunCache cache;
    private Connection s;
    private ServerVersion version;
    private String current;
    private String exported;
    /** The shapes this batch has needed so far. */
    private final Map<Relation, TableCopy> shapes = new HashMap<>();
    /** How each target suppresses triggers, as probed in this run. */
    private final Map<String, String> suppression = new HashMap<>();
    /** Targets that took this run's batch. */
    private final List<Db> applied = new ArrayList<>();

    SourceBatch(Repository repo, DbPools pools, Pace pace, SyncPlan plan, Db source, RunRecord run,
                RunCache cache) {
        this.repo = repo;
        this.cache = cache;
        this.pools = pools;
        this.pace = pace;
        this.plan = plan;
        this.source = source;
        this.run = run;
    }

    /** @param states S_prev of each target, as the run read them from ibex.sync_state */
    void run(Map<String, String> states) throws SQLException {
        Map<String, List<Db>> byPrev = new LinkedHashMap<>();
        for (Db t : plan.targets()) {
            if (!t.active()) {
                continue;
            }
            String prev = states.get(t.name());
            if (prev == null) {
                run.error("Target db \"" + t.name() + "\" of sync \"" + plan.sync().name()
                        + "\" has no starting snapshot from source \"" + source.name()
                        + "\": capture is not installed for it; activate or reload the sync");
                continue;
            }
            byPrev.computeIfAbsent(prev, k -> new ArrayList<>()).add(t);
        }
        List<Db> fullcopy = plan.fullcopyTargets().stream().filter(Db::active).toList();
        if (byPrev.isEmpty() && fullcopy.isEmpty()) {
            return;
        }
        s = pools.connection(source);
        try {
            s.setAutoCommit(false);
            version = ServerVersion.of(s);
            current = beginSnapshot();
            run.snapshot = current;
            for (Map.Entry<Group, List<Db>> g : groups(byPrev).entrySet()) {
                applyDelta(g.getKey(), g.getValue());
            }
            if (!fullcopy.isEmpty()) {
                for (Db t : copyWhole(fullcopy, new ArrayList<>(shapes(plan.tables()).values()))) {
                    recordState(t);
                }
            }
            copySequences();
            s.commit();
        } finally {
            try {
                s.rollback();
            } catch (SQLException ignored) {
                // the connection is broken; the pool discards it
            }
            s.close();
        }
    }

    /**
     * Per table, its oid and every pg_attribute row (dropped ones too) by attnum and the row
     * version's xmin: adding, dropping, renaming or retyping a column, making a generated one plain,
     * or dropping and recreating the table, each writes a row version the fingerprint did not have.
     * The tables are found by schema and name, as the COPYs will find them, by index.
     */
    private static String fingerprintsSql(Collection<Relation> tables) {
        String names = tables.stream().map(r -> "(" + Identifiers.literal(r.schema()) + ", "
                + Identifiers.literal(r.name()) + ")").collect(Collectors.joining(", "));
        return """
                SELECT n.nspname, c.relname, c.oid::text || ':' || coalesce(md5(array_to_string(array(
                         SELECT a.attnum || '.' || a.xmin::text FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 ORDER BY a.attnum), ',')), '')
                FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE (n.nspname, c.relname) IN (VALUES %s)""".formatted(names);
    }

    /**
     * The shapes of these tables: those of an earlier run while the catalog rows they were read
     * from are unchanged (same fingerprint, read in this batch's snapshot), else read from the
     * source's catalog in one query. Read when a run needs them, for the tables it copies: a run
     * with nothing to apply reads no catalog at all, and one that applies rows of a few tables
     * reads theirs only.
     */
    private Map<Relation, TableCopy> shapes(Collection<Relation> tables) throws SQLException {
        List<Relation> missing = tables.stream().distinct().filter(r -> !shapes.containsKey(r)).toList();
        if (!missing.isEmpty()) {
            Map<String, String> fingerprints = new HashMap<>();
            try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery(fingerprintsSql(missing))) {
                while (rs.next()) {
                    fingerprints.put(TableCopy.key(rs.getString(1), rs.getString(2)), rs.getString(3));
                }
            }
            List<Relation> read = new ArrayList<>();
            for (Relation r : missing) {
                String fingerprint = fingerprints.get(TableCopy.key(r));
                TableCopy cached = fingerprint == null ? null : cache.shape(source.name(), r, fingerprint);
                if (cached != null) {
                    shapes.put(r, cached);
                } else {
                    read.add(r);
                }
            }
            for (TableCopy t : read.isEmpty() ? List.<TableCopy>of() : TableCopy.readAll(s, source.name(), read)) {
                shapes.put(t.relation, t);
                cache.shape(source.name(), fingerprints.get(TableCopy.key(t.relation)), t);
            }
        }
        Map<Relation, TableCopy> out = new LinkedHashMap<>();
        for (Relation r : tables) {
            out.put(r, shapes.get(r));
        }
        return out;
    }

    /**
     * Targets that share S_prev (and, during a one-time copy, the set of tables to copy whole)
     * are fed from one read of the source.
     */
    private Map<Group, List<Db>> groups(Map<String, List<Db>> byPrev) {
        Map<Group, List<Db>> groups = new LinkedHashMap<>();
        OneTimeCopy onetimecopy = plan.sync().onetimecopy();
        for (Map.Entry<String, List<Db>> e : byPrev.entrySet()) {
            for (Db t : e.getValue()) {
                Set<String> whole = new HashSet<>();
                if (onetimecopy == OneTimeCopy.REPLACE) {
                    plan.tables().forEach(r -> whole.add(r.display()));
                } else if (onetimecopy == OneTimeCopy.EMPTY_TABLES) {
                    try {
                        whole.addAll(emptyTables(t));
                    } catch (IbexException ex) {
                        run.error(ex.getMessage());
                        continue;
                    }
                }
                groups.computeIfAbsent(new Group(e.getKey(), whole), k -> new ArrayList<>()).add(t);
            }
        }
        return groups;
    }

    /** onetimecopy 2 copies only into tables that are empty on the target. */
    private Set<String> emptyTables(Db target) {
        Set<String> out = new HashSet<>();
        try (Connection c = pools.connection(target); Statement st = c.createStatement()) {
            for (Relation r : plan.tables()) {
                try (ResultSet rs = st.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM ONLY " + r.quoted() + ")")) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        out.add(r.display());
                    }
                }
            }
        } catch (SQLException e) {
            throw new IbexException(IbexException.DATABASE, TargetSession.describe(target, e));
        }
        return out;
    }

    /** The changes not visible in S_prev, to the targets that last applied up to it. */
    private void applyDelta(Group group, List<Db> targets) throws SQLException {
        List<Relation> copied = new ArrayList<>();
        List<Relation> streamed = new ArrayList<>();
        for (Relation r : plan.tables()) {
            if (group.whole().contains(r.display())) {
                copied.add(r);
            } else if (!r.hasKey()) {
                run.error("Table " + r.display() + " has no primary key or unique index: it can only be copied "
                        + "to fullcopy dbs; add a key, or give the targets role fullcopy");
                return;
            } else {
                streamed.add(r);
            }
        }
        List<Db> live = copied.isEmpty() ? targets : copyWhole(targets, new ArrayList<>(shapes(copied).values()));
        // read only when a table needs the delta: a sync of sequences or whole tables has no capture schema
        if (!streamed.isEmpty() && !live.isEmpty()) {
            live = applyChanges(live, group.prev(), streamed);
        }
        for (Db t : live) {
            recordState(t);
        }
    }

    private void recordState(Db t) {
        repo.update("""
                UPDATE ibex.sync_state SET snapshot = ?, suppression = coalesce(?, suppression), updated = now()
                WHERE sync = ? AND source = ? AND target = ?""",
                current, suppression.get(t.name()), plan.sync().name(), source.name(), t.name());
        // committed with the run row: a crash before that re-applies the batch, which is harmless
        applied.add(t);
    }

    /** Copies the tables whole, copy_parallel at a time; returns the targets that took every table. */
    private List<Db> copyWhole(List<Db> targets, List<TableCopy> whole) throws SQLException {
        List<Db> live = new ArrayList<>(targets);
        int copyParallel = (int) Tunable.COPY_PARALLEL.read(repo);
        Set<Integer> noAnalyze = new HashSet<>(repo.list(
                "SELECT id FROM ibex.relation WHERE NOT analyze_after_copy", rs -> rs.getInt(1)));
        // onetimecopy 2 takes a non-empty target table for one loaded beforehand: a table must never be
        // left partly copied by a failed run, so it is copied in one transaction, not in parts
        long splitBytes = plan.sync().onetimecopy() == OneTimeCopy.EMPTY_TABLES ? Long.MAX_VALUE
                : (long) (Tunable.COPY_SPLIT_MB.read(repo) * (1 << 20));
        WholeTables copy = new WholeTables(plan.sync().name(), source, exportedSnapshot(), live, copyParallel,
                t -> plan.sync().analyzeAfterCopy() && !noAnalyze.contains(t.relation.id()), pace.progressMillis(),
                splitBytes);
        for (WholeTables.Outcome o : copy.copy(s, whole, run::progress)) {
            run.deletes += o.deletes;
            run.inserts += o.inserts;
            if (o.suppression != null) {
                suppression.put(o.db.name(), o.suppression);
            }
            if (o.error != null) {
                run.error(o.error);
                live.remove(o.db);
            }
        }
        run.steps += whole.size();
        run.progress(whole.size() + (whole.size() == 1 ? " table" : " tables") + " copied whole");
        return live;
    }

    /**
     * The snapshot of this batch, for the copy workers to read in (the transaction stays open
     * meanwhile); null before 9.2, which cannot export one: the copy then reads in this transaction.
     */
    private String exportedSnapshot() throws SQLException {
        if (exported == null && version.has(SqlFeature.SNAPSHOT_EXPORT)) {
            exported = scalar("SELECT pg_export_snapshot()");
        }
        return exported;
    }

    /**
     * Applies the changed keys since S_prev in steps, one target transaction each, as they are
     * read; then copies the truncated tables whole. Returns the targets that took everything.
     */
    private List<Db> applyChanges(List<Db> targets, String prev, List<Relation> tables) throws SQLException {
        List<TargetSession> sessions = new ArrayList<>();
        Set<String> truncated;
        try {
            int steps = 0;
            try (Changes changes = Changes.since(s, source, prev, tables, pace.keysPerChunk())) {
                long started = System.nanoTime();
                for (List<Item> step = next(changes); !step.isEmpty(); step = next(changes)) {
                    if (sessions.isEmpty()) {
                        sessions = open(targets);
                    } else {
                        // the run's end records the last step
                        run.progress(progress(changes, step, started));
                    }
                    step(step, sessions);
                    steps++;
                }
                run.keys += changes.read();
                truncated = changes.truncated;
            }
            if (steps > 1) {
                retryUniqueConflictsInOneStep(sessions, prev, tables);
            }
        } finally {
            for (TargetSession ts : sessions) {
                if (!ts.alive()) {
                    run.error(ts.error, ts.failState);
                }
                run.deletes += ts.deletes;
                run.inserts += ts.inserts;
                if (ts.suppressionWord() != null) {
                    suppression.put(ts.db.name(), ts.suppressionWord());
                }
                ts.close();
            }
        }
        List<Db> live = sessions.isEmpty() ? targets
                : sessions.stream().filter(TargetSession::alive).map(ts -> ts.db).toList();
        List<TableCopy> whole = new ArrayList<>(shapes(tables.stream()
                .filter(r -> truncated.contains(TableCopy.key(r))).toList()).values());
        if (whole.isEmpty() || live.isEmpty()) {
            return live;
        }
        run.truncates += whole.size();
        return copyWhole(live, whole);
    }

    /** The next step's chunks, each with the shape of its table. */
    private List<Item> next(Changes changes) throws SQLException {
        List<Changes.Chunk> chunks = changes.next(pace.keysPerChunk(), pace.keysPerChunk() * pace.chunksPerStep());
        Map<Relation, TableCopy> byTable = shapes(chunks.stream().map(Changes.Chunk::table).toList());
        return chunks.stream().map(c -> new Item(byTable.get(c.table()), c.keys())).toList();
    }

    /**
     * Before {@code step}, what the steps before it applied: e.g. "apply 200000/1000000 keys 52000
     * keys/s ETA 00:15 (public.orders)".
     */
    private static String progress(Changes changes, List<Item> step, long startedNanos) {
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        long done = changes.read() - step.stream().mapToLong(i -> i.keys().size()).sum();
        long total = Math.max(done, changes.total());
        StringBuilder sb = new StringBuilder("apply ").append(done).append('/').append(total).append(" keys");
        if (seconds > 0.5 && done > 0) {
            sb.append(String.format(Locale.ROOT, " %.0f keys/s ETA ", done / seconds))
                    .append(CopyProgress.clock(Math.round((total - done) * seconds / done)));
        }
        return sb.append(" (").append(step.get(0).table().display()).append(')').toString();
    }

    private List<TargetSession> open(List<Db> targets) {
        List<TargetSession> sessions = new ArrayList<>();
        for (Db t : targets) {
            TargetSession ts = new TargetSession(t, cache.checked(t.name()));
            sessions.add(ts);
            ts.open(pools);
        }
        return sessions;
    }

    /**
     * Two rows that swapped the values of a unique column may land in different steps, and the
     * target then refuses the first step for ever. A target that failed so gets the whole batch
     * again in one transaction, where every delete comes before every copy: the keys are read
     * twice, in the batch's snapshot, so memory stays bounded.
     */
    private void retryUniqueConflictsInOneStep(List<TargetSession> sessions, String prev, List<Relation> tables)
            throws SQLException {
        for (int i = 0; i < sessions.size(); i++) {
            TargetSession failed = sessions.get(i);
            if (failed.alive() || !SqlState.UNIQUE_VIOLATION.code().equals(failed.failState)) {
                continue;
            }
            LOG.info("Applying the batch to db \"{}\" again in one transaction after a unique conflict "
                    + "between steps", failed.db.name());
            TargetSession again = new TargetSession(failed.db, cache.checked(failed.db.name()));
            sessions.set(i, again);
            failed.close();
            again.open(pools);
            List<TargetSession> one = List.of(again);
            try (Changes changes = Changes.since(s, source, prev, tables, pace.keysPerChunk())) {
                for (List<Item> step = next(changes); !step.isEmpty(); step = next(changes)) {
                    delete(step, one);
                }
            }
            try (Changes changes = Changes.since(s, source, prev, tables, pace.keysPerChunk())) {
                for (List<Item> step = next(changes); !step.isEmpty(); step = next(changes)) {
                    for (Item item : step) {
                        copy(item, one);
                    }
                }
            }
            commit(one);
        }
    }

    /** One target transaction on each live target: delete the step's rows, then copy them in. */
    private void step(List<Item> step, List<TargetSession> sessions) throws SQLException {
        if (sessions.stream().noneMatch(TargetSession::alive)) {
            return;
        }
        delete(step, sessions);
        for (Item item : step) {
            copy(item, sessions);
        }
        commit(sessions);
        run.steps++;
    }

    private void delete(List<Item> step, List<TargetSession> sessions) {
        for (TargetSession ts : sessions) {
            if (!ts.alive()) {
                continue;
            }
            try {
                List<TableCopy> tables = step.stream().map(Item::table).toList();
                ts.check(tables);
                ts.deleteKeys(tables, step.stream().map(Item::keys).toList());
            } catch (SQLException | RuntimeException e) {
                ts.fail(TargetSession.describe(ts.db, e), e);
            }
        }
    }

    private void commit(List<TargetSession> sessions) {
        // The per-sync lock lives in the repository session: if that session died, another run
        // may hold the lock now and must not see this older step commit after its newer one.
        repo.one("SELECT 1", rs -> rs.getInt(1));
        for (TargetSession ts : sessions) {
            if (ts.alive()) {
                try {
                    ts.commit();
                } catch (SQLException e) {
                    ts.fail(TargetSession.describe(ts.db, e), e);
                }
            }
        }
    }

    /** Streams one COPY out of the source into every live target: bytes, no row objects. */
    private void copy(Item item, List<TargetSession> sessions) throws SQLException {
        List<TargetSession> live = new ArrayList<>();
        for (TargetSession ts : sessions) {
            if (!ts.alive()) {
                continue;
            }
            try {
                ts.startCopy(item.table());
                live.add(ts);
            } catch (SQLException | RuntimeException e) {
                ts.fail(TargetSession.describe(ts.db, e), e);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        String sql = item.table().copyOutKeysSql(item.keys());
        CopyOut out = s.unwrap(PGConnection.class).getCopyAPI().copyOut(sql);
        TargetSession.fanOut(out, live, bytes -> { }, (ts, e) -> ts.fail(TargetSession.describe(ts.db, e), e));
    }

    /**
     * Triggers do not see sequences: every run sets each sequence of the relgroup, on every
     * target that took the batch, to the last_value and is_called the source reads in the
     * run's transaction (the same on 9.6 and 10+, unlike the pg_sequence columns).
     */
    private void copySequences() throws SQLException {
        List<Relation> sequences = plan.sequences().stream().filter(r -> r.db().equals(source.name())).toList();
        if (sequences.isEmpty() || applied.isEmpty()) {
            return;
        }
        List<Object[]> values = new ArrayList<>();
        for (Relation r : sequences) {
            try (Statement st = s.createStatement();
                 ResultSet rs = st.executeQuery("SELECT last_value, is_called FROM " + r.quoted())) {
                rs.next();
                values.add(new Object[] {r, rs.getLong(1), rs.getBoolean(2)});
            } catch (SQLException e) {
                if (SqlState.UNDEFINED_TABLE.is(e)) {
                    throw new IbexException(IbexException.BAD_INPUT, "Sequence " + r.display()
                            + " does not exist on source db \"" + source.name()
                            + "\": create it there, or remove it from the relgroup");
                }
                throw e;
            }
        }
        for (Db t : applied) {
            try (Connection c = pools.connection(t);
                 PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.setval(?::regclass, ?, ?)")) {
                c.setAutoCommit(true);
                for (Object[] v : values) {
                    Relation r = (Relation) v[0];
                    ps.setString(1, r.quoted());
                    ps.setLong(2, (Long) v[1]);
                    ps.setBoolean(3, (Boolean) v[2]);
                    try {
                        ps.executeQuery().close();
                        run.sequences++;
                    } catch (SQLException e) {
                        run.error(SqlState.UNDEFINED_TABLE.is(e)
                                ? "Sequence " + r.display() + " does not exist on target db \"" + t.name()
                                        + "\": create it there (ibex copy schema copies sequences)"
                                : "Setting sequence " + r.display() + " on target db \"" + t.name() + "\" failed: "
                                        + PgErrors.firstLine(e.getMessage()));
                    }
                }
            } catch (SQLException | IbexException e) {
                run.error(TargetSession.describe(t, e));
            }
        }
    }

    /**
     * Opens the batch's snapshot transaction (REPEATABLE READ; SERIALIZABLE before 9.1), S_cur its first snapshot, in one round trip
     * (a SET TRANSACTION inside it leaves the pooled connection's default alone, so the pool
     * needs no reset either); key lookups then go by index whatever the statistics say.
     */
    private String beginSnapshot() throws SQLException {
        try (Statement st = s.createStatement()) {
            st.execute(BEGIN_SNAPSHOT.formatted(SessionSettings.snapshotIsolation(version)));
            while (st.getResultSet() == null) {
                if (!st.getMoreResults() && st.getUpdateCount() == -1) {
                    throw new SQLException("no snapshot returned by the source");
                }
            }
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                String snapshot = rs.getString(1);
                while (st.getMoreResults() || st.getUpdateCount() != -1) {
                    // the SET LOCALs after it
                }
                return snapshot;
            }
        }
    }

    private String scalar(String sql) throws SQLException {
        try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
