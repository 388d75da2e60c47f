package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.controller.Channels;
import dev.ibex.controller.ControllerClient;
import dev.ibex.controller.PidFile;
import dev.ibex.controller.RunningController;
import dev.ibex.repository.Repository;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "stop", description = {
    "Stop the controller gracefully: running batches finish (or roll back), then it exits.",
    "Waits until it is gone. Not running is not an error. With several controllers on the repository,",
    "stops the one of this host's pid file (--all: every one); the others take its syncs over."})
public class StopCommand extends Verb {

    static final Duration STOP_WAIT = Duration.ofSeconds(150);

    @Option(names = "--all", description = "Stop every controller on this repository, on whatever host.")
    boolean all;

    @Parameters(arity = "0..*", paramLabel = "REASON", description = "Why, for the log.")
    List<String> reason;

    @Override
    public Integer call() throws InterruptedException {
        try (Repository repo = openRepository()) {
            stop(this, repo, reason, all);
        }
        return ExitCode.OK.code();
    }

    /** Stops this host's controller (or a lone one) and waits for it to go; says so when none runs. */
    static void stop(Verb verb, Repository repo, List<String> reason) throws InterruptedException {
        stop(verb, repo, reason, false);
    }

    /**
     * Stops this host's controller, the one its pid file names, or every controller ({@code all});
     * a lone controller is stopped from any host, as before several could run.
     */
    static void stop(Verb verb, Repository repo, List<String> reason, boolean all) throws InterruptedException {
        ControllerClient client = new ControllerClient(repo);
        PidFile pidFile = new PidFile(verb.config().piddir());
        List<RunningController> running = client.all();
        if (running.isEmpty()) {
            pidFile.removeStale();
            verb.say("The ibex controller is not running");
            return;
        }
        List<RunningController> targets = targets(running, pidFile, all);
        String why = reason == null ? "" : String.join(" ", reason);
        if (targets.size() == 1) {
            verb.out().print("Stopping the ibex controller (" + targets.get(0).describe() + ") ... ");
        } else {
            verb.out().print("Stopping " + targets.size() + " ibex controllers ("
                    + String.join("; ", targets.stream().map(RunningController::describe).toList()) + ") ... ");
        }
        verb.out().flush();
        if (all) {
            client.notify(Channels.STOP, why);
        } else {
            client.notify(Channels.STOP, ("@" + targets.get(0).id() + " " + why).strip());
        }
        repo.commit();
        if (!client.awaitGone(STOP_WAIT, targets.stream().map(RunningController::id).toList())) {
            verb.say("");
            throw IbexException.badInput("The ibex controller did not stop within " + STOP_WAIT.toSeconds()
                    + " s; it may be finishing a long batch: see its log, or run 'ibex stop' again later");
        }
        targets.forEach(StopCommand::awaitLocalExit);
        verb.say("Done");
    }

    /** Every controller, the only one, or this host's (its pid file's); none of several is refused. */
    private static List<RunningController> targets(List<RunningController> running, PidFile pidFile, boolean all) {
        Optional<Long> localPid = pidFile.read();
        List<RunningController> targets = all || running.size() == 1 ? running
                : running.stream().filter(c -> c.isLocal(localPid)).toList();
        if (targets.isEmpty()) {
            if (localPid.isPresent()) {
                pidFile.removeStale();
            }
            throw IbexException.badInput(running.size() + " ibex controllers run on this repository, none of them "
                    + "from this host's pid file " + pidFile.path() + " ("
                    + String.join("; ", running.stream().map(RunningController::describe).toList())
                    + "): run 'ibex stop' on their host, or 'ibex stop --all'");
        }
        return targets;
    }

    /** The lock goes a moment before the JVM: on this host, wait for the process itself. */
    private static void awaitLocalExit(RunningController c) {
        try {
            if (!c.host().equals(java.net.InetAddress.getLocalHost().getHostName())) {
                return;
            }
        } catch (java.io.IOException e) {
            return;
        }
        ProcessHandle.of(c.pid()).ifPresent(p -> {
            try {
                p.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                // gone from the repository is what counts
            }
        });
    }
}
