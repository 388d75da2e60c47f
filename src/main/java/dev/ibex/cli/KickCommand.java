package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.controller.Channels;
import dev.ibex.controller.ControllerClient;
import dev.ibex.controller.SyncSelector;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.Sync;
import dev.ibex.status.Durations;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "kick", description = {
    "Ask the controller to run syncs now. Kicks during a run make one more run.",
    "With a trailing number N: wait at most N seconds (0: no limit) for a run that starts after the kick,",
    "then print DONE! (exit 0) or KILLED! and the error (exit 2); on timeout print Timed out! (exit 1)."})
public class KickCommand extends Verb {

    /** How often a waiting kick checks that a controller still serves ({@link ControllerClient#serving}). */
    private static final Duration LIVENESS_CHECK = Duration.ofSeconds(2);

    @Parameters(arity = "1..*", paramLabel = "SYNC", description = "Syncs (names, all, wildcards) [N].")
    List<String> words;

    @picocli.CommandLine.Option(names = "--timer", negatable = true,
            description = "Show the seconds counter and the run's progress while waiting (default: on a terminal; "
                    + "--no-timer or Bucardo's --notimer turns it off).")
    Boolean timerOption;

    @picocli.CommandLine.Option(names = "--notimer", hidden = true)
    boolean notimer;

    @picocli.CommandLine.Option(names = "--retry", paramLabel = "N",
            description = "With a trailing number: kick a sync again, up to N times, after its run fails.")
    int retry;

    @picocli.CommandLine.Option(names = {"--retry-sleep", "--retrysleep"}, paramLabel = "SECONDS",
            description = "Seconds to wait before each --retry kick (default 0).")
    int retrySleep;

    @Override
    public Integer call() throws InterruptedException {
        if (retry < 0 || retrySleep < 0) {
            throw IbexException.badInput("Invalid " + (retry < 0 ? "--retry=" + retry : "--retry-sleep=" + retrySleep)
                    + ": use 0 or more");
        }
        List<String> names = new ArrayList<>(words);
        Integer wait = ActivateCommand.trailingNumber(names);
        try (Repository repo = openRepository()) {
            List<Sync> syncs = SyncSelector.select(repo, names);
            for (Sync s : syncs) {
                if (!s.active()) {
                    throw IbexException.badInput("Cannot kick inactive sync \"" + s.name() + "\"");
                }
                if (s.paused()) {
                    throw IbexException.badInput("Cannot kick paused sync \"" + s.name() + "\": resume it with "
                            + "'ibex resume " + s.name() + "'");
                }
            }
            ControllerClient client = new ControllerClient(repo);
            if (!client.serving()) {
                throw IbexException.badInput("Cannot kick: the ibex controller is not running on this repository; "
                        + "start it with 'ibex start'");
            }
            if (wait != null) {
                client.listen(Channels.RUN_END);
            }
            OffsetDateTime kicked = kick(repo, client, syncs);
            if (wait == null) {
                syncs.forEach(s -> say("Kicked sync " + s.name()));
                return ExitCode.OK.code();
            }
            return awaitRuns(repo, client, syncs, kicked, wait).code();
        }
    }

    /** Waits for a run of each sync in turn; a timeout ends the wait for them all. */
    private ExitCode awaitRuns(Repository repo, ControllerClient client, List<Sync> syncs, OffsetDateTime kicked,
                               int wait) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = wait == 0 ? Long.MAX_VALUE : start + Duration.ofSeconds(wait).toNanos();
        boolean timer = !notimer && (timerOption != null ? timerOption : System.console() != null);
        ExitCode exit = ExitCode.OK;
        for (Sync s : syncs) {
            OffsetDateTime since = kicked;
            ExitCode code;
            for (int attempt = 0; ; attempt++) {
                code = awaitRun(repo, client, s, since, start, deadline, timer);
                if (code != ExitCode.RUN_FAILED || attempt >= retry) {
                    break;
                }
                say("Retrying sync " + s.name() + " (" + (attempt + 1) + " of " + retry + ")"
                        + (retrySleep > 0 ? " in " + retrySleep + " s" : ""));
                Thread.sleep(Duration.ofSeconds(Math.max(0, retrySleep)).toMillis());
                since = kick(repo, client, List.of(s));
            }
            if (code == ExitCode.BAD_INPUT) {
                return code;
            }
            exit = exit.worst(code);
        }
        return exit;
    }

    /** Kicks the syncs; returns when, for the runs that answer. */
    private static OffsetDateTime kick(Repository repo, ControllerClient client, List<Sync> syncs) {
        OffsetDateTime at = repo.one("SELECT clock_timestamp()", rs -> rs.getObject(1, OffsetDateTime.class))
                .orElseThrow();
        for (Sync s : syncs) {
            client.notify(Channels.KICK, s.name());
        }
        repo.commit();
        return at;
    }

    /** Waits for the first run of {@code s} that started at or after {@code since}; returns the exit code. */
    private ExitCode awaitRun(Repository repo, ControllerClient client, Sync s, OffsetDateTime since, long start,
                              long deadline, boolean timer) throws InterruptedException {
        out().print("Kick " + s.name() + ": ");
        String shown = "";
        long nextLiveness = System.nanoTime() + LIVENESS_CHECK.toNanos();
        while (true) {
            Optional<RunLog.Entry> ended = new RunLog(repo).endedSince(s.name(), since);
            repo.commit();
            if (ended.isPresent()) {
                return report(ended.get());
            }
            if (timer) {
                // the counter, and what the run is doing (a one-time copy's rows, MB/s and ETA)
                String detail = new RunLog(repo).runningDetail(s.name()).orElse("");
                repo.commit();
                String now = "[" + (System.nanoTime() - start) / 1_000_000_000 + " s] " + detail;
                int pad = Math.max(0, shown.length() - now.length());
                out().print("\b".repeat(shown.length()) + now + " ".repeat(pad) + "\b".repeat(pad));
                shown = now;
            }
            out().flush();
            if (System.nanoTime() >= deadline) {
                say("");
                err().println("Timed out!");
                err().flush();
                return ExitCode.BAD_INPUT;
            }
            if (System.nanoTime() > nextLiveness) {
                if (!client.serving()) {
                    say("");
                    throw IbexException.badInput("The ibex controller stopped before sync " + s.name()
                            + " finished a run");
                }
                nextLiveness = System.nanoTime() + LIVENESS_CHECK.toNanos();
            }
            long left = Math.min(1000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            client.await(Channels.RUN_END, Duration.ofMillis(left));
        }
    }

    private ExitCode report(RunLog.Entry run) {
        if (!run.state().failed()) {
            say("DONE!");
            return ExitCode.OK;
        }
        ZoneId zone = ZoneId.systemDefault();
        say("KILLED!");
        say("  Started: " + Durations.when(run.started(), run.ended(), zone));
        say("  Ended: " + Durations.when(run.ended(), run.ended(), zone));
        say("    " + (run.error() == null ? "(no error recorded)" : run.error()));
        return ExitCode.RUN_FAILED;
    }
}
