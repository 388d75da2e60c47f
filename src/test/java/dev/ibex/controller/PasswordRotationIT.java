package dev.ibex.controller;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.ScramServer;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A target's password changed on the server (28P01) needs a person: `ibex status` says so with the
 * fix, and once `ibex update db` gives the db its new password the running controller uses it,
 * with no restart, and the sync catches up.
 */
class PasswordRotationIT {

    @Test
    void aRotatedTargetPasswordNeedsAttentionUntilUpdateDbGivesTheNewOne() throws Exception {
        try (ScramServer server = ScramServer.start()) {
            server.role("rot_dst", "First-pass-1");
            server.exec("postgres", "GRANT SET ON PARAMETER session_replication_role TO rot_dst");
            TestDb dst = server.database("rot_dst", "rot_dst");
            TestDb src = PgServers.source();
            src.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
            dst.exec("CREATE TABLE t (id int PRIMARY KEY, v text)", "ALTER TABLE t OWNER TO rot_dst");
            Model m = Model.create();
            TestDb repo = m.repoDb();
            m.db("src", src).db("dst", dst, "rot_dst", "First-pass-1");
            m.sync("s", "src", List.of("dst"), "public.t:id").capture("src");
            repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.2'), ('kid_retry_max', '0.5')");

            try (InProcessController c = new InProcessController(repo)) {
                c.assertRunning();
                src.exec("INSERT INTO t SELECT g, 'first' FROM generate_series(1, 100) g");
                eventually(Duration.ofSeconds(60), "the first rows on the target",
                        () -> src.checksum("t", "id").equals(dst.checksum("t", "id")));
                Thread kid = c.kid("s").orElseThrow();

                server.exec("postgres", "ALTER ROLE rot_dst PASSWORD 'Second-pass-2'",
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rot_dst'");
                src.exec("UPDATE t SET v = 'changed' WHERE id % 3 = 0", "DELETE FROM t WHERE id % 7 = 0",
                        "INSERT INTO t SELECT g, 'while the password is wrong' FROM generate_series(101, 150) g");
                eventually(Duration.ofSeconds(60), "the sync needs attention",
                        () -> Cli.run(repo, "status", "s", "--json").out().contains("\"needs_attention\": true"));
                Cli.Result json = Cli.run(repo, "status", "s", "--json");
                assertTrue(json.out().contains("\"state\": \"needs attention\"") && json.out().contains("\"sqlstate\": \"28P01\"")
                        && json.out().contains("ibex update db"), json.toString());
                Cli.Result status = Cli.run(repo, "status", "s");
                assertTrue(status.out().contains("Needs attention"), status.toString());
                assertTrue(status.out().contains("password authentication failed for user \"rot_dst\""), status.toString());
                assertTrue(status.out().contains("give the db its new password: ibex update db"), status.toString());
                assertFalse(json.out().contains("First-pass-1") || status.out().contains("First-pass-1"), status.toString());

                Cli.Result update = Cli.run(repo, "update", "db", "dst", "pass=Second-pass-2");
                assertEquals(0, update.exit(), update.toString());
                assertTrue(update.out().contains("Changed db \"dst\" password"), update.toString());
                assertFalse(update.toString().contains("Second-pass-2"), update.toString());

                eventually(Duration.ofSeconds(60), "the target to catch up",
                        () -> src.checksum("t", "id").equals(dst.checksum("t", "id")));
                eventually(Duration.ofSeconds(30), "the sync good again", () -> {
                    String out = Cli.run(repo, "status", "s", "--json").out();
                    return out.contains("\"state\": \"good\"") && out.contains("\"needs_attention\": false");
                });
                c.assertRunning();
                assertTrue(kid.isAlive() && c.kid("s").orElseThrow() == kid, "the same kid, no restart");
                ReplicaSet.assertSameRows(src, dst, "t", "id");
                assertEquals(150 - 100 / 7, src.count("t")); // the DELETE came before rows 101-150
            }
            m.close();
        }
    }
}
