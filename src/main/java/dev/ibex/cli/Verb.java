package dev.ibex.cli;

import dev.ibex.config.IbexConfig;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Repository;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** What every verb shares: the global options, the repository, and where to print. */
public abstract class Verb implements Callable<Integer> {

    @ParentCommand
    IbexCommand ibex;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--help", usageHelp = true, description = "Show this verb's help.")
    boolean help;

    protected IbexConfig config() {
        return ibex.config();
    }

    protected ConnectionSpec repositorySpec() {
        return config().repository();
    }

    /** Opens the repository; the caller closes it. Fails with a clear line if it is not installed. */
    protected Repository openRepository() {
        return Repository.open(repositorySpec());
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    protected PrintWriter err() {
        return spec.commandLine().getErr();
    }

    protected void say(String line) {
        out().println(line);
        out().flush();
    }

    protected boolean quiet() {
        return ibex.quiet();
    }

    protected boolean debug() {
        return ibex.debug();
    }
}
