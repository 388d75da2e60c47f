package dev.ibex.replicate;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TcpProxy;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A dropped socket mid-COPY, in both directions (reliability issue, fault 3): ibex reaches the
 * source, or the target, through a {@link TcpProxy} that resets every connection while a COPY is
 * provably streaming through it (the server's pg_stat_progress_copy counts its rows), under a
 * writer load that goes on directly to the source. The run fails as a broken connection, ibex
 * connects again through the proxy by itself, and with no command beyond the final
 * {@code kick s 0} the target equals the source by count and checksum of ordered rows.
 */
class DroppedSocketIT {

    private static final String T = "CREATE TABLE t (id int PRIMARY KEY, v int, note text)";
    private static final String U = "CREATE TABLE u (id int PRIMARY KEY, v int, note text)";
    /** Every 200th row sleeps 20 ms in a CHECK on the target: a COPY of some seconds, long enough to cut. */
    private static final String[] SLOW_TARGET = {
        "CREATE FUNCTION slow(id int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS "
            + "$$BEGIN IF id % 200 = 0 THEN PERFORM pg_sleep(0.02); END IF; RETURN true; END$$",
        "ALTER TABLE t ADD CONSTRAINT slow CHECK (slow(id))",
    };

    private Model model;
    private TestDb repo;
    private TestDb src;
    private TestDb dst;
    private TcpProxy proxy;
    private final Writers.Running running = new Writers.Running();

    /**
     * Source and target with {@code schema}; db "src" or "dst" (as {@code proxied} names) is
     * reached through the proxy, the other directly.
     */
    private void setUp(String proxied, String... schema) {
        src = PgServers.source();
        dst = PgServers.target();
        src.exec(schema);
        dst.exec(schema);
        proxy = TcpProxy.to("src".equals(proxied) ? src : dst);
        model = Model.create();
        model.db("src", "src".equals(proxied) ? proxy.address(src) : src)
                .db("dst", "dst".equals(proxied) ? proxy.address(dst) : dst);
        repo = model.repoDb();
        FaultsIT.retryQuickly(repo);
    }

    @AfterEach
    void tearDown() {
        running.stopAll();
        if (proxy != null) {
            proxy.close();
        }
        if (model != null) {
            model.close();
        }
    }

    /**
     * Whether an ibex session on {@code db} runs a COPY of {@code command} ("COPY TO" on the
     * source, "COPY FROM" on the target) that has passed {@code rows} rows: from
     * pg_stat_progress_copy (14+), before 14 an active COPY statement in pg_stat_activity.
     */
    static boolean copying(TestDb db, String command, long rows) {
        String ibex = "a.datname = current_database() AND a.application_name LIKE 'ibex%'";
        if (Integer.parseInt(db.scalar("SHOW server_version_num")) >= 140000) {
            return Long.parseLong(db.scalar("SELECT count(*) FROM pg_stat_progress_copy p JOIN pg_stat_activity a "
                    + "ON a.pid = p.pid WHERE " + ibex + " AND p.command = '" + command + "' AND p.tuples_processed >= "
                    + rows)) > 0;
        }
        String direction = command.endsWith("TO") ? "TO STDOUT" : "FROM STDIN";
        return Long.parseLong(db.scalar("SELECT count(*) FROM pg_stat_activity a WHERE " + ibex
                + " AND a.state = 'active' AND a.query ~* '^COPY .*" + direction + "'")) > 0;
    }

    private boolean same(String... tables) {
        return Arrays.stream(tables).allMatch(t -> FaultsIT.checksum(src, t).equals(FaultsIT.checksum(dst, t)));
    }

    /** The sync heals by itself, then the user's final {@code kick s 0}: the target equals the source. */
    private void converges(String... tables) throws InterruptedException {
        eventually(Duration.ofSeconds(120), "the target to equal the source by itself", () -> same(tables));
        Cli.Result kick = Cli.run(repo, "kick", "s", "0");
        assertEquals(0, kick.exit(), kick.toString());
        for (String t : tables) {
            assertEquals(FaultsIT.checksum(src, t), FaultsIT.checksum(dst, t), t);
            assertEquals(src.count(t), dst.count(t), t);
        }
        eventually(Duration.ofSeconds(30), "no run left 'running'",
                () -> "0".equals(repo.scalar("SELECT count(*) FROM ibex.run WHERE sync = 's' AND state = 'running'")));
    }

    /**
     * Resets every connection through the proxy to the {@code side} ("source" or "target"), refuses
     * new ones until the test lifts it, and waits for a run failing on it; how many were reset.
     * {@code relayed}: what the proxy had relayed, for the log.
     */
    private int dropAll(String side, long relayed) throws InterruptedException {
        long bad = model.runs("s", "bad");
        proxy.refuse(true);
        int dropped = proxy.dropAll();
        assertTrue(dropped > 0, "connections to drop");
        System.out.printf("dropped %d %s connections after %.1f MB relayed%n", dropped, side, relayed / 1e6);
        eventually(Duration.ofSeconds(30), "a failed run on the dropped " + side, () -> model.runs("s", "bad") > bad);
        return dropped;
    }

    /**
     * With nobody acting but the final kick: the writers go on a while, then the target equals the
     * source, the controller still runs, no failed run asks for a person, and ibex connected
     * through the proxy again.
     */
    private void healed(InProcessController c, Writers writers, int dropped) throws InterruptedException {
        writers.awaitCommits(writers.committed() + 200);
        writers.stop();
        converges("t", "u");
        c.assertRunning();
        FaultsIT.failedRunsNeedNoPerson(repo);
        assertTrue(proxy.accepted() > dropped, "ibex connected again");
    }

    // ---- source -> ibex: the one-time copy's COPY TO is cut ---------------------------------------

    /**
     * The one-time copy of a 60,000-row table streams from the source through the proxy; once the
     * source's COPY has sent 5,000 rows every connection to the source is reset (the copy's, the
     * batch's snapshot session, autokick's), and for a while new ones are refused. The copy stays
     * pending, the next runs connect again and complete it.
     */
    @Test
    void aSourceSocketDroppedMidCopyHealsByItself() throws Exception {
        long t0 = System.nanoTime();
        setUp("src", T, U);
        src.exec("INSERT INTO t SELECT g, g, repeat('x', 400) FROM generate_series(1, 60000) g", "VACUUM ANALYZE t");
        dst.exec(SLOW_TARGET);
        model.sync("s", "src", List.of("dst"), "public.t:id", "public.u:id");
        repo.exec("UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 's'");
        try (InProcessController c = new InProcessController(repo)) {
            FaultsIT.awaitCaptured(src, "t", "u");
            // the writers truncate u only: a TRUNCATE of t would leave the copy nothing to copy
            Writers writers = running.keep(Writers.start(src, 3, 30, FaultsIT.load(60000, "u", "t", "u")));
            writers.awaitCommits(50);
            eventually(Duration.ofSeconds(60), "the source's COPY of the one-time copy past 5000 rows",
                    () -> copying(src, "COPY TO", 5000));
            int dropped = dropAll("source", proxy.bytesToClient());
            assertEquals("1", FaultsIT.onetimecopy(repo), "the copy is still pending after the drop");
            assertTrue(dst.count("t") < 60000, "the drop cut the copy short");
            proxy.refuse(false);
            eventually(Duration.ofSeconds(120), "the copy to complete through the proxy again",
                    () -> "0".equals(FaultsIT.onetimecopy(repo)));
            healed(c, writers, dropped);
        }
        System.out.printf("source drop case: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    // ---- ibex -> target: a big apply batch's COPY FROM is cut -------------------------------------

    /**
     * The sync runs and follows the writers; then one source transaction inserts 60,000 rows, and
     * while the target's COPY of that batch has taken 5,000 of them every connection to the target
     * is reset and new ones are refused for a while. The batch's target transaction dies with its
     * connection, the run fails, and the batch is applied whole on a later run.
     */
    @Test
    void aTargetSocketDroppedMidApplyCopyHealsByItself() throws Exception {
        long t0 = System.nanoTime();
        setUp("dst", T, U);
        dst.exec(SLOW_TARGET);
        model.sync("s", "src", List.of("dst"), "public.t:id", "public.u:id");
        try (InProcessController c = new InProcessController(repo)) {
            FaultsIT.awaitCaptured(src, "t", "u");
            Writers writers = running.keep(Writers.start(src, 3, 30, FaultsIT.load(2000, "u", "t", "u")));
            writers.awaitCommits(100);
            eventually(Duration.ofSeconds(60), "rows on the target", () -> dst.count("t") > 0);
            src.exec("INSERT INTO t SELECT g, g, repeat('y', 400) FROM generate_series(100000, 159999) g");
            eventually(Duration.ofSeconds(60), "the target's COPY of the big batch past 5000 rows",
                    () -> copying(dst, "COPY FROM", 5000));
            long good = model.runs("s", "good");
            int dropped = dropAll("target", proxy.bytesToServer());
            assertEquals(0, dst.count("t WHERE id >= 100000"), "the cut batch left no row behind");
            proxy.refuse(false);
            eventually(Duration.ofSeconds(120), "the big batch on the target",
                    () -> dst.count("t WHERE id >= 100000") == 60000);
            // the run that applied the batch ends after its later steps (the writers' changes) commit too
            eventually(Duration.ofSeconds(60), "a good run", () -> model.runs("s", "good") > good);
            healed(c, writers, dropped);
        }
        System.out.printf("target drop case: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
