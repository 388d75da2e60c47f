package dev.ibex.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "resume", description = "Resume paused syncs; a running controller kicks them at once.")
public class ResumeCommand extends Verb {

    @Parameters(arity = "1..*", paramLabel = "SYNC", description = "Syncs (names, all, wildcards).")
    List<String> words;

    @Override
    public Integer call() {
        return PauseCommand.pause(this, words, false);
    }
}
