package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.controller.Channels;
import dev.ibex.controller.ControllerClient;
import dev.ibex.repository.Repository;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * A verb that changes the model: all its writes are one repository transaction, and what it did is
 * printed only once that transaction has committed; a running controller is told to reload.
 */
abstract class ModelVerb extends Verb {

    @Option(names = "--force", description = "Go on despite a failed connection test, or remove what depends on it.")
    boolean force;

    @Parameters(arity = "0..*", paramLabel = "WORD")
    List<String> words = new ArrayList<>();

    protected int edit(Consumer<Session> work) {
        List<String> lines = new ArrayList<>();
        try (Repository repo = openRepository()) {
            Session session = new Session(repo, lines::add, force);
            try {
                work.accept(session);
                // a running controller picks the change up at commit, with no 'ibex reload' needed
                new ControllerClient(repo).notify(Channels.RELOAD, "");
                repo.commit();
            } catch (RuntimeException e) {
                throw refused(session, e);
            }
        }
        lines.forEach(this::say);
        return ExitCode.OK.code();
    }

    /**
     * A command that fails changes nothing: the sources it reconciled, whose capture committed on
     * its own, are brought back in line with the repository as it was; what could not be is added
     * to the error.
     */
    private static RuntimeException refused(Session session, RuntimeException e) {
        String left = session.putCaptureBack();
        if (left.isEmpty() || !(e instanceof IbexException ie)) {
            return e;
        }
        return new IbexException(ie.exitCode(), ie.getMessage() + left, ie.causeLine(), ie);
    }

    /** The noun and the words after it. */
    protected Noun noun(String verb, String usage) {
        if (words == null || words.isEmpty()) {
            throw IbexException.badInput("Missing object for 'ibex " + verb + "': " + usage);
        }
        return Noun.of(words.get(0), verb);
    }

    protected List<String> rest() {
        return words.subList(1, words.size());
    }

    /** Exactly one name among the nouns. */
    static String oneName(Words w, String what, String usage) {
        if (w.nouns().isEmpty()) {
            throw IbexException.badInput("Missing " + what + " name: " + usage);
        }
        if (w.nouns().size() > 1) {
            String extra = w.nouns().get(1);
            if (extra.equalsIgnoreCase("addalltables") || extra.equalsIgnoreCase("addallsequences")) {
                // Bucardo 5's add db words: their runbooks use them, so say what ibex takes instead
                String kind = extra.equalsIgnoreCase("addalltables") ? "tables" : "sequences";
                throw IbexException.badInput("Bucardo's " + extra.toLowerCase(java.util.Locale.ROOT) + " is not an "
                        + "ibex word: add " + what + " \"" + w.nouns().get(0) + "\" without it, then 'ibex add all "
                        + kind + " db=" + w.nouns().get(0) + " relgroup=NAME'");
            }
            throw IbexException.badInput("Unexpected word \"" + extra + "\" after " + what + " name \""
                    + w.nouns().get(0) + "\": settings are key=value words; " + usage);
        }
        return w.nouns().get(0);
    }
}
