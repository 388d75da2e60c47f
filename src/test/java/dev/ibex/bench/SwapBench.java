package dev.ibex.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/ibex-bench --phases=swap [--strategy=latest]}: two sources in one sync (Bucardo's swap),
 * on the two servers {@link Bench} starts: db src (the first server) and db dst (the second, which
 * also holds the repository), each with pgbench's tables at --scale and a heartbeat, in sync bench_swap
 * with dbs=src:source,dst:source. A pgbench load runs on each server at the same time with no ibex,
 * before the swap and after it (the mean is each side's plain tps); between them, on the same
 * databases afresh, with the sync and the controller, the two loads again: each side's tps against
 * its plain tps, the lag in each direction (a heartbeat row written on each side and read on the
 * other), the conflicts the good runs of the load window resolved per second (ibex.run.conflicts),
 * how long the pgbench sessions waited for locks (and for ibex's), and, after the loads stop and the
 * sync drains, whether every synced table is equal on both (count and md5 over ordered rows). Exits
 * 1 when one is not.
 *
 * <p>Both loads update random pgbench_accounts rows, and every pgbench transaction updates one of
 * the --scale pgbench_branches rows and one of the 10 × --scale pgbench_tellers rows, so nearly every
 * run finds those changed on both sides: conflicts. pgbench_history gets a key (hid) from a
 * sequence that counts odd numbers on src and even ones on dst, the usual way of keeping two
 * sources' new keys apart. pgbench retries a transaction that deadlocks with ibex's apply
 * ({@code --max-tries}); the figures say how many did.
 */
final class SwapBench {

    private static final String SYNC = "bench_swap";
    /** Heartbeat rows: 1 written on src and read on dst, 2 written on dst and read on src. */
    private static final int BEAT_A = 1;
    private static final int BEAT_B = 2;
    private static final Pattern CONFLICT = Pattern.compile("Conflict on (\\S+) key \\([^)]*\\): db \"([^\"]+)\" wins");
    private static final Pattern RUN_END = Pattern.compile(SYNC + " Kid: Run [0-9]+ (good|empty|failed)");

    private final Bench b;
    private final String strategy;
    private final int maxTries;

    SwapBench(Bench bench, Map<String, String> flags) {
        b = bench;
        strategy = flags.getOrDefault("strategy", "latest");
        maxTries = Integer.parseInt(flags.getOrDefault("max-tries", "100"));
        if (maxTries < 1) {
            throw new IllegalArgumentException("--max-tries must be at least 1");
        }
    }

    int measure() throws Exception {
        b.figure("scale", b.scale);
        b.figure("clients_per_side", b.clients);
        b.figure("duration_s", b.duration);
        b.figure("swap_strategy", strategy);
        b.serverFigures();
        Bench.exec(b.source, "postgres", "CREATE DATABASE bench");
        Bench.exec(b.target, "postgres", "CREATE DATABASE bench", "CREATE DATABASE ibex");

        // 1. both loads at once, no ibex anywhere (again after the swap: the mean of the two is the plain figure)
        Loads before = plain("before");

        // 2. the same databases afresh (equal on both), one sync with both as sources, the controller
        fresh();
        boolean sameStart = equal(false);
        if (!sameStart) {
            throw new IllegalStateException("the two servers' fresh pgbench databases differ: no swap to measure");
        }
        b.installRepository();
        b.ibex("add", "all", "tables", "db=src", "relgroup=" + SYNC);
        b.ibex("add", "sync", SYNC, "relgroup=" + SYNC, "dbs=src:source,dst:source", "conflict_strategy=" + strategy);
        // a run opens the sources' batches in the dbgroup's order (priority, then name): the one opened
        // last sees the latest changes, and so wins most `latest` conflicts on rows both keep changing
        b.figure("swap_first_source", Bench.scalar(b.target, "ibex", "SELECT m.db FROM ibex.dbgroup_member m "
                + "JOIN ibex.sync s ON s.dbgroup = m.dbgroup WHERE s.name = '" + SYNC + "' AND m.role = 'source' "
                + "ORDER BY m.priority DESC, m.db LIMIT 1"));
        b.ibex("start");
        b.ibex("kick", SYNC, "0");

        // 3. both loads with the controller running, a heartbeat each way
        Bench.Heartbeat ab = b.new Heartbeat(b.source, b.target, BEAT_A);
        Bench.Heartbeat ba = b.new Heartbeat(b.target, b.source, BEAT_B);
        ab.start();
        ba.start();
        String t0 = repoNow();
        long[] cpu2 = b.cpuTicks();
        Loads swap = loads();
        long[] cpu3 = b.cpuTicks();
        String t1 = repoNow();
        ab.finish();
        ba.finish();
        b.figure("swap_a_tps", swap.tpsA);
        b.figure("swap_b_tps", swap.tpsB);
        b.figure("swap_pgbench_retried", swap.retried);
        b.figure("swap_pgbench_failed", swap.failed);
        b.figure("swap_cpu_us_per_txn", cpuPerTxn(cpu2, cpu3, swap, true));
        waitFigures("swap", swap);
        b.figure("swap_lag_beats", "ab " + ab.samples() + " ba " + ba.samples());
        b.figure("swap_lag_ab_p50_ms", ab.percentile(50));
        b.figure("swap_lag_ab_p95_ms", ab.percentile(95));
        b.figure("swap_lag_ab_max_ms", ab.percentile(100));
        b.figure("swap_lag_ba_p50_ms", ba.percentile(50));
        b.figure("swap_lag_ba_p95_ms", ba.percentile(95));
        b.figure("swap_lag_ba_max_ms", ba.percentile(100));
        runFigures(t0, t1);

        // 4. the loads stopped: a last beat each way, then runs until one finds nothing; then compare
        String lastA = Bench.writeBeat(b.source, BEAT_A);
        String lastB = Bench.writeBeat(b.target, BEAT_B);
        b.figure("swap_drain_s", Bench.seconds(() -> {
            Bench.waitForBeat(b.target, BEAT_A, lastA);
            Bench.waitForBeat(b.source, BEAT_B, lastB);
        }));
        b.figure("swap_settle_runs", settle());
        b.figure("swap_daemon_rss_mb", b.controllerRssMb());
        conflictsByTable();
        boolean converged = equal(true);
        b.figure("swap_converged", converged ? "yes" : "no");

        // 5. ibex gone (controller stopped, sync removed, tables made anew): the plain loads again
        b.ibex("stop");
        b.ibex("remove", "sync", "all");
        Loads after = plain("after");
        double plainA = Math.round((before.tpsA + after.tpsA) * 10 / 2.0) / 10.0;
        double plainB = Math.round((before.tpsB + after.tpsB) * 10 / 2.0) / 10.0;
        b.figure("plain_a_tps", plainA);
        b.figure("plain_b_tps", plainB);
        b.figure("swap_a_vs_plain", Math.round(swap.tpsA / plainA * 100) / 100.0);
        b.figure("swap_b_vs_plain", Math.round(swap.tpsB / plainB * 100) / 100.0);
        b.figure("swap_vs_plain", Math.round((swap.tpsA + swap.tpsB) / (plainA + plainB) * 100) / 100.0);
        b.writeJson();
        if (!converged) {
            System.err.println("ibex-bench: FAILED: the two sources do not end equal");
        }
        return converged ? 0 : 1;
    }

    /**
     * pgbench's tables made anew on both servers ({@code pgbench -i}, the same rows on both), with
     * pgbench_history keyed by an odd (src) or even (dst) hid, and heartbeat rows 1 and 2.
     */
    private void fresh() throws IOException, InterruptedException {
        int start = 1;
        for (EmbeddedPostgres pg : List.of(b.source, b.target)) {
            b.pgbenchInit(pg, "dtgvp");
            Bench.exec(pg, "bench", "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY",
                    "ALTER SEQUENCE pgbench_history_hid_seq INCREMENT BY 2 MINVALUE 1 RESTART WITH " + start,
                    "DROP TABLE IF EXISTS bench_heartbeat",
                    "CREATE TABLE bench_heartbeat (id int PRIMARY KEY, beat timestamptz NOT NULL)",
                    "INSERT INTO bench_heartbeat VALUES (" + BEAT_A + ", '2000-01-01'), (" + BEAT_B + ", '2000-01-01')",
                    "VACUUM ANALYZE", "CHECKPOINT");
            start++;
        }
    }

    /** Fresh databases, both loads with no ibex; figures plain_{when}_*. */
    private Loads plain(String when) throws Exception {
        fresh();
        long[] cpu0 = b.cpuTicks();
        Loads plain = loads();
        long[] cpu1 = b.cpuTicks();
        b.figure("plain_" + when + "_a_tps", plain.tpsA);
        b.figure("plain_" + when + "_b_tps", plain.tpsB);
        b.figure("plain_" + when + "_cpu_us_per_txn", cpuPerTxn(cpu0, cpu1, plain, false));
        waitFigures("plain_" + when, plain);
        return plain;
    }

    /**
     * How the pgbench sessions of each server spent the load, from pg_stat_activity sampled every
     * 100 ms: the share of samples waiting for a lock, and of those, waiting directly for one of
     * ibex's sessions (the apply holding the rows it changes until its step commits).
     */
    private void waitFigures(String prefix, Loads l) {
        b.figure(prefix + "_a_lock_wait_pct", pct(l.waitsA[1], l.waitsA[0]));
        b.figure(prefix + "_b_lock_wait_pct", pct(l.waitsB[1], l.waitsB[0]));
        if (prefix.equals("swap")) {
            b.figure(prefix + "_a_wait_for_ibex_pct", pct(l.waitsA[2], l.waitsA[0]));
            b.figure(prefix + "_b_wait_for_ibex_pct", pct(l.waitsB[2], l.waitsB[0]));
        }
    }

    private static double pct(long part, long whole) {
        return whole == 0 ? 0 : Math.round(part * 1000.0 / whole) / 10.0;
    }

    /**
     * What two pgbench runs, one per server, started together, gave; waits*: pgbench session samples,
     * those waiting for a lock, those blocked by an ibex session.
     */
    private record Loads(double tpsA, double tpsB, long retried, long failed, long[] waitsA, long[] waitsB) {
    }

    /** Samples pg_stat_activity of one server every 100 ms until stopped: see {@link #waitFigures}. */
    private static final class WaitSampler extends Thread {
        private final EmbeddedPostgres pg;
        private final long[] counts = new long[3];
        private volatile boolean done;

        WaitSampler(EmbeddedPostgres pg) {
            super("bench-waits");
            this.pg = pg;
        }

        @Override
        public void run() {
            String sql = "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE "
                    + "EXISTS (SELECT 1 FROM pg_stat_activity i WHERE i.pid = ANY (pg_blocking_pids(a.pid)) "
                    + "AND i.application_name LIKE 'ibex%')) FROM pg_stat_activity a WHERE application_name = 'pgbench'";
            try (Connection c = Bench.connect(pg, "postgres"); Statement st = c.createStatement()) {
                while (!done) {
                    try (ResultSet rs = st.executeQuery(sql)) {
                        rs.next();
                        for (int i = 0; i < 3; i++) {
                            counts[i] += rs.getLong(i + 1);
                        }
                    }
                    Thread.sleep(100);
                }
            } catch (SQLException | InterruptedException e) {
                System.err.println("ibex-bench: wait sampling stopped: " + e.getMessage());
            }
        }

        long[] finish() throws InterruptedException {
            done = true;
            join();
            return counts.clone();
        }
    }

    private Loads loads() throws IOException, InterruptedException {
        WaitSampler sa = new WaitSampler(b.source);
        WaitSampler sb = new WaitSampler(b.target);
        String tries = "--max-tries=" + maxTries;
        Path outA = b.work.resolve("pgbench-a.out");
        Path outB = b.work.resolve("pgbench-b.out");
        Process a = new ProcessBuilder(b.pgbenchCommand(b.source, tries)).redirectErrorStream(true)
                .redirectOutput(outA.toFile()).start();
        Process c = new ProcessBuilder(b.pgbenchCommand(b.target, tries)).redirectErrorStream(true)
                .redirectOutput(outB.toFile()).start();
        sa.start();
        sb.start();
        int rcA = a.waitFor();
        int rcB = c.waitFor();
        long[] waitsA = sa.finish();
        long[] waitsB = sb.finish();
        String textA = Files.readString(outA, StandardCharsets.UTF_8);
        String textB = Files.readString(outB, StandardCharsets.UTF_8);
        if (rcA != 0 || rcB != 0) {
            throw new IllegalStateException("pgbench failed (exit " + rcA + ", " + rcB + "):\n" + textA + "\n" + textB);
        }
        return new Loads(Bench.tps(textA), Bench.tps(textB), count(textA, "retried") + count(textB, "retried"),
                count(textA, "failed") + count(textB, "failed"), waitsA, waitsB);
    }

    /** pgbench's "number of failed transactions: N" or "number of transactions retried: N"; 0 when absent. */
    private static long count(String output, String what) {
        Matcher m = Pattern.compile(what.equals("failed") ? "number of failed transactions: ([0-9]+)"
                : "number of transactions retried: ([0-9]+)").matcher(output);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** CPU per transaction (both loads' transactions) of each server and, with ibex, of the controller. */
    private String cpuPerTxn(long[] c0, long[] c1, Loads l, boolean daemon) {
        double txns = (l.tpsA + l.tpsB) * b.duration;
        String s = String.format(Locale.ROOT, "a %.0f b %.0f", (c1[0] - c0[0]) * Bench.tickMicros() / txns,
                (c1[1] - c0[1]) * Bench.tickMicros() / txns);
        return daemon ? s + String.format(Locale.ROOT, " daemon %.0f", (c1[2] - c0[2]) * Bench.tickMicros() / txns) : s;
    }

    private String repoNow() {
        return Bench.scalar(b.target, "ibex", "SELECT clock_timestamp()::text");
    }

    /**
     * The sync's runs that started in the load window: how many, how many failed (an apply that
     * deadlocked with pgbench; the kid runs again, and settles those keys again), the rows the others
     * applied and the conflicts they resolved, per second of the window. A failed run's conflicts do
     * not count: it applied nothing.
     */
    private void runFigures(String t0, String t1) {
        String where = " FROM ibex.run WHERE sync = '" + SYNC + "' AND started >= '" + t0 + "' AND started < '" + t1 + "'";
        double window = Double.parseDouble(Bench.scalar(b.target, "ibex", "SELECT extract(epoch FROM '" + t1
                + "'::timestamptz - '" + t0 + "'::timestamptz)"));
        long runs = Long.parseLong(Bench.scalar(b.target, "ibex", "SELECT count(*)" + where));
        long bad = Long.parseLong(Bench.scalar(b.target, "ibex", "SELECT count(*)" + where + " AND state = 'bad'"));
        String good = where + " AND state IN ('good', 'empty')";
        long conflicts = Long.parseLong(Bench.scalar(b.target, "ibex", "SELECT coalesce(sum(conflicts), 0)" + good));
        long rows = Long.parseLong(Bench.scalar(b.target, "ibex", "SELECT coalesce(sum(inserts), 0)" + good));
        b.figure("swap_runs", runs);
        b.figure("swap_bad_runs", bad);
        b.figure("swap_rows_applied_per_s", Math.round(rows / window));
        b.figure("swap_conflicts", conflicts);
        b.figure("swap_conflicts_per_s", Math.round(conflicts / window * 10) / 10.0);
    }

    /** Kicks the sync until a run finds nothing to do (at most 20); returns how many runs that took. */
    private int settle() {
        for (int i = 1; i <= 20; i++) {
            b.ibexExit("kick", SYNC, "0"); // a failed run (none expected without load) is kicked again
            String state = Bench.scalar(b.target, "ibex", "SELECT state FROM ibex.run WHERE sync = '" + SYNC
                    + "' AND ended IS NOT NULL ORDER BY id DESC LIMIT 1");
            if (state.equals("empty")) {
                return i;
            }
        }
        throw new IllegalStateException("sync " + SYNC + " still found changes after 20 runs with no load");
    }

    /**
     * The conflicts of the good runs (the load's and the drain's) by table and by winner, from the
     * controller's log: a run logs its conflicts, then its end; a failed run's are dropped.
     */
    private void conflictsByTable() throws IOException {
        Map<String, Integer> tables = new TreeMap<>();
        Map<String, Integer> winners = new TreeMap<>();
        List<String[]> pending = new ArrayList<>();
        for (String line : Files.readAllLines(b.work.resolve("log").resolve("ibex.log"), StandardCharsets.UTF_8)) {
            Matcher m = CONFLICT.matcher(line);
            Matcher end = RUN_END.matcher(line);
            if (m.find()) {
                pending.add(new String[] {m.group(1).replaceFirst("^public\\.", ""), m.group(2)});
            } else if (end.find()) {
                if (!end.group(1).equals("failed")) {
                    for (String[] c : pending) {
                        tables.merge(c[0], 1, Integer::sum);
                        winners.merge(c[1], 1, Integer::sum);
                    }
                }
                pending.clear();
            }
        }
        b.figure("swap_conflicts_by_table", join(tables));
        b.figure("swap_conflict_winners", join(winners));
    }

    private static String join(Map<String, Integer> counts) {
        StringBuilder sb = new StringBuilder();
        counts.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append(':').append(v));
        return sb.length() == 0 ? "none" : sb.toString();
    }

    /** Count and md5 over ordered rows of every synced table, src against dst. */
    private boolean equal(boolean report) {
        boolean same = true;
        for (int i = 0; i < Bench.TABLES.length; i++) {
            String a = Bench.checksum(b.source, Bench.TABLES[i], Bench.KEYS[i]);
            String c = Bench.checksum(b.target, Bench.TABLES[i], Bench.KEYS[i]);
            if (!a.equals(c)) {
                if (report) {
                    System.err.println("ibex-bench: " + Bench.TABLES[i] + " differs: src " + a + " dst " + c);
                }
                same = false;
            }
        }
        return same;
    }
}
