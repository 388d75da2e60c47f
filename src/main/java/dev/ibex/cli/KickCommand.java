package dev.ibex.cli;

import dev.ibex.IbexException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** STUB: replaced by the issue that builds this verb. */
@Command(name = "kick", description = "(not yet implemented)")
public class KickCommand extends Verb {

    @Parameters(arity = "0..*", paramLabel = "WORD")
    List<String> words;

    @Override
    public Integer call() {
        throw IbexException.badInput("'ibex kick' is not implemented yet");
    }
}
