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
import picocli.CommandLine.Parameters;

@Command(name = "stop", description = {
    "Stop the controller gracefully: running batches finish (or roll back), then it exits.",
    "Waits until it is gone. Not running is not an error."})
public class StopCommand extends Verb {

    static final Duration STOP_WAIT = Duration.ofSeconds(150);

    @Parameters(arity = "0..*", paramLabel = "REASON", description = "Why, for the log.")
    List<String> reason;

    @Override
    public Integer call() throws InterruptedException {
        try (Repository repo = openRepository()) {
            stop(this, repo, reason);
        }
        return ExitCode.OK.code();
    }

    /** Stops a running controller and waits for it to go; says so when none runs. */
    static void stop(Verb verb, Repository repo, List<String> reason) throws InterruptedException {
        ControllerClient client = new ControllerClient(repo);
        Optional<RunningController> running = client.running();
        if (running.isEmpty()) {
            new PidFile(verb.config().piddir()).removeStale();
            verb.say("The ibex controller is not running");
            return;
        }
        verb.out().print("Stopping the ibex controller (" + running.get().describe() + ") ... ");
        verb.out().flush();
        client.notify(Channels.STOP, reason == null ? "" : String.join(" ", reason));
        repo.commit();
        if (!client.awaitGone(STOP_WAIT)) {
            verb.say("");
            throw IbexException.badInput("The ibex controller did not stop within " + STOP_WAIT.toSeconds()
                    + " s; it may be finishing a long batch: see its log, or run 'ibex stop' again later");
        }
        awaitLocalExit(running.get());
        verb.say("Done");
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
