package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.migrate.Cutover;
import dev.ibex.migrate.WayBackPlan;
import dev.ibex.Json;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "cutover",
        header = "Check that a sync's targets are ready to take over from its source.", description = {
    "Check that a sync's targets are ready to take over from its source: run the sync until nothing is pending",
    "(each run also sets the relgroup's sequences on the targets), compare every table as 'ibex compare' does,",
    "compare every sequence, and say what is left to do. Exit 0 when everything matches and nothing is pending,",
    "1 when something differs or is still pending, 2 when a run of the sync failed. --json fields: sync, ready,",
    "drain {runs, pending, error}, backlog, open_writers {source db: open transactions that wrote to its tables},",
    "notes, tables (as compare), sequences (sequence, target, status,",
    "source_last_value, source_is_called, target_last_value, target_is_called, note), todo.",
    "",
    "--reverse also opens the way back once the check says Ready: it creates and starts sync SYNC_reverse",
    "(its relgroup and dbgroup have the same name; --reverse-name=NAME for another) from the target back to",
    "the source, with capture on the target and no one-time copy, drains SYNC once more and makes it inactive,",
    "so the old db stays current and the applications can move back. Stop writes to the source first.",
    "Everything the way back needs (the target takes capture objects, the source lets ibex suppress its",
    "triggers, privileges, names) is checked before anything is created or run: a problem is one line and",
    "exit 1 (3: a db cannot be reached), with nothing changed. --json adds reverse {sync, source, target,",
    "forward_sync, forward_status, controller_running, late_changes, notes}, null when nothing was created."})
public class CutoverCommand extends Verb {

    @Parameters(index = "0", paramLabel = "SYNC", description = "The sync whose targets take over.")
    String syncName;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Option(names = "--range-rows", paramLabel = "N", defaultValue = "100000",
            description = "Rows per hashed range of the comparison (default ${DEFAULT-VALUE}).")
    int rangeRows;

    @Option(names = "--reverse", description = "Once Ready, create and start the way back (a sync from the target to "
            + "the source) and make this sync inactive.")
    boolean reverse;

    @Option(names = "--reverse-name", paramLabel = "NAME",
            description = "Name of the way back's sync, relgroup and dbgroup (default SYNC_reverse).")
    String reverseName;

    @Override
    public Integer call() {
        if (rangeRows < 1) {
            throw IbexException.badInput("--range-rows must be 1 or more");
        }
        if (reverseName != null && !reverse) {
            throw IbexException.badInput("--reverse-name names the way back that --reverse opens: give --reverse too");
        }
        EngineLogs quiet = EngineLogs.quietUnless(debug());
        try (Repository repo = openRepository()) {
            SyncPlan plan = repo.plan(syncName);
            WayBackPlan back = reverse ? wayBack(repo) : null;
            Cutover.Report report = Cutover.check(repo, syncName, rangeRows);
            int code = exit(report);
            if (!json) {
                print(report);
            }
            ReverseCutover.Opened opened = back != null && code == 0 ? ReverseCutover.open(repo, back) : null;
            List<String> todo = opened != null ? opened.todo() : todo(plan, report);
            if (json) {
                say(Json.write(json(report, todo, opened)));
            } else {
                printEnd(opened, reverse && opened == null, todo);
            }
            return opened != null && opened.lateChanges() > 0 ? ExitCode.BAD_INPUT.code() : code;
        } finally {
            quiet.close();
        }
    }

    /** The way back, checked before the cutover check runs anything: a refusal leaves everything as it was. */
    private WayBackPlan wayBack(Repository repo) {
        WayBackPlan back = WayBackPlan.of(repo, syncName, reverseName);
        back.preflight(repo);
        return back;
    }

    private static int exit(Cutover.Report report) {
        if (report.drain().error() != null) {
            return ExitCode.RUN_FAILED.code();
        }
        return report.match() ? ExitCode.OK.code() : ExitCode.BAD_INPUT.code();
    }

    private void printEnd(ReverseCutover.Opened opened, boolean notReversed, List<String> todo) {
        if (opened != null) {
            opened.lines().forEach(this::say);
        }
        if (notReversed) {
            say("Not reversed: the check is not Ready, so nothing was created; run 'ibex cutover " + syncName
                    + " --reverse' again once it is");
        }
        say("Still to do:");
        for (int i = 0; i < todo.size(); i++) {
            say("  " + (i + 1) + ". " + todo.get(i));
        }
    }

    private void print(Cutover.Report r) {
        say("Cutover check of sync " + r.sync());
        if (r.drain().error() != null) {
            say("Drain FAILED in run " + r.drain().runs() + ": " + r.drain().error());
        } else {
            say("Drained in " + r.drain().runs() + " run(s); backlog now " + r.backlog() + " change(s)");
        }
        // the comparison's own drain failing again is already said above
        r.tables().notes().stream().filter(n -> r.drain().error() == null || !n.startsWith("draining"))
                .forEach(n -> say("Note: " + n));
        r.tables().results().forEach(t -> say(t.line()));
        r.sequences().forEach(s -> say(s.line()));
        say(verdict(r));
    }

    private static String verdict(Cutover.Report r) {
        long tables = r.tables().results().stream().filter(t -> !t.match()).count();
        long sequences = r.sequences().stream().filter(s -> !s.match()).count();
        if (r.match()) {
            return "Ready: " + r.tables().results().size() + " table comparison(s) and " + r.sequences().size()
                    + " sequence comparison(s) match, nothing pending";
        }
        List<String> why = new ArrayList<>();
        if (r.drain().error() != null) {
            why.add("a sync run failed");
        }
        if (tables > 0) {
            why.add(tables + " of " + r.tables().results().size() + " table comparison(s) differ");
        }
        if (sequences > 0) {
            why.add(sequences + " of " + r.sequences().size() + " sequence comparison(s) differ");
        }
        if (r.backlog() > 0) {
            why.add(r.backlog() + " change(s) still pending");
        }
        r.openWriters().forEach((db, n) -> {
            if (n > 0) {
                why.add(n + " transaction(s) that wrote to the replicated tables on source db " + db + " still open "
                        + "(what they wrote is not on the target, and they may commit after this check: stop them)");
            }
        });
        return "NOT ready: " + String.join(", ", why);
    }

    private static List<String> todo(SyncPlan plan, Cutover.Report r) {
        String s = plan.sync().name();
        String targets = Stream.concat(plan.targets().stream(), plan.fullcopyTargets().stream()).map(Db::name)
                .collect(Collectors.joining(", "));
        List<String> out = new ArrayList<>();
        if (!r.match()) {
            out.add("Fix what differs first: 'ibex status " + s + "' shows failed runs, 'ibex compare " + s
                    + " --repair' re-copies differing rows, onetimecopy=1 re-copies whole tables");
        }
        out.add("Stop writes to the source (stop the applications, or make their users read-only), then run "
                + "'ibex cutover " + s + "' again until it says Ready with backlog 0 ('ibex cutover " + s + " --reverse' "
                + "then also opens a way back to the source, which keeps it current)");
        out.add("Point the applications at the target: " + targets);
        out.add("If writes went on after the last check, run 'ibex cutover " + s + "' again: it moves the last changes "
                + "and the sequence values (sequences outside the relgroup need setval by hand)");
        out.add("Afterwards remove the sync and the capture objects: 'ibex remove sync " + s + "' (the source loses "
                + "its ibex triggers and schema once no sync reads it), and 'ibex stop' if the controller ran only for this");
        return out;
    }

    private Map<String, Object> json(Cutover.Report r, List<String> todo, ReverseCutover.Opened opened) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sync", r.sync());
        m.put("ready", r.match());
        Map<String, Object> drain = new LinkedHashMap<>();
        drain.put("runs", r.drain().runs());
        drain.put("pending", r.drain().pending());
        drain.put("error", r.drain().error());
        m.put("drain", drain);
        m.put("backlog", r.backlog());
        m.put("open_writers", r.openWriters());
        m.put("notes", r.tables().notes());
        m.put("tables", r.tables().results().stream().map(t -> t.json(20)).toList());
        m.put("sequences", r.sequences().stream().map(Cutover.SequenceState::json).toList());
        m.put("todo", todo);
        if (reverse) {
            m.put("reverse", opened == null ? null : opened.json());
        }
        return m;
    }
}
