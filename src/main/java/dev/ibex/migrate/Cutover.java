package dev.ibex.migrate;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.replicate.Backlog;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
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
     * @param backlog changes captured on the source and not yet applied, counted after the comparison
     */
    public record Report(String sync, Drain.Drained drain, long backlog, Comparer.Report tables,
                         List<SequenceState> sequences) {
        public boolean match() {
            return drain.error() == null && backlog == 0 && tables.match()
                    && sequences.stream().allMatch(SequenceState::match);
        }
    }

    private Cutover() {
    }

    public static Report check(Repository repo, String sync, int rangeRows) {
        Drain.Drained drained = Drain.drain(repo, sync, Drain.MAX_RUNS);
        SyncPlan plan = repo.plan(sync);
        Comparer.Report tables = new Comparer(repo, plan, plan.tables(), rangeRows).run();
        List<SequenceState> sequences = sequences(plan);
        long backlog;
        try (DbPools pools = new DbPools()) {
            backlog = Backlog.pending(repo, pools, sync);
        }
        return new Report(sync, drained, backlog, tables, sequences);
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
