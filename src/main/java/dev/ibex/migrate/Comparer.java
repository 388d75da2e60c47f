package dev.ibex.migrate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.ColumnDiff;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SessionSettings;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * `ibex compare`: per table, row count and md5 over the rows in key order, on the source and on
 * every target, in ranges of about rangeRows rows by the first key column. Pending changes are
 * drained first; the source side of a pass is one snapshot (REPEATABLE READ; SERIALIZABLE before 9.1). A range that differs is
 * drained and re-read row by row once, so a change in flight is not reported as a difference.
 */
public final class Comparer {

    public record Report(List<String> notes, List<TableResult> results) {
        public boolean match() {
            return results.stream().allMatch(TableResult::match);
        }
    }

    /** One table on one target during a comparison. */
    private static final class Work {
        final Relation table;
        final Db source;
        final Db target;
        TableSql sql;
        List<KeyRange> ranges = List.of();
        List<long[]> sourceCounts = new ArrayList<>();
        List<String> sourceHashes = new ArrayList<>();
        List<long[]> targetCounts = new ArrayList<>();
        List<String> targetHashes = new ArrayList<>();
        final List<Integer> differing = new ArrayList<>();
        final List<RowDiff> diffs = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
        boolean broken;

        Work(Relation table, Db source, Db target) {
            this.table = table;
            this.source = source;
            this.target = target;
        }

        long total(List<long[]> counts) {
            return counts.stream().mapToLong(c -> c[0]).sum();
        }
    }

    private final Repository repo;
    private final SyncPlan plan;
    private final List<Relation> tables;
    private final int rangeRows;

    public Comparer(Repository repo, SyncPlan plan, List<Relation> tables, int rangeRows) {
        this.repo = repo;
        this.plan = plan;
        this.tables = tables;
        this.rangeRows = rangeRows;
    }

    public Report run() {
        List<String> notes = new ArrayList<>();
        String drained = Drain.run(repo, plan.sync().name());
        if (drained != null) {
            notes.add(drained);
        }
        // with several sources, the other sources must hold the same rows too
        List<Db> targets = new ArrayList<>(plan.sources());
        targets.addAll(plan.targets());
        targets.addAll(plan.fullcopyTargets());
        List<Work> work = new ArrayList<>();
        for (Relation t : tables) {
            for (Db target : targets) {
                if (!target.name().equals(t.db())) {
                    work.add(new Work(t, source(t), target));
                }
            }
        }
        Map<String, DbSession> sessions = new LinkedHashMap<>();
        try {
            firstPass(work, sessions);
            List<Work> differing = work.stream().filter(w -> !w.broken && !w.differing.isEmpty()).toList();
            if (!differing.isEmpty()) {
                String again = Drain.run(repo, plan.sync().name());
                if (again != null && drained == null) {
                    notes.add(again);
                }
                recheck(differing, sessions);
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Comparing sync " + plan.sync().name(), e);
        } finally {
            sessions.values().forEach(DbSession::close);
        }
        List<TableResult> results = new ArrayList<>();
        for (Work w : work) {
            boolean match = !w.broken && w.differing.isEmpty();
            results.add(new TableResult(plan.sync().name(), w.table, w.target.name(), match, w.total(w.sourceCounts),
                    w.total(w.targetCounts), w.ranges.size(), w.differing.size(),
                    w.sql == null ? w.table.keyColumns() : w.sql.keyNames(), w.diffs, w.notes));
        }
        return new Report(notes, results);
    }

    // ---- pass 1: hashes per range, the source in one snapshot ----------------------------------

    private void firstPass(List<Work> work, Map<String, DbSession> sessions) throws SQLException {
        Map<String, List<String>> boundaries = new LinkedHashMap<>();
        beginAll(work, sessions);
        for (Work w : work) {
            DbSession source = sessions.get(w.table.db());
            DbSession target = sessions.get(w.target.name());
            Optional<List<Catalog.Column>> cols = source.columns(w.table.schema(), w.table.name());
            if (cols.isEmpty()) {
                broken(w, "table does not exist on source db " + source.name());
                continue;
            }
            w.sql = new TableSql(w.table, cols.get());
            Optional<String> mismatch = columnMismatch(cols.get(), target, w.table);
            if (mismatch.isPresent()) {
                broken(w, mismatch.get());
                continue;
            }
            if (w.sql.keyed()) {
                List<String> b = boundaries.get(w.table.display());
                if (b == null) {
                    b = column(source, w.sql.boundaries(), List.of(), (long) rangeRows);
                    boundaries.put(w.table.display(), b);
                }
                w.ranges = KeyRange.between(b);
            } else {
                w.ranges = List.of(new KeyRange(0, null, null));
            }
            hashes(source, w.sql, w.ranges, w.sourceCounts, w.sourceHashes);
            hashes(target, w.sql, w.ranges, w.targetCounts, w.targetHashes);
            for (int i = 0; i < w.ranges.size(); i++) {
                if (w.sourceCounts.get(i)[0] != w.targetCounts.get(i)[0]
                        || !w.sourceHashes.get(i).equals(w.targetHashes.get(i))) {
                    w.differing.add(i);
                }
            }
        }
        endAll(sessions);
    }

    private static void broken(Work w, String why) {
        w.broken = true;
        w.notes.add(why);
    }

    /** The target must have every source column with the source's type, or the hashes mean nothing. */
    private static Optional<String> columnMismatch(List<Catalog.Column> src, DbSession target, Relation r)
            throws SQLException {
        Optional<List<Catalog.Column>> dst = target.columns(r.schema(), r.name());
        if (dst.isEmpty()) {
            return Optional.of("table does not exist on target db " + target.name() + ": run 'ibex validate'");
        }
        return ColumnDiff.of(src, dst.get()).stream()
                .filter(f -> f.kind() == ColumnDiff.Kind.MISSING || f.kind() == ColumnDiff.Kind.TYPE_DIFFERS)
                .findFirst().map(f -> "column " + f.column() + " " + f.source().type() + " differs or is missing on "
                        + "target db " + target.name() + ": run 'ibex validate'");
    }

    private static void hashes(DbSession s, TableSql sql, List<KeyRange> ranges, List<long[]> counts,
                               List<String> hashes) throws SQLException {
        for (KeyRange r : ranges) {
            try (PreparedStatement ps = prepare(s.connection(), sql.hash(r), r.params()); ResultSet rs = ps.executeQuery()) {
                rs.next();
                counts.add(new long[] {rs.getLong(1)});
                hashes.add(rs.getString(2));
            }
        }
    }

    // ---- pass 2: differing ranges row by row, after one more drain ------------------------------

    private void recheck(List<Work> differing, Map<String, DbSession> sessions) throws SQLException {
        beginAll(differing, sessions);
        for (Work w : differing) {
            DbSession source = sessions.get(w.table.db());
            DbSession target = sessions.get(w.target.name());
            List<Integer> still = new ArrayList<>();
            for (int i : w.differing) {
                boolean differs = w.sql.keyed() ? rowsDiffer(w, i, source, target) : hashesDiffer(w, i, source, target);
                if (differs) {
                    still.add(i);
                }
            }
            w.differing.clear();
            w.differing.addAll(still);
        }
        endAll(sessions);
    }

    /** A range of a table without key, hashed again: its rows cannot be listed one by one. */
    private static boolean hashesDiffer(Work w, int i, DbSession source, DbSession target) throws SQLException {
        KeyRange r = w.ranges.get(i);
        List<long[]> sc = new ArrayList<>();
        List<long[]> tc = new ArrayList<>();
        List<String> sh = new ArrayList<>();
        List<String> th = new ArrayList<>();
        hashes(source, w.sql, List.of(r), sc, sh);
        hashes(target, w.sql, List.of(r), tc, th);
        w.sourceCounts.set(i, sc.get(0));
        w.targetCounts.set(i, tc.get(0));
        if (sc.get(0)[0] != tc.get(0)[0] || !sh.get(0).equals(th.get(0))) {
            w.notes.add("no key: rows cannot be listed or repaired one by one");
            return true;
        }
        return false;
    }

    /** A range read again row by row: the keys missing on, extra on, or changed on the target. */
    private static boolean rowsDiffer(Work w, int i, DbSession source, DbSession target) throws SQLException {
        KeyRange r = w.ranges.get(i);
        Map<List<String>, String> src = rows(source, w.sql, r);
        Map<List<String>, String> dst = rows(target, w.sql, r);
        w.sourceCounts.set(i, new long[] {src.size()});
        w.targetCounts.set(i, new long[] {dst.size()});
        int before = w.diffs.size();
        src.forEach((key, md5) -> {
            String other = dst.get(key);
            if (other == null) {
                w.diffs.add(new RowDiff(RowDiff.Kind.MISSING, key));
            } else if (!Objects.equals(other, md5)) {
                w.diffs.add(new RowDiff(RowDiff.Kind.CHANGED, key));
            }
        });
        dst.keySet().stream().filter(k -> !src.containsKey(k)).forEach(k -> w.diffs.add(new RowDiff(RowDiff.Kind.EXTRA, k)));
        return w.diffs.size() > before;
    }

    private static Map<List<String>, String> rows(DbSession s, TableSql sql, KeyRange r) throws SQLException {
        Map<List<String>, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = prepare(s.connection(), sql.rows(r), r.params())) {
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> key = new ArrayList<>(n - 1);
                    for (int c = 1; c < n; c++) {
                        key.add(rs.getString(c));
                    }
                    out.put(List.copyOf(key), rs.getString(n));
                }
            }
        }
        return out;
    }

    // ---- sessions -------------------------------------------------------------------------------

    /** One snapshot (REPEATABLE READ, or SERIALIZABLE before 9.1), read-only transaction per db: each side of a pass sees one snapshot. */
    private static void beginAll(List<Work> work, Map<String, DbSession> sessions) throws SQLException {
        for (Work w : work) {
            for (Db db : List.of(w.source, w.target)) {
                DbSession s = sessions.get(db.name());
                if (s == null) {
                    s = DbSession.open(db, "ibex compare");
                    sessions.put(db.name(), s);
                    try (Statement st = s.connection().createStatement()) {
                        for (String set : TableSql.settings(s.serverVersion())) {
                            st.execute(set);
                        }
                    }
                }
                Connection c = s.connection();
                if (c.getAutoCommit()) {
                    c.setAutoCommit(false);
                    c.setTransactionIsolation(SessionSettings.snapshotIsolationLevel(s.serverVersion()));
                    c.setReadOnly(true);
                    try (Statement st = c.createStatement()) {
                        st.execute("SELECT 1");
                    }
                }
            }
        }
    }

    private static void endAll(Map<String, DbSession> sessions) throws SQLException {
        for (DbSession s : sessions.values()) {
            Connection c = s.connection();
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
                c.setReadOnly(false);
            }
        }
    }

    private Db source(Relation r) {
        return plan.members().stream().map(SyncPlan.Member::db).filter(d -> d.name().equals(r.db())).findFirst()
                .orElseThrow(() -> new IbexException(ExitCode.BAD_INPUT, "Table " + r.display() + " belongs to db "
                        + r.db() + ", which is not in sync " + plan.sync().name()));
    }

    static PreparedStatement prepare(Connection c, String sql, List<String> params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < params.size(); i++) {
            ps.setString(i + 1, params.get(i));
        }
        return ps;
    }

    private static List<String> column(DbSession s, String sql, List<String> params, long every) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = prepare(s.connection(), sql, params)) {
            ps.setLong(params.size() + 1, every);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
