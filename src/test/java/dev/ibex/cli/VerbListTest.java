package dev.ibex.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class VerbListTest {

    @Test
    void everyVerbIsListedWithOneWholeSentence() {
        CommandLine top = IbexCommand.commandLine();
        for (CommandLine verb : top.getSubcommands().values()) {
            String summary = IbexCommand.summary(verb.getCommandSpec());
            assertTrue(summary.endsWith("."), verb.getCommandName() + ": \"" + summary + "\" is not a whole sentence");
        }
    }

    @Test
    void typoAliasesWorkButAreNotListed() {
        CommandLine top = IbexCommand.commandLine();
        StringWriter help = new StringWriter();
        top.usage(new PrintWriter(help));
        for (String typo : IbexCommand.TYPO_ALIASES) {
            assertFalse(Pattern.compile("\\b" + typo + "\\b").matcher(help.toString()).find(), typo + " is listed");
            CommandLine verb = top.getSubcommands().get(typo);
            assertSame(verb.getCommandSpec(), top.getSubcommands().get(verb.getCommandName()).getCommandSpec(), typo);
        }
        assertTrue(help.toString().contains("list, l "), help.toString());
        assertEquals(0, IbexCommand.run("lsit", "--help"));
    }
}
