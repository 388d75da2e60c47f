package dev.ibex.replicate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.capture.ChangeLog;
import dev.ibex.capture.LoggedTable;
import dev.ibex.config.Tunable;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.repository.Db;
import dev.ibex.repository.OneTimeCopy;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import dev.ibex.repository.SyncStates;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything read from one source in one snapshot, applied to its targets: the changed keys since
 * each S_prev, grouped by the targets that share it, applied in bounded steps (delete the step's
 * keys, then stream COPY from the source into every target), and each target's new S_prev.
 */
final class SourceBatch {

    private static final Logger LOG = LoggerFactory.getLogger(SourceBatch.class);

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

    private static final String NO_ANALYZE = "SELECT id FROM ibex.relation WHERE NOT analyze_after_copy";

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
    private SourceSnapshot snapshot;
    private TableShapes shapes;
    /** How each target suppresses triggers, as probed in this run. */
    private final Map<String, String> suppression = new HashMap<>();
    /** Targets that took this run's batch. */
    private final List<Db> applied = new ArrayList<>();
    private Map<String, List<Db>> byPrev;
    private List<Db> fullcopy;
    private ChangeSteps.Rules rules = ChangeSteps.Rules.NONE;
    private Map<String, Set<String>> covered = Map.of();

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

    /**
     * @param states  S_prev of each target, as the run read them from ibex.sync_state
     * @param covered the tables each target's S_prev covers, where known
     */
    void run(Map<String, String> states, Map<String, Set<String>> covered) throws SQLException {
        try {
            if (begin(states, covered)) {
                apply(ChangeSteps.Rules.oneSource(plan.makedelta()));
            }
        } finally {
            close();
        }
    }

    /**
     * Opens the batch's source transaction and takes S_cur, unless no target needs it; returns
     * whether it did. {@link #close} ends it either way.
     *
     * @param states  S_prev of each target, as the run read them from ibex.sync_state
     * @param covered the tables each target's S_prev covers, where known: the plan's others are
     *                new to that target and copied whole
     */
    boolean begin(Map<String, String> states, Map<String, Set<String>> covered) throws SQLException {
        this.covered = covered;
        byPrev = byPrev(states);
        fullcopy = plan.fullcopyTargets().stream().filter(Db::active)
                .filter(t -> !run.skips(t, pools.applicationName())).toList();
        if (byPrev.isEmpty() && fullcopy.isEmpty()) {
            return false;
        }
        s = pools.connection(source);
        snapshot = SourceSnapshot.begin(s);
        shapes = new TableShapes(s, source.name(), cache);
        run.readAt(snapshot.current());
        return true;
    }

    Db source() {
        return source;
    }

    /** Whether {@link #begin} opened the batch. */
    boolean begun() {
        return s != null;
    }

    /**
     * The keys of the sync's tables this source changed since the oldest S_prev of its active
     * targets (a target that missed runs still has older changes to take), with the time of each
     * key's latest change: what a sync with several sources compares to find conflicts.
     */
    Changes.Latest changedKeys() throws SQLException {
        String prev = TxidSnapshot.oldest(byPrev.keySet());
        if (prev == null) {
            return Changes.Latest.NONE;
        }
        Changes.Latest latest = Changes.latest(s, source, prev, plan.sync().name(),
                plan.tables().stream().filter(Relation::hasKey).toList());
        Set<String> copied = newToTheOtherSources();
        if (copied.isEmpty()) {
            return latest;
        }
        copied.addAll(latest.truncated());
        return new Changes.Latest(latest.keys(), copied);
    }

    /**
     * The tables the first source copies whole to every other source because they are new to the
     * sync there (see {@link #groups}), "schema\0table": to the others that copy is a truncate on
     * this source, which wins over what they changed in the table. Their own capture of it may be
     * new and have logged a truncate too, which must not copy their table (empty, say) back over
     * this source's.
     */
    private Set<String> newToTheOtherSources() {
        Set<String> out = new HashSet<>();
        List<Db> others = plan.sources().stream().filter(d -> !d.name().equals(source.name()) && d.active()).toList();
        if (!plan.sources().get(0).name().equals(source.name()) || others.isEmpty()) {
            return out;
        }
        for (Relation r : plan.tables()) {
            if (others.stream().allMatch(o -> newTo(o, r))) {
                out.add(TableCopy.key(r));
            }
        }
        return out;
    }

    /** Whether {@code r} is new to the sync for {@code target}: its S_prev from this source does not cover it. */
    private boolean newTo(Db target, Relation r) {
        Set<String> had = covered.get(target.name());
        return had != null && !had.contains(r.display());
    }

    /** Applies what {@link #begin} found to every target, but the keys another source won. */
    void apply(ChangeSteps.Rules rules) throws SQLException {
        this.rules = rules;
        for (Map.Entry<Group, List<Db>> g : groups(byPrev).entrySet()) {
            applyDelta(g.getKey(), g.getValue());
        }
        if (!fullcopy.isEmpty()) {
            for (Db t : copyWhole(fullcopy, new ArrayList<>(shapes.of(plan.tables()).values()))) {
                recordState(t);
            }
        }
        // another source keeps its own sequences: setting them from this one could take them back
        List<Db> sequenceTargets = applied.stream().filter(t -> plan.targets().contains(t)
                || plan.fullcopyTargets().contains(t)).toList();
        List<Relation> sequences = plan.sequences().stream().filter(r -> r.db().equals(source.name())).toList();
        new SequenceCopy(pools, source, run).copy(s, sequences, sequenceTargets);
        s.commit();
    }

    void close() {
        if (s == null) {
            return;
        }
        try {
            s.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
        }
        try {
            s.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
        s = null;
    }

    /** The active targets by their S_prev; one without any has no capture to read from. */
    private Map<String, List<Db>> byPrev(Map<String, String> states) {
        Map<String, List<Db>> byPrev = new LinkedHashMap<>();
        for (Db t : plan.targetsOf(source)) {
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
            if (run.skips(t, pools.applicationName())) {
                continue;
            }
            byPrev.computeIfAbsent(prev, k -> new ArrayList<>()).add(t);
        }
        return byPrev;
    }

    /**
     * Targets that share S_prev (and, during a one-time copy, the set of tables to copy whole)
     * are fed from one read of the source.
     */
    private Map<Group, List<Db>> groups(Map<String, List<Db>> byPrev) {
        Map<Group, List<Db>> groups = new LinkedHashMap<>();
        // with several sources the first one's copy is the one every other db takes
        boolean first = plan.sources().get(0).name().equals(source.name());
        OneTimeCopy onetimecopy = first ? plan.sync().onetimecopy() : OneTimeCopy.NONE;
        for (Map.Entry<String, List<Db>> e : byPrev.entrySet()) {
            for (Db t : e.getValue()) {
                Set<String> whole = new HashSet<>();
                Set<String> had = covered.get(t.name());
                if (TxidSnapshot.parse(e.getKey()).aheadOf(TxidSnapshot.parse(snapshot.current()))) {
                    // its S_prev would take every change from now on for one it saw: only a whole copy is sure
                    if (!first) {
                        run.error("Target db \"" + t.name() + "\" has a snapshot of source \"" + source.name()
                                + "\" ahead of that db's transaction ids (restored on another server?): set "
                                + "onetimecopy to copy the first source's tables whole to every db");
                        continue;
                    }
                    LOG.warn("Target db \"{}\" has a snapshot of source \"{}\" ahead of that db's transaction ids "
                            + "(restored on another server, or its WAL's end lost): every table is copied whole to it",
                            t.name(), source.name());
                    plan.tables().forEach(r -> whole.add(r.display()));
                }
                if (first && had != null) {
                    // added to the sync since: its changes before S_prev were never read for this target
                    plan.tables().stream().map(Relation::display).filter(d -> !had.contains(d)).forEach(whole::add);
                }
                if (onetimecopy == OneTimeCopy.REPLACE && !copiedOnce(t)) {
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

    /**
     * Whether {@code target} took the one-time copy still pending in an earlier run (it stays
     * pending while another target is down): it follows the stream since. With several sources the
     * copy restarts the other sources too, so there every run copies until every db took it.
     */
    private boolean copiedOnce(Db target) {
        return !plan.severalSources() && cache.copiedOnce(target.name());
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
            throw new IbexException(ExitCode.DATABASE, PgErrors.describe(TargetSession.applyingTo(target), e));
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
        requireCaptured(copied);
        List<Db> live = copied.isEmpty() ? targets : copyWhole(targets, new ArrayList<>(shapes.of(copied).values()));
        // read only when a table needs the delta: a sync of sequences or whole tables has no capture schema
        if (!streamed.isEmpty() && !live.isEmpty()) {
            live = applyChanges(live, group.prev(), streamed);
        }
        Map<Relation, List<String[]>> won = new LinkedHashMap<>(rules.won());
        won.keySet().retainAll(streamed);
        if (!won.isEmpty() && !live.isEmpty()) {
            // a conflict's winner sends its row to every db, whatever that db's S_prev has seen
            live = new ChangeSteps(repo, pools, pace, s, source, shapes, run, cache, suppression, rules)
                    .applyKeys(live, won);
        }
        for (Db t : live) {
            recordState(t);
        }
    }

    /**
     * A keyed table is copied whole to a delta target only once its capture is in place as of the
     * batch's snapshot: copied before, its writes from then on would be logged nowhere and never
     * reach the target. It can lag behind the repository when 'add table --force' could not reach
     * the source and the controller's check has not gone through yet; the run fails until it has.
     */
    private void requireCaptured(List<Relation> copied) throws SQLException {
        List<Relation> keyed = copied.stream().filter(Relation::hasKey).toList();
        if (keyed.isEmpty()) {
            return;
        }
        Set<String> captured = new HashSet<>();
        try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery(ChangeLog.CAPTURED)) {
            while (rs.next()) {
                LoggedTable t = ChangeLog.loggedTable(rs);
                captured.add(TableCopy.key(t.schema(), t.table()));
            }
        }
        List<String> missing = keyed.stream().filter(r -> !captured.contains(TableCopy.key(r))).map(Relation::display)
                .toList();
        if (!missing.isEmpty()) {
            throw new IbexException(ExitCode.DATABASE, "Table(s) " + String.join(", ", missing) + " of sync \""
                    + plan.sync().name() + "\" are not captured on db \"" + source.name() + "\" yet, so they are not "
                    + "copied: their writes after the copy would reach no target; the controller puts their capture "
                    + "in place after each purge, and 'ibex reload' does it too");
        }
    }

    private void recordState(Db t) {
        new SyncStates(repo).record(plan.sync().name(), source.name(), t.name(), snapshot.current(),
                suppression.get(t.name()), tableNames(plan));
        // committed with the run row: a crash before that re-applies the batch, which is harmless
        applied.add(t);
        if (plan.sync().onetimecopy() == OneTimeCopy.REPLACE) {
            // should the run row not commit, the changes since the older S_prev go onto the copy: harmless too
            cache.tookOneTimeCopy(t.name());
        }
        run.reached(t);
    }

    /** The plan's tables as ibex.sync_state.tables names them. */
    static List<String> tableNames(SyncPlan plan) {
        return plan.tables().stream().map(Relation::display).distinct().toList();
    }

    /** Copies the tables whole, copy_parallel at a time; returns the targets that took every table. */
    private List<Db> copyWhole(List<Db> targets, List<TableCopy> whole) throws SQLException {
        List<Db> live = new ArrayList<>(targets);
        int copyParallel = (int) Tunable.COPY_PARALLEL.read(repo);
        Set<Integer> noAnalyze = new HashSet<>(repo.list(NO_ANALYZE, rs -> rs.getInt(1)));
        // onetimecopy 2 takes a non-empty target table for one loaded beforehand: a table must never be
        // left partly copied by a failed run, so it is copied in one transaction, not in parts
        long splitBytes = plan.sync().onetimecopy() == OneTimeCopy.EMPTY_TABLES ? Long.MAX_VALUE
                : (long) (Tunable.COPY_SPLIT_MB.read(repo) * (1 << 20));
        WholeTables copy = new WholeTables(plan.sync().name(), source, snapshot.exported(), live, copyParallel,
                t -> plan.sync().analyzeAfterCopy() && !noAnalyze.contains(t.relation.id()), pace.progressMillis(),
                splitBytes).application(pools.applicationName() + " copy").makedelta(plan.makedelta())
                .fence(run::checkFence);
        for (WholeTables.Outcome o : copy.copy(s, whole, run::progress)) {
            run.applied(o.deletes(), o.inserts());
            if (o.suppression() != null) {
                suppression.put(o.db.name(), o.suppression());
            }
            if (o.error() != null) {
                run.targetFailed(o.db, o.error(), o.sqlstate());
                live.remove(o.db);
            }
        }
        run.stepsDone(whole.size());
        run.progress(whole.size() + (whole.size() == 1 ? " table" : " tables") + " copied whole");
        return live;
    }

    /**
     * Applies the changed keys since S_prev in steps, one target transaction each, as they are
     * read; then copies the truncated tables whole. Returns the targets that took everything.
     */
    private List<Db> applyChanges(List<Db> targets, String prev, List<Relation> tables) throws SQLException {
        ChangeSteps.Applied steps = new ChangeSteps(repo, pools, pace, s, source, shapes, run, cache, suppression,
                rules).apply(targets, prev, tables);
        List<TableCopy> whole = new ArrayList<>(shapes.of(tables.stream()
                .filter(r -> steps.truncated().contains(TableCopy.key(r)))
                .filter(r -> !rules.truncatesLost().contains(TableCopy.key(r))).toList()).values());
        if (whole.isEmpty() || steps.live().isEmpty()) {
            return steps.live();
        }
        run.truncated(whole.size());
        return copyWhole(steps.live(), whole);
    }
}
