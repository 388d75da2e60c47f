package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.config.IbexConfig;
import dev.ibex.config.Setting;
import dev.ibex.controller.Controller;
import dev.ibex.controller.ControllerLog;
import dev.ibex.controller.Launcher;
import dev.ibex.controller.PidFile;
import dev.ibex.status.MetricsAddress;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "start", aliases = "strt", description = {
    "Start the controller: one worker per active sync, autokick listeners, checktime timers.",
    "Runs in the background (pid file in --piddir, log in --log-dir/ibex.log) and returns once it is up;",
    "refuses when this host's pid file names a running controller. Controllers on other hosts may share",
    "the repository: the syncs are spread over them (README: Several controllers)."})
public class StartCommand extends Verb {

    @Option(names = "--foreground", description = "Stay attached (for systemd): log to stderr and the log file.")
    boolean foreground;

    @Option(names = "--detached", hidden = true, description = "Set by the background start: stderr is the log file.")
    boolean detached;

    @Mixin
    MetricsOptions metricsOptions;

    @Parameters(arity = "0..*", paramLabel = "REASON", description = "Why, for the log.")
    List<String> reason;

    @Override
    public Integer call() {
        IbexConfig config = metricsOptions.over(config());
        Optional<MetricsAddress> metrics = MetricsAddress.of(config);
        if (foreground) {
            ControllerLog.configure(config.logDir(), config.get(Setting.LOG_LEVEL), !detached);
            String why = reason == null ? "" : " " + String.join(" ", reason);
            new Controller(repositorySpec(), new PidFile(config.piddir()), "ibex start --foreground" + why)
                    .metrics(metrics).run();
            return ExitCode.OK.code();
        }
        Launcher.Started started = Launcher.start(config, debug());
        say("Started the ibex controller (pid " + started.pid() + "); log: " + started.logFile());
        return ExitCode.OK.code();
    }
}
