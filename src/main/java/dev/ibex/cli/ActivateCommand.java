package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.controller.Channels;
import dev.ibex.controller.ControllerClient;
import dev.ibex.controller.SyncSelector;
import dev.ibex.controller.SyncSwitches;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "activate", description = {
    "Set syncs active; a running controller starts their workers and kicks them.",
    "A trailing number N waits up to N seconds (0: no limit) for the controller to confirm."})
public class ActivateCommand extends Verb {

    @Parameters(arity = "1..*", paramLabel = "SYNC", description = "Syncs (names, all, wildcards) [N].")
    List<String> words;

    @Override
    public Integer call() {
        return switchStatus(this, words, "active", "Activating");
    }

    static int switchStatus(Verb verb, List<String> words, String status, String doing) {
        List<String> names = new ArrayList<>(words);
        Integer wait = trailingNumber(names);
        try (Repository repo = verb.openRepository()) {
            List<Sync> syncs = SyncSelector.select(repo, names);
            List<String> switched = SyncSwitches.setStatus(repo, syncs, status);
            return finish(verb, repo, switched, wait, switched.stream().map(s -> doing + " sync " + s).toList());
        }
    }

    /** Commits with a reload notice, then, if asked, waits for the controller to confirm. */
    static int finish(Verb verb, Repository repo, List<String> switched, Integer wait, List<String> lines) {
        ControllerClient client = new ControllerClient(repo);
        boolean running = client.running().isPresent();
        if (wait == null || !running || switched.isEmpty()) {
            SyncSwitches.commitAndReload(repo, switched);
            lines.forEach(verb::say);
        } else {
            Duration limit = wait == 0 ? Duration.ofDays(1) : Duration.ofSeconds(wait);
            String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
            lines.subList(0, Math.max(0, lines.size() - 1)).forEach(verb::say);
            verb.out().print(last + "...");
            verb.out().flush();
            int controllers = Math.max(1, client.all().size());
            client.listen(Channels.RELOADED);
            String request = SyncSwitches.commitAndReload(repo, switched);
            if (!client.awaitAnswers(request, controllers, limit)) {
                verb.say("");
                throw IbexException.badInput("The ibex controller did not confirm within " + limit.toSeconds()
                        + " s: see its log");
            }
            verb.say("OK");
        }
        if (!running && !switched.isEmpty()) {
            verb.say("(the ibex controller is not running: this takes effect when it starts)");
        }
        return ExitCode.OK.code();
    }

    /** Bucardo's timeout "adverb": a trailing integer after the sync names. */
    static Integer trailingNumber(List<String> words) {
        if (words.size() > 1 && words.get(words.size() - 1).matches("\\d+")) {
            String n = words.remove(words.size() - 1);
            try {
                return Integer.valueOf(n);
            } catch (NumberFormatException e) {
                throw IbexException.badInput("Invalid wait of " + n + " seconds: use 0 (no limit) to " + Integer.MAX_VALUE);
            }
        }
        return null;
    }
}
