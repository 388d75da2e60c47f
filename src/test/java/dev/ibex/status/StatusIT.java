package dev.ibex.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import java.time.LocalTime;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** `ibex status` reads only the repository: these runs are written straight into ibex.run. */
class StatusIT {

    @Test
    void noSyncs() {
        TestDb repo = Model.create().repoDb();
        Cli.Result r = Cli.run(repo, "status");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("The ibex controller is not running\nNo syncs have been created yet.\n", r.out());
        Cli.Result json = Cli.run(repo, "status", "--json");
        assertEquals(0, json.exit(), json.toString());
        assertEquals("""
                {
                  "controller": {
                    "running": false,
                    "pid": null,
                    "host": null,
                    "started": null,
                    "uptime_seconds": null
                  },
                  "controllers": [],
                  "syncs": []
                }
                """, json.out());
    }

    @Test
    void bucardosTableLayoutForOneSync() {
        // the time of day must not cross midnight between the run and now
        Assumptions.assumeTrue(LocalTime.now().isAfter(LocalTime.of(0, 30)));
        TestDb repo = Model.create().stubSync("mysync").repoDb();
        repo.exec("INSERT INTO ibex.run (sync, started, ended, state, deletes, inserts) "
                + "VALUES ('mysync', now() - interval '26 min 16 s', now() - interval '26 min 15 s', 'good', 0, 9)");
        Cli.Result r = Cli.run(repo, "status");
        List<String> lines = r.out().lines().toList();
        assertEquals(" Name     State    Last good    Time      Last I/D    Last bad    Time", lines.get(1));
        assertEquals("========+========+============+=========+===========+===========+=======", lines.get(2));
        assertTrue(lines.get(3).matches(" mysync \\| Good   \\| \\d\\d:\\d\\d:\\d\\d   \\| 26m 1[56]s \\| 0/9       "
                + "\\| none      \\|"), lines.get(3));
    }

    @Test
    void runsOfEachStateInTableDetailAndJson() {
        Model m = Model.create();
        TestDb repo = m.repoDb();
        for (String s : List.of("failing", "fine", "busy", "fresh")) {
            m.stubSync(s);
        }
        repo.exec("UPDATE ibex.sync SET paused = true, checktime = '5 minutes' WHERE name = 'fine'",
                "UPDATE ibex.sync SET status = 'inactive' WHERE name = 'fresh'",
                "INSERT INTO ibex.run (sync, started, ended, state, deletes, inserts) VALUES "
                        + "('failing', now() - interval '1 hour', now() - interval '59 min', 'good', 3, 7)",
                "INSERT INTO ibex.run (sync, started, ended, state, error) VALUES "
                        + "('failing', now() - interval '10 min', now() - interval '9 min 58 s', 'bad', "
                        + "'Cannot connect to db \"dst\" at h:5432: connection refused')",
                "INSERT INTO ibex.run (sync, started, ended, state, deletes, inserts) VALUES "
                        + "('fine', now() - interval '2 hours', now() - interval '2 hours', 'bad', 0, 0), "
                        + "('fine', now() - interval '5 min', now() - interval '4 min', 'good', 5, 6), "
                        + "('fine', now() - interval '1 min', now() - interval '1 min', 'empty', 0, 0)",
                "INSERT INTO ibex.run (sync, started, state, detail) VALUES "
                        + "('busy', now() - interval '3 s', 'running', 'Sync public.t 10/20 keys')",
                "INSERT INTO ibex.sync_state (sync, source, target, snapshot, suppression) VALUES "
                        + "('fine', 'fine_src', 'fine_dst', '1:1:', 'replica (superuser)')");

        Cli.Result table = Cli.run(repo, "status");
        assertEquals(0, table.exit(), table.toString());
        assertTrue(line(table, " failing").contains("| Bad "), table.out());
        assertTrue(line(table, " failing").contains("| 3/7 "), table.out());
        assertTrue(line(table, " fine").contains("| Good "), table.out());
        assertTrue(line(table, " fine").contains("| 0/0 "), "last good is the newest good or empty run: " + table.out());
        assertTrue(line(table, " busy").contains("| running "), table.out());
        assertTrue(line(table, " fresh").contains("| No records found | none "), table.out());

        Cli.Result detail = Cli.run(repo, "status", "failing", "fine", "fresh");
        assertEquals(0, detail.exit(), detail.toString());
        String d = detail.out();
        assertTrue(d.startsWith("The ibex controller is not running\n" + "=".repeat(70) + "\n"), d);
        assertTrue(d.contains("Rows deleted/inserted    : 3 / 7\n"), d);
        assertTrue(d.contains("Last bad                 : ") && d.contains("(time until fail: 2s)"), d);
        assertTrue(d.contains("Sync name                : failing\n"), d);
        assertTrue(d.contains("Current state            : Bad\n"), d);
        assertTrue(d.contains("Source relgroup/database : failing_rel / failing_src\n"), d);
        assertTrue(d.contains("Tables in sync           : 1\n"), d);
        assertTrue(d.contains("Last error               : Cannot connect to db \"dst\" at h:5432: connection refused\n"),
                d);
        assertTrue(d.contains("Status                   : Paused\n"), d);
        assertTrue(d.contains("Check time               : 5m 0s\n"), d);
        assertTrue(d.contains("Trigger suppression      : fine_dst: replica (superuser)\n"), d);
        assertTrue(d.contains("Status                   : Inactive\n"), d);
        assertTrue(d.contains("Current state            : No records found\n"), d);
        assertTrue(d.contains("Backlog                  : 0 change(s)\n"), "nothing captured, nothing pending: " + d);
        assertTrue(d.contains("Controller               : not running\n"), d);

        Cli.Result json = Cli.run(repo, "status", "busy", "fine", "--json");
        assertEquals(0, json.exit(), json.toString());
        String j = json.out();
        assertTrue(j.contains("\"name\": \"busy\",\n      \"state\": \"running\",\n      \"status\": \"active\""), j);
        assertTrue(j.contains("\"detail\": \"Sync public.t 10/20 keys\""), j);
        assertTrue(j.contains("\"name\": \"fine\",\n      \"state\": \"good\",\n      \"status\": \"paused\""), j);
        assertTrue(j.contains("\"checktime_seconds\": 300"), j);
        assertTrue(j.contains("\"suppression\": {\n        \"fine_dst\": \"replica (superuser)\"\n      }"), j);
        assertTrue(j.contains("\"last_good\": {\n        \"id\": "), j);
        assertTrue(j.contains("\"state\": \"empty\""), j);

        Cli.Result unknown = Cli.run(repo, "status", "nosuch");
        assertEquals(1, unknown.exit(), unknown.toString());
        assertEquals("No sync named \"nosuch\": see 'ibex list syncs'\n", unknown.err());
    }

    private static String line(Cli.Result r, String prefix) {
        return r.out().lines().filter(l -> l.startsWith(prefix + " ")).findFirst().orElse("(no line " + prefix + ")");
    }
}
