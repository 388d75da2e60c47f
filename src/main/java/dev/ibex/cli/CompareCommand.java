package dev.ibex.cli;

import dev.ibex.IbexException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "compare", description = "(not yet implemented)")
public class CompareCommand extends Verb {

    @Parameters(arity = "0..*", paramLabel = "WORD")
    List<String> words;

    @Override
    public Integer call() {
        throw IbexException.badInput("'ibex compare' is not implemented yet");
    }
}
