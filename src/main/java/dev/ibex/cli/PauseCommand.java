package dev.ibex.cli;

import dev.ibex.controller.SyncSelector;
import dev.ibex.controller.SyncSwitches;
import dev.ibex.repository.Repository;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "pause", description = {
    "Pause active syncs: their current run finishes, then they do not run until 'ibex resume'.",
    "Stays paused across controller restarts."})
public class PauseCommand extends Verb {

    @Parameters(arity = "1..*", paramLabel = "SYNC", description = "Syncs (names, all, wildcards).")
    List<String> words;

    @Override
    public Integer call() {
        return pause(this, words, true);
    }

    static int pause(Verb verb, List<String> words, boolean paused) {
        List<String> names = new ArrayList<>(words);
        Integer wait = ActivateCommand.trailingNumber(names);
        try (Repository repo = verb.openRepository()) {
            List<String> switched = SyncSwitches.setPaused(repo, SyncSelector.select(repo, names), paused);
            String line = (paused ? "Syncs paused: " : "Syncs resumed: ")
                    + (switched.isEmpty() ? "none (only active syncs can be)" : String.join(",", switched));
            return ActivateCommand.finish(verb, repo, switched, wait, List.of(line));
        }
    }
}
