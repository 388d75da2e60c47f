package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.controller.ControllerClient;
import dev.ibex.controller.RunningController;
import dev.ibex.controller.SyncSelector;
import dev.ibex.pg.DbPools;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;
import dev.ibex.status.StatusReader;
import dev.ibex.status.StatusReport;
import java.time.ZoneId;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "status", description = {
    "Without names: one line per sync (Bucardo's table). With names (or all): everything about those syncs.",
    "Reads the repository only, so it works whether or not the controller runs."})
public class StatusCommand extends Verb {

    private static final long BACKLOG_WAIT_MS = 3000;

    @Option(names = "--json", description = "JSON for scripts; fields are listed in README.md, \"Status JSON\".")
    boolean json;

    @Parameters(arity = "0..*", paramLabel = "SYNC", description = "Syncs (names, all, wildcards).")
    List<String> words;

    @Override
    public Integer call() {
        boolean named = words != null && !words.isEmpty();
        // the table has no backlog column: only the detail and JSON forms read the sources
        try (Repository repo = openRepository(); DbPools pools = named || json ? new DbPools(BACKLOG_WAIT_MS) : null) {
            List<RunningController> controller = new ControllerClient(repo).all();
            List<Sync> syncs = named ? SyncSelector.select(repo, words) : repo.syncs();
            StatusReport report = new StatusReport(controller, new StatusReader(repo, pools).read(syncs),
                    ZoneId.systemDefault());
            out().print(json ? report.json() : named ? report.details() : report.table());
            out().flush();
            return ExitCode.OK.code();
        }
    }
}
