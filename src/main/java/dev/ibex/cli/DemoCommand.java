package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo",
        header = "Replicate a small shop between two embedded PostgreSQL servers, prove it, and clean up.",
        description = {
    "Start two embedded PostgreSQL servers, replicate a small shop with a writer running,",
    "show status while rows flow, prove the target equals the source, and clean up."})
public class DemoCommand extends Verb {

    @Option(names = "--seconds", defaultValue = "15", description = "How long the writer runs (default ${DEFAULT-VALUE}).")
    int seconds;

    @Override
    public Integer call() {
        if (seconds < 0) {
            throw IbexException.badInput("Invalid --seconds=" + seconds + ": use 0 or more seconds for the writer to run");
        }
        return new Demo(out(), seconds, IbexCommand::run).run();
    }
}
