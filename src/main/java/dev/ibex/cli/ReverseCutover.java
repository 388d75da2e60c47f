package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.capture.Capture;
import dev.ibex.controller.Channels;
import dev.ibex.controller.ControllerClient;
import dev.ibex.migrate.Cutover;
import dev.ibex.migrate.Drain;
import dev.ibex.migrate.WayBackPlan;
import dev.ibex.pg.DbPools;
import dev.ibex.replicate.Backlog;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Repository;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What `ibex cutover SYNC --reverse` does once the cutover check said Ready: open the way back
 * (see {@link WayBackPlan}) and close the way forward, so that nothing written on either db is lost
 * while the applications move from the old db to the new one:
 * <ol>
 * <li>in one repository transaction, the way back's model is written and checked;</li>
 * <li>its capture goes onto the new db (committed there, before any application writes to it),
 * and its S_prev is the snapshot taken after the triggers went in, so every later write on the
 * new db is in its first batch; no one-time copy, since the check proved the old db equal;</li>
 * <li>the forward sync is drained once more (on a repository connection of its own): a change
 * that reached the old db after the check moves now, and one still pending refuses the switch;</li>
 * <li>the forward sync becomes inactive, so the old db is only a target (its capture stays while
 * the forward sync exists, which keeps 'ibex activate SYNC' as a way to move forward again), and
 * the transaction commits with a reload notice to a running controller.</li>
 * </ol>
 * A failure before the commit rolls the repository back and takes the capture off the new db
 * again. ibex applies with session_replication_role = replica, so the rows one sync applies are
 * never captured by the other: nothing echoes.
 */
final class ReverseCutover {

    /**
     * @param lateChanges changes written to the old db after the last drain, which the forward sync no longer moves
     */
    record Opened(WayBackPlan plan, boolean controllerRunning, long lateChanges, List<String> notes) {

        List<String> lines() {
            String back = plan.name();
            String from = plan.from().name();
            String to = plan.to().name();
            List<String> out = new ArrayList<>(notes);
            out.add("Reversed: sync " + back + " carries every change on db " + from + " back to db " + to
                    + " (relgroup and dbgroup " + back + ", capture on db " + from
                    + ", no one-time copy: the check above proved db " + to + " equal)");
            out.add("Sync " + plan.forwardSync() + " is inactive: db " + to + " is only a target now (its capture stays "
                    + "while sync " + plan.forwardSync() + " exists)");
            out.add(controllerRunning ? "The running ibex controller starts sync " + back + " and stops sync "
                    + plan.forwardSync() : "The ibex controller is not running: start it ('ibex start') to run sync "
                    + back + "; until then the changes on db " + from + " wait in its change log");
            if (lateChanges > 0) {
                out.add("Warning: " + lateChanges + " change(s) written to db " + to + " after the last drain are not on "
                        + "db " + from + ": stop every write to db " + to + "; to move them, 'ibex activate "
                        + plan.forwardSync() + "' until 'ibex cutover " + plan.forwardSync() + "' says Ready, then "
                        + "'ibex deactivate " + plan.forwardSync() + "'");
            }
            return out;
        }

        List<String> todo() {
            String back = plan.name();
            return List.of("Point the applications at db " + plan.from().name() + " now: their writes there reach db "
                    + plan.to().name() + " through sync " + back,
                    "To move back (README: Rollback after cutover): stop writes to db " + plan.from().name()
                    + ", run 'ibex cutover " + back + "' until it says Ready with backlog 0, then point the "
                    + "applications at db " + plan.to().name() + " and run 'ibex remove sync " + back + "'",
                    "When the way back is no longer needed: 'ibex remove sync " + back + "' (db " + plan.from().name()
                    + " loses its ibex triggers and schema), then 'ibex remove sync " + plan.forwardSync() + "'");
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("sync", plan.name());
            m.put("source", plan.from().name());
            m.put("target", plan.to().name());
            m.put("forward_sync", plan.forwardSync());
            m.put("forward_status", "inactive");
            m.put("controller_running", controllerRunning);
            m.put("late_changes", lateChanges);
            m.put("notes", notes);
            return m;
        }
    }

    private ReverseCutover() {
    }

    /** Opens the way back and closes the way forward; on failure nothing is kept, and one line says why. */
    static Opened open(Repository repo, WayBackPlan plan) {
        List<String> notes = new ArrayList<>();
        try {
            ModelWriter model = new ModelWriter(repo);
            plan.writeModel(model);
            plan.check(repo, model, notes::add);
            Capture.reconcile(repo, plan.from());
            drainForward(repo, plan);
            repo.update("UPDATE ibex.sync SET status = 'inactive' WHERE name = ?", plan.forwardSync());
            new ControllerClient(repo).notify(Channels.RELOAD, plan.forwardSync() + "," + plan.name());
            repo.commit();
        } catch (IbexException e) {
            throw undo(repo, plan, e);
        } catch (RuntimeException e) {
            undo(repo, plan, new IbexException(ExitCode.INTERNAL, String.valueOf(e.getMessage())));
            throw e;
        }
        boolean running = new ControllerClient(repo).running().isPresent();
        return new Opened(plan, running, lateChanges(repo, plan), notes);
    }

    /** Drains that may find a transaction that committed just after the one before. */
    private static final int DRAIN_ROUNDS = 3;

    /**
     * The last changes of the old db move to the new one; any still pending refuse the switch. The
     * open writers are counted after the drain, and the backlog once more after them: a writer that
     * committed between the drain and that count is in neither, and is drained in another round.
     */
    private static void drainForward(Repository repo, WayBackPlan plan) {
        for (int round = 1;; round++) {
            drainOnce(repo, plan);
            long late = pending(repo, plan);
            if (late == 0) {
                return;
            }
            if (round == DRAIN_ROUNDS) {
                throw IbexException.badInput(late + " change(s) committed on db " + plan.to().name() + " during each of "
                        + DRAIN_ROUNDS + " last drains of sync " + plan.forwardSync() + " (writes go on there): stop "
                        + "every write to db " + plan.to().name() + ", then run 'ibex cutover " + plan.forwardSync()
                        + " --reverse' again");
            }
        }
    }

    private static void drainOnce(Repository repo, WayBackPlan plan) {
        Drain.Drained d;
        // the forward runs commit their run rows: on a connection of their own, so this transaction stays open
        try (Repository own = Repository.open(repo.spec())) {
            d = Drain.drain(own, plan.forwardSync(), Drain.MAX_RUNS);
        }
        String again = "then run 'ibex cutover " + plan.forwardSync() + " --reverse' again";
        if (d.error() != null) {
            throw new IbexException(ExitCode.RUN_FAILED, "the last drain of sync " + plan.forwardSync() + " failed ("
                    + d.error() + "): see 'ibex status " + plan.forwardSync() + "', " + again);
        }
        if (d.pending() > 0) {
            throw IbexException.badInput(d.pending() + " change(s) on db " + plan.to().name() + " still pend after "
                    + d.runs() + " runs of sync " + plan.forwardSync() + " (writes go on there): stop every write to db "
                    + plan.to().name() + ", " + again);
        }
        // a transaction that wrote before the drain and commits after it would be on the old db only
        long open = Cutover.openWriters(plan.to(), repo.plan(plan.forwardSync()).tables());
        if (open > 0) {
            throw IbexException.badInput(open + " transaction(s) that wrote to the tables of sync " + plan.forwardSync()
                    + " on db " + plan.to().name() + " are still open (writes go on there): stop every write to db "
                    + plan.to().name() + ", " + again);
        }
    }

    /** Rolls the repository back and takes the way back's capture off the new db; returns the one line to show. */
    private static IbexException undo(Repository repo, WayBackPlan plan, IbexException why) {
        repo.rollback();
        String left = "";
        try {
            Capture.reconcile(repo, plan.from());
            repo.commit();
        } catch (IbexException e) {
            repo.rollback();
            left = "; its capture objects may be left on db " + plan.from().name() + " (" + e.getMessage()
                    + "): when no other sync reads from it, DROP SCHEMA ibex CASCADE there removes them";
        }
        return new IbexException(why.exit(), "Not reversed, nothing kept: " + why.getMessage() + left, why.causeLine(),
                why);
    }

    private static long lateChanges(Repository repo, WayBackPlan plan) {
        try {
            return pending(repo, plan);
        } catch (IbexException e) {
            return 0; // the old db cannot be read now: what it holds was drained above
        }
    }

    private static long pending(Repository repo, WayBackPlan plan) {
        try (DbPools pools = new DbPools()) {
            return Backlog.pending(repo, pools, plan.forwardSync());
        }
    }
}
