package dev.ibex.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.config.Tunable;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

class SetShowIT {

    @Test
    void setWritesCheckedValuesAndShowReadsThem() {
        TestDb repo = Model.create().repoDb();
        Cli.Result set = CliChecks.ok(repo, "set", "copy_parallel=4", "kid_retry_max:30");
        assertEquals("Set \"copy_parallel\" to \"4\"\nSet \"kid_retry_max\" to \"30\"\n", set.out());
        assertEquals("4", repo.scalar("SELECT setting FROM ibex.config WHERE name = 'copy_parallel'"));

        Cli.Result changed = CliChecks.ok(repo, "show", "changed");
        assertEquals(2, changed.out().lines().count(), changed.toString());
        assertTrue(changed.out().startsWith("kid_retry_max = 30   # default 60: "), changed.toString());
        assertEquals(Tunable.values().length, CliChecks.ok(repo, "show", "all").out().lines().count());
        assertTrue(CliChecks.ok(repo, "show", "stop_timeout").out().startsWith("stop_timeout = 60 "));

        String before = repo.scalar("SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM ibex.config");
        Cli.Result range = Cli.run(repo, "set", "kid_retry_min=5", "copy_parallel=99");
        assertEquals(1, range.exit(), range.toString());
        assertEquals("Setting copy_parallel must be a number from 1 to 16, not \"99\"\n", range.err());
        Cli.Result unknown = Cli.run(repo, "set", "frob=1");
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().startsWith("Unknown setting \"frob\": known settings are kid_retry_min, "), unknown.toString());
        assertEquals(before, repo.scalar("SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM ibex.config"),
                "a refused set changes nothing");
    }
}
