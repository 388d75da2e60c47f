package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.config.IbexConfig;
import dev.ibex.controller.Launcher;
import dev.ibex.status.MetricsAddress;
import dev.ibex.repository.Repository;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "restart", description = "Stop the controller (if it runs) and start it again in the background.")
public class RestartCommand extends Verb {

    @Mixin
    MetricsOptions metricsOptions;

    @Parameters(arity = "0..*", paramLabel = "REASON", description = "Why, for the log.")
    List<String> reason;

    @Override
    public Integer call() throws InterruptedException {
        IbexConfig config = metricsOptions.over(config());
        MetricsAddress.of(config); // a bad port fails here, before the running controller is stopped
        try (Repository repo = openRepository()) {
            StopCommand.stop(this, repo, reason);
        }
        Launcher.Started started = Launcher.start(config, debug());
        say("Started the ibex controller (pid " + started.pid() + "); log: " + started.logFile());
        return ExitCode.OK.code();
    }
}
