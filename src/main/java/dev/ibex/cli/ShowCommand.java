package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.config.Tunable;
import dev.ibex.repository.Repository;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "show",
        header = "Show settings kept in the repository.", description = {
    "Show settings kept in the repository: ibex show all | changed | NAME...",
    "Each line: name = value (default and meaning after #)."})
public class ShowCommand extends Verb {

    @Parameters(arity = "0..*", paramLabel = "all|changed|NAME")
    List<String> words;

    @Override
    public Integer call() {
        List<Tunable> chosen = new ArrayList<>();
        boolean changedOnly = words != null && words.contains("changed");
        if (words == null || words.isEmpty() || words.contains("all") || changedOnly) {
            chosen.addAll(List.of(Tunable.values()));
        } else {
            words.forEach(w -> chosen.add(Tunable.byKey(w)));
        }
        Map<String, String> rows;
        try (Repository repo = openRepository()) {
            rows = Tunable.rows(repo);
        }
        for (Tunable t : chosen) {
            boolean set = rows.containsKey(t.key());
            if (!changedOnly || set) {
                say(t.key() + " = " + Tunable.show(t.read(rows)) + "   # default " + Tunable.show(t.defaultValue())
                        + ": " + t.description());
            }
        }
        return ExitCode.OK.code();
    }
}
