package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.controller.ControllerClient;
import dev.ibex.controller.SyncSelector;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "reload",
        header = "Make the running controller re-read the syncs.", description = {
    "Make the running controller re-read the syncs: new ones start, changed ones are re-read,",
    "removed, inactive and paused ones stop. With sync names, those are re-activated and kicked."})
public class ReloadCommand extends Verb {

    static final Duration RELOAD_WAIT = Duration.ofSeconds(60);

    @Parameters(arity = "0..*", paramLabel = "SYNC", description = "Syncs (names, all, wildcards); none = everything.")
    List<String> words;

    @Override
    public Integer call() {
        List<String> given = new ArrayList<>(words == null ? List.of() : words);
        given.removeIf(w -> w.equalsIgnoreCase("config"));
        try (Repository repo = openRepository()) {
            List<String> names = SyncSelector.select(repo, given).stream().map(Sync::name).toList();
            ControllerClient client = new ControllerClient(repo);
            if (client.running().isEmpty()) {
                throw IbexException.badInput("The ibex controller is not running, so there is nothing to reload: "
                        + "it reads the configuration when it starts ('ibex start')");
            }
            String what = names.isEmpty() ? "configuration" : (names.size() == 1 ? "sync " : "syncs ")
                    + String.join(", ", names);
            out().print("Reloading " + what + " ... ");
            out().flush();
            if (!client.reload(String.join(",", names), RELOAD_WAIT)) {
                say("");
                throw IbexException.badInput("The ibex controller did not confirm the reload within "
                        + RELOAD_WAIT.toSeconds() + " s: see its log");
            }
            say("DONE!");
            return ExitCode.OK.code();
        }
    }
}
