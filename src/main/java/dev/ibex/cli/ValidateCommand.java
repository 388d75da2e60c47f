package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.migrate.CheckResult;
import dev.ibex.migrate.CheckStatus;
import dev.ibex.Json;
import dev.ibex.migrate.Validator;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;
import dev.ibex.repository.SyncPlan;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "validate",
        header = "Check that syncs can run before starting them, one line per check.", description = {
    "Check that syncs can run, before starting them: connections, source and target are different databases,",
    "target version, extensions and languages, tables and columns on every db, keys, trigger suppression on",
    "targets, privileges, large objects, long names, size. One line per check: PASS|WARN|FAIL  check  detail;",
    "the fix follows a WARN or FAIL. Every check runs even after a failure. Exit 1 when any check FAILs.",
    "--json prints an array of {sync, check, status, detail, fix} (fix is null on PASS)."})
public class ValidateCommand extends Verb {

    @Parameters(arity = "0..*", paramLabel = "SYNC", description = "Syncs to check, or all (the default).")
    List<String> names = new ArrayList<>();

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Override
    public Integer call() {
        List<CheckResult> all = new ArrayList<>();
        try (Repository repo = openRepository()) {
            List<SyncPlan> plans = plans(repo);
            if (plans.isEmpty() && !json) {
                say("No syncs to validate: add one with 'ibex add sync'");
            }
            for (SyncPlan plan : plans) {
                List<CheckResult> results = new Validator(plan).run();
                all.addAll(results);
                if (!json) {
                    print(plan, results);
                }
            }
        }
        if (json) {
            say(Json.write(all.stream().map(CheckResult::json).toList()));
        }
        boolean failed = all.stream().anyMatch(r -> r.status() == CheckStatus.FAIL);
        return (failed ? ExitCode.BAD_INPUT : ExitCode.OK).code();
    }

    private List<SyncPlan> plans(Repository repo) {
        boolean everything = names.isEmpty() || names.size() == 1 && names.get(0).equalsIgnoreCase("all");
        List<String> wanted = everything ? repo.syncs().stream().map(Sync::name).toList() : names;
        List<SyncPlan> plans = new ArrayList<>();
        for (String name : wanted) {
            plans.add(repo.plan(name));
        }
        return plans;
    }

    private void print(SyncPlan plan, List<CheckResult> results) {
        say("Sync " + plan.sync().name() + ":");
        int width = results.stream().mapToInt(r -> r.check().length()).max().orElse(0);
        results.forEach(r -> say(r.line(width)));
        long fails = results.stream().filter(r -> r.status() == CheckStatus.FAIL).count();
        long warns = results.stream().filter(r -> r.status() == CheckStatus.WARN).count();
        say("Sync " + plan.sync().name() + ": " + (results.size() - fails - warns) + " passed, " + warns
                + " warning(s), " + fails + " failed");
    }
}
