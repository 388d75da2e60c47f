package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.migrate.Comparer;
import dev.ibex.Json;
import dev.ibex.migrate.Repairer;
import dev.ibex.migrate.RowDiff;
import dev.ibex.migrate.TableResult;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.SyncPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "compare",
        header = "Compare the rows of a sync's tables on its source and on every target.", description = {
    "Compare the rows of a sync's tables on the source and on every target: row count and an md5 over the rows",
    "in key order, in ranges of --range-rows rows by the first key column. Pending changes are applied first and",
    "the source is read in one snapshot; a differing range is drained and re-read row by row before it is",
    "reported, listing up to --max-rows keys missing on, extra on, or changed on the target.",
    "One line per table and target: MATCH|DIFF  table  target  detail. Exit 1 when any table differs.",
    "--repair deletes the differing keys on the target and copies the source's rows for them in (one target",
    "transaction, triggers suppressed), then compares again. --json fields: sync, table, target, status,",
    "source_rows, target_rows, ranges, differing_ranges, key, missing, extra, changed, differing_rows, notes."})
public class CompareCommand extends Verb {

    @Parameters(index = "0", paramLabel = "SYNC", description = "The sync to compare.")
    String syncName;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "TABLE", description = "Only these tables (schema.table or table).")
    List<String> only = new ArrayList<>();

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Option(names = "--repair", description = "Re-copy the differing rows from the source, then compare again.")
    boolean repair;

    @Option(names = "--max-rows", paramLabel = "N", defaultValue = "20",
            description = "Differing keys listed per table and target (default ${DEFAULT-VALUE}).")
    int maxRows;

    @Option(names = "--range-rows", paramLabel = "N", defaultValue = "100000",
            description = "Rows per hashed range (default ${DEFAULT-VALUE}).")
    int rangeRows;

    @Override
    public Integer call() {
        if (maxRows < 0 || rangeRows < 1) {
            throw IbexException.badInput("--max-rows must be 0 or more and --range-rows 1 or more");
        }
        EngineLogs quiet = EngineLogs.quietUnless(debug());
        try (Repository repo = openRepository()) {
            SyncPlan plan = repo.plan(syncName);
            List<Relation> tables = tables(plan);
            Comparer.Report report = new Comparer(repo, plan, tables, rangeRows).run();
            Map<String, Object> out = new LinkedHashMap<>();
            print("", report, out);
            if (repair && !report.match()) {
                List<String> repaired = repair(plan, report);
                report = new Comparer(repo, plan, tables, rangeRows).run();
                out.put("repairs", repaired);
                print("After repair: ", report, out);
            }
            if (json) {
                say(Json.write(out));
            }
            return report.match() ? ExitCode.OK.code() : ExitCode.BAD_INPUT.code();
        } finally {
            quiet.close();
        }
    }

    private List<Relation> tables(SyncPlan plan) {
        if (only.isEmpty()) {
            return plan.tables();
        }
        List<Relation> out = new ArrayList<>();
        for (String name : only) {
            List<Relation> hits = plan.tables().stream()
                    .filter(r -> r.display().equals(name) || r.name().equals(name)).toList();
            if (hits.size() != 1) {
                throw IbexException.badInput((hits.isEmpty() ? "No table \"" + name + "\" in sync "
                        : "Table name \"" + name + "\" is ambiguous in sync ") + plan.sync().name()
                        + ": name it as schema.table from 'ibex list relgroup " + plan.sync().relgroup() + "'");
            }
            out.add(hits.get(0));
        }
        return out;
    }

    private void print(String prefix, Comparer.Report report, Map<String, Object> out) {
        String key = prefix.isEmpty() ? "results" : "after_repair";
        out.put(prefix.isEmpty() ? "notes" : "after_repair_notes", report.notes());
        out.put(key, report.results().stream().map(r -> r.json(maxRows)).toList());
        if (json) {
            return;
        }
        report.notes().forEach(n -> say(prefix + "Note: " + n));
        for (TableResult r : report.results()) {
            say(r.line());
            for (RowDiff.Kind kind : RowDiff.Kind.values()) {
                r.diffs(kind).stream().limit(maxRows).forEach(d -> say("       " + kind.words() + ": "
                        + d.describe(r.keyColumns())));
            }
            if (r.diffs().size() > maxRows * RowDiff.Kind.values().length) {
                say("       (more differing rows not listed: --max-rows)");
            }
        }
        long diffs = report.results().stream().filter(r -> !r.match()).count();
        say(prefix + (diffs == 0 ? "All " + report.results().size() + " table comparison(s) match"
                : diffs + " of " + report.results().size() + " table comparison(s) differ"));
    }

    private List<String> repair(SyncPlan plan, Comparer.Report report) {
        List<String> lines = new ArrayList<>();
        for (TableResult r : report.results()) {
            if (r.match()) {
                continue;
            }
            if (r.diffs().isEmpty()) {
                lines.add("Cannot repair " + r.table().display() + " on " + r.target() + " row by row"
                        + (r.notes().isEmpty() ? "" : " (" + String.join("; ", r.notes()) + ")")
                        + ": copy it whole with onetimecopy");
                if (!json) {
                    say(lines.get(lines.size() - 1));
                }
                continue;
            }
            Db source = db(plan, r.table().db());
            Db target = db(plan, r.target());
            Repairer.Repaired done = Repairer.repair(source, target, r.table(), r.diffs());
            lines.add("Repaired " + r.table().display() + " on " + r.target() + ": deleted " + done.deleted()
                    + " row(s), copied " + done.inserted() + " row(s) from " + source.name());
            if (!json) {
                say(lines.get(lines.size() - 1));
            }
        }
        return lines;
    }

    private static Db db(SyncPlan plan, String name) {
        return plan.members().stream().map(SyncPlan.Member::db).filter(d -> d.name().equals(name)).findFirst()
                .orElseThrow();
    }
}
