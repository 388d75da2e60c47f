package dev.ibex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ExitCodeTest {

    /** Scripts test the numbers: README's table and the enum must agree, row for row. */
    @Test
    void numbersAreTheOnesReadmeDocuments() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        String table = readme.substring(readme.indexOf("## Exit codes"), readme.indexOf("## Status JSON"));
        Map<Integer, String> documented = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^\\| (\\d) \\| ([^|]+) \\|$").matcher(table);
        while (m.find()) {
            documented.put(Integer.parseInt(m.group(1)), m.group(2));
        }
        Map<ExitCode, String> meaning = Map.of(ExitCode.OK, "done", ExitCode.BAD_INPUT, "bad input",
                ExitCode.RUN_FAILED, "a sync run failed", ExitCode.DATABASE, "a database could not be reached",
                ExitCode.INTERNAL, "internal error");
        assertEquals(ExitCode.values().length, documented.size(), documented.toString());
        for (ExitCode c : ExitCode.values()) {
            String words = String.valueOf(documented.get(c.code()));
            assertTrue(words.startsWith(meaning.get(c)), c + " is " + c.code() + ", README says: " + words);
        }
    }

    @Test
    void theExceptionCarriesTheNumber() {
        assertEquals(3, new IbexException(ExitCode.DATABASE, "x").exitCode());
        assertEquals(ExitCode.BAD_INPUT, IbexException.badInput("x").exit());
        assertEquals(ExitCode.RUN_FAILED, ExitCode.BAD_INPUT.worst(ExitCode.RUN_FAILED));
    }
}
