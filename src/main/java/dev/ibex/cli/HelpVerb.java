package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** `ibex help [VERB]`; picocli's own help command would take -h, which is --db-host here. */
@Command(name = "help", description = "Show the help of ibex, or of one verb.")
public class HelpVerb extends Verb {

    @Parameters(arity = "0..*", paramLabel = "VERB")
    List<String> words;

    @Override
    public Integer call() {
        CommandLine top = spec.commandLine().getParent();
        if (words == null || words.isEmpty()) {
            top.usage(out());
            return ExitCode.OK.code();
        }
        CommandLine verb = top.getSubcommands().get(words.get(0));
        if (verb == null) {
            throw IbexException.badInput("Unknown verb \"" + words.get(0) + "\": see 'ibex --help' for the list");
        }
        verb.usage(out());
        return ExitCode.OK.code();
    }
}
