package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.config.Tunable;
import dev.ibex.controller.Channels;
import dev.ibex.controller.ControllerClient;
import dev.ibex.repository.Repository;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "set", description = {
    "Change settings kept in the repository: ibex set name=value... ('ibex show all' lists them).",
    "A running controller applies them at once; the engine on its next run."})
public class SetCommand extends Verb {

    @Parameters(arity = "1..*", paramLabel = "NAME=VALUE")
    List<String> words;

    @Override
    public Integer call() {
        Map<Tunable, String> changes = new LinkedHashMap<>();
        for (String w : words) {
            int eq = w.indexOf('=') > 0 ? w.indexOf('=') : w.indexOf(':');
            if (eq <= 0) {
                throw IbexException.badInput("Expected name=value, not \"" + w + "\": e.g. ibex set copy_parallel=4");
            }
            Tunable t = Tunable.byKey(w.substring(0, eq).trim());
            if (changes.containsKey(t)) {
                throw IbexException.badInput("Setting " + t.key() + " is given twice: give it once");
            }
            changes.put(t, Tunable.show(t.parse(w.substring(eq + 1))));
        }
        try (Repository repo = openRepository()) {
            changes.forEach((t, v) -> repo.update("""
                    INSERT INTO ibex.config (name, setting) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET setting = EXCLUDED.setting, cdate = now()""", t.key(), v));
            new ControllerClient(repo).notify(Channels.RELOAD, ""); // a running controller applies them at commit
            repo.commit();
        }
        changes.forEach((t, v) -> say("Set \"" + t.key() + "\" to \"" + v + "\""));
        return ExitCode.OK.code();
    }
}
