package dev.ibex.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "deactivate", description = {
    "Set syncs inactive; a running controller lets their current run finish and stops their workers.",
    "A trailing number N waits up to N seconds (0: no limit) for the controller to confirm."})
public class DeactivateCommand extends Verb {

    @Parameters(arity = "1..*", paramLabel = "SYNC", description = "Syncs (names, all, wildcards) [N].")
    List<String> words;

    @Override
    public Integer call() {
        return ActivateCommand.switchStatus(this, words, "inactive", "Deactivating");
    }
}
