package dev.ibex.migrate;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.replicate.Backlog;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * `ibex cutover S`: is the target ready to take over? Drains the sync (its runs also set the
 * sequences on the targets), compares every table, compares every sequence, and counts what is
 * still pending.
 */
public final class Cutover {

    /** One sequence on one target; target values are null when it could not be read there. */
    public record SequenceState(String sequence, String target, long sourceValue, boolean sourceCalled, Long targetValue,
                                Boolean targetCalled, String note) {
        public boolean match() {
            return note == null && Objects.equals(targetValue, sourceValue) && Objects.equals(targetCalled, sourceCalled);
        }

        public String line() {
            String head = String.format("%-5s  %s  %s  ", match() ? "MATCH" : "DIFF", sequence, target);
            if (note != null) {
                return head + note;
            }
            return head + (match() ? "last_value " + sourceValue
                    : "source last_value " + sourceValue + (sourceCalled ? "" : " (not called)") + ", target "
                            + targetValue + (Boolean.TRUE.equals(targetCalled) ? "" : " (not called)"));
        }

        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("sequence", sequence);
            m.put("target", target);
            m.put("status", match() ? "MATCH" : "DIFF");
            m.put("source_last_value", sourceValue);
            m.put("source_is_called", sourceCalled);
            m.put("target_last_value", targetValue);
            m.put("target_is_called", targetCalled);
            m.put("note", note);
            return m;
        }
    }

    /**
     * @param backlog     changes captured on the source and not yet applied, counted last (after the
     *                    open writers, so that one committing in between is counted here)
     * @param openWriters per source db, the transactions still open there that wrote to the sync's tables,
     *                    counted after the comparison: neither their rows nor their change-log rows are
     *                    visible to the drain or the comparison, and they may commit after the check
     */
    public record Report(String sync, Drain.Drained drain, long backlog, Comparer.Report tables,
                         List<SequenceState> sequences, Map<String, Long> openWriters) {
        public boolean match() {
            return drain.error() == null && backlog == 0 && tables.match()
                    && sequences.stream().allMatch(SequenceState::match) && openWriterCount() == 0;
        }

        /** Open writing transactions on all sources. */
        public long openWriterCount() {
            return openWriters.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private Cutover() {
    }

    public static Report check(Repository repo, String sync, int rangeRows) {
        Drain.Drained drained = Drain.drain(repo, sync, Drain.MAX_RUNS);
        SyncPlan plan = repo.plan(sync);
        Comparer.Report tables = new Comparer(repo, plan, plan.tables(), rangeRows).run();
        List<SequenceState> sequences = sequences(plan);
        // open writers before the backlog: a writer that commits in between is then in the backlog;
        // counted the other way round, a commit after the backlog and before this count is in neither
        Map<String, Long> writers = new LinkedHashMap<>();
        for (Db source : plan.sources()) {
            writers.put(source.name(), openWriters(source, plan.tables()));
        }
        long backlog;
        try (DbPools pools = new DbPools()) {
            backlog = Backlog.pending(repo, pools, sync);
        }
        return new Report(sync, drained, backlog, tables, sequences, writers);
    }

    /**
     * The transactions (prepared ones too) other than this session's that hold a write lock
     * (RowExclusiveLock: INSERT, UPDATE, DELETE) on one of the tables named by the two arrays
     * (schemas, names; unnest in the select list pairs them up on every version).
     */
    private static final String OPEN_WRITERS = """
            SELECT count(DISTINCT l.virtualtransaction) FROM pg_catalog.pg_locks l
              JOIN pg_catalog.pg_class c ON c.oid = l.relation
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND l.granted
               AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
               AND l.pid IS DISTINCT FROM pg_backend_pid()
               AND (n.nspname, c.relname) IN (SELECT unnest(?::text[]), unnest(?::text[]))""";

    /**
     * The open transactions on {@code db} that wrote, or are writing, to {@code tables}: what they
     * wrote is invisible to every other session until they commit, so a drain and a comparison
     * cannot see it; once they commit it is in the change log, after the check.
     */
    public static long openWriters(Db db, List<Relation> tables) {
        if (tables.isEmpty()) {
            return 0;
        }
        try (DbSession s = DbSession.open(db, "ibex cutover");
             PreparedStatement ps = s.connection().prepareStatement(OPEN_WRITERS)) {
            Connection c = s.connection();
            ps.setArray(1, c.createArrayOf("text", tables.stream().map(Relation::schema).toArray()));
            ps.setArray(2, c.createArrayOf("text", tables.stream().map(Relation::name).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Looking for open transactions that wrote to the tables of db \"" + db.name() + "\"", e);
        }
    }

    private static List<SequenceState> sequences(SyncPlan plan) {
        List<SequenceState> out = new ArrayList<>();
        if (plan.sequences().isEmpty()) {
            return out;
        }
        List<Db> targets = new ArrayList<>(plan.targets());
        targets.addAll(plan.fullcopyTargets());
        for (Db source : plan.sources()) {
            List<Relation> mine = plan.sequences().stream().filter(r -> r.db().equals(source.name())).toList();
            if (mine.isEmpty()) {
                continue;
            }
            try (DbSession s = DbSession.open(source, "ibex cutover")) {
                for (Relation r : mine) {
                    long[] sv = read(s, r);
                    for (Db t : targets) {
                        out.add(onTarget(r, t, sv));
                    }
                }
            } catch (SQLException e) {
                throw PgErrors.failed("Reading the sequences of source db \"" + source.name() + "\"", e);
            }
        }
        return out;
    }

    private static SequenceState onTarget(Relation r, Db target, long[] sv) {
        try (DbSession t = DbSession.open(target, "ibex cutover")) {
            long[] tv = read(t, r);
            return new SequenceState(r.display(), target.name(), sv[0], sv[1] == 1, tv[0], tv[1] == 1, null);
        } catch (SQLException e) {
            return new SequenceState(r.display(), target.name(), sv[0], sv[1] == 1, null, null,
                    "cannot be read on target db " + target.name() + ": " + PgErrors.message(e));
        } catch (RuntimeException e) {
            return new SequenceState(r.display(), target.name(), sv[0], sv[1] == 1, null, null, e.getMessage());
        }
    }

    /** last_value and is_called (1/0): the same query on 9.6 and 10+. */
    private static long[] read(DbSession s, Relation r) throws SQLException {
        try (var st = s.connection().createStatement();
             var rs = st.executeQuery("SELECT last_value, is_called FROM " + r.quoted())) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getBoolean(2) ? 1 : 0};
        }
    }
}
