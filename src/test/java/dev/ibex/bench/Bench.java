package dev.ibex.bench;

import dev.ibex.cli.IbexCommand;
import dev.ibex.config.Tunable;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;

/**
 * bin/ibex-bench: how much ibex slows the source, how far the target trails, how fast a backlog
 * and a one-time copy go, on two PostgreSQL servers on loopback with pgbench as the load; then, in
 * the same run, bulk statements with and without ibex's capture, and PostgreSQL's own logical
 * replication (publication and subscription) under the same load. Prints key=value lines; exits 1
 * when the target did not end equal to the source.
 */
public final class Bench {

    static final String[] TABLES = {"pgbench_accounts", "pgbench_branches", "pgbench_tellers",
        "pgbench_history", "bench_heartbeat"};
    static final String[] KEYS = {"aid", "bid", "tid", "hid", "id"};
    /** Rows each bulk statement changes. */
    private static final int BULK_ROWS = 100_000;
    private static final String[] BULK_STEPS = {"update", "insert", "delete"};
    private static final String PUBLICATION = "ibex_bench_pub";
    private static final String SUBSCRIPTION = "ibex_bench_sub";

    private final Map<String, Object> figures = new LinkedHashMap<>();
    private final PrintStream out = System.out;
    final int clients;
    final int duration;
    private final int idleSyncs;
    private final Path json;
    final int statements;
    final int scale;
    private final String pgbench;
    /**
     * "all" (the default); "copy": only the raw pipe and ibex's one-time copy, alternating, {@code rounds}
     * times; "bulk": only the bulk statements; "logical": only plain pgbench and logical replication.
     */
    private final String phases;
    /** --logical=off: no logical replication phase; the source keeps wal_level=replica and synchronous_commit=off. */
    private final boolean logical;
    /** --pgconf=NAME=VALUE[,NAME=VALUE...]: server settings for both servers, over the bench's own. */
    private final Map<String, String> pgconf = new LinkedHashMap<>();
    private final int rounds;
    /** "empty" (the default): ibex copies into an empty table, as the raw pipe; "full": over the raw pipe's rows. */
    private final String into;
    /** --set=name=value: an `ibex set` before the controller starts, e.g. copy_split_mb=100000 for one stream. */
    private final String setting;
    /** --pin: the source server on CPU 0, everything else (target, daemon, pgbench, this JVM) on CPU 1. */
    private final boolean pin;
    /** --lag-budget=1,0.25: autokick_poll settings (seconds) at which the ibex load runs again; "off": none. */
    private final List<String> lagBudgets;
    /** The flags as given: --phases=scale reads its own (--tables, --trickle, --idle). */
    private final Map<String, String> flags;

    EmbeddedPostgres source;
    EmbeddedPostgres target;
    Path work;
    private List<String> repo;

    Bench(Map<String, String> flags) {
        scale = Integer.parseInt(flags.getOrDefault("scale", "10"));
        clients = Integer.parseInt(flags.getOrDefault("clients", "4"));
        duration = Integer.parseInt(flags.getOrDefault("duration", "60"));
        idleSyncs = Integer.parseInt(flags.getOrDefault("syncs", "50"));
        json = flags.containsKey("json") ? Path.of(flags.get("json")) : null;
        statements = Integer.parseInt(flags.getOrDefault("statements", "0"));
        pgbench = flags.getOrDefault("pgbench", findPgbench());
        phases = flags.getOrDefault("phases", "all");
        rounds = Integer.parseInt(flags.getOrDefault("rounds", "3"));
        into = flags.getOrDefault("into", "empty");
        setting = flags.get("set");
        pin = flags.containsKey("pin");
        String budgets = flags.getOrDefault("lag-budget", "1");
        lagBudgets = budgets.equals("off") ? List.of() : List.of(budgets.split(","));
        for (String b : lagBudgets) {
            Double.parseDouble(b); // a number of seconds, or the flag is wrong
        }
        this.flags = flags;
        if (!List.of("all", "copy", "bulk", "logical", "scale", "failover", "swap", "capture").contains(phases)) {
            throw new IllegalArgumentException("--phases is all, copy, bulk, logical, scale, failover, swap or capture, not "
                    + phases);
        }
        String l = flags.getOrDefault("logical", "on");
        if (!l.equals("on") && !l.equals("off")) {
            throw new IllegalArgumentException("--logical is on or off, not " + l);
        }
        logical = l.equals("on");
        if (flags.containsKey("pgconf")) {
            for (String kv : flags.get("pgconf").split(",")) {
                if (!kv.contains("=")) {
                    throw new IllegalArgumentException("--pgconf takes NAME=VALUE[,NAME=VALUE...], not " + kv);
                }
                pgconf.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        if (!logical && phases.equals("logical")) {
            throw new IllegalArgumentException("--phases=logical needs --logical=on");
        }
    }

    public static void main(String[] args) throws Exception {
        if (List.of(args).contains("--phases=triggers")) { // the capture trigger alone, on one server
            TriggerBench.main(args);
            return;
        }
        Map<String, String> flags = new LinkedHashMap<>();
        for (String a : args) {
            if (a.equals("--help")) {
                System.out.println("usage: ibex-bench [--scale=10] [--clients=4] [--duration=60] [--syncs=50] "
                        + "[--json=FILE] [--pgbench=PATH] [--statements=N] [--phases=all|copy|bulk|logical|scale|failover|swap|capture] [--rounds=3] "
                        + "[--into=empty|full] [--set=NAME=VALUE] [--logical=on|off] [--pgconf=NAME=VALUE,...] [--pin]");
                System.out.println("  --statements=N  print each server's N costliest statements of the ibex phase "
                        + "(pg_stat_statements) to stderr");
                System.out.println("  --phases=copy   only the raw COPY pipe and ibex's one-time copy of pgbench_accounts, "
                        + "alternating --rounds times, with their medians; --into=full: ibex copies over the rows");
                System.out.println("  --phases=bulk   only the bulk statements (UPDATE, INSERT ... SELECT, DELETE of "
                        + BULK_ROWS + " rows) without and with ibex's capture, alternating --rounds times, medians");
                System.out.println("  --phases=logical  only plain pgbench and PostgreSQL's logical replication");
                System.out.println("  --phases=triggers the capture trigger alone, shape against shape (--rows=100000 --rounds=5)");
                System.out.println("  --phases=failover two controllers, --failover-syncs=10 syncs; kill -9 of the one holding "
                        + "most: takeover_s (every sync claimed by the other) and takeover_apply_s (a write on every "
                        + "table applied)");
                System.out.println("  --phases=scale  many small tables in one sync (--tables=1000): the time to add them, the source's "
                        + "CPU idle (--idle=20 s) and under --trickle=20 commits/s to one table for --duration s, lag, RSS");
                System.out.println("  --phases=swap   two sources in one sync (dbs=src:source,dst:source), a pgbench load on "
                        + "each (--clients each): tps of each against both loads without ibex, lag each way, conflicts/s "
                        + "(--strategy=latest), swap_converged; pgbench --max-tries=100 retries deadlocks");
                System.out.println("  --phases=capture pgbench on the source alone with each capture shape in turn (none, a "
                        + "trigger doing nothing, ibex's without the log's index, ibex's; not adopted: ibex's without the "
                        + "ts default, one log row per transaction), --rounds times: tps and CPU (--shapes=none,txn_row,...: "
                        + "a subset)");
                System.out.println("  --pin           the source server on CPU 0, everything else on CPU 1 (taskset): "
                        + "the tps a source keeps when the target and the daemon run on other machines");
                System.out.println("  --logical=off   no logical replication phase; the source then keeps wal_level=replica "
                        + "and synchronous_commit=off (on: wal_level=logical and synchronous_commit=on for every phase)");
                System.out.println("  --pgconf=wal_writer_delay=10ms,...  server settings for both servers");
                System.out.println("  --lag-budget=1,0.25  run the ibex load again with autokick_poll at each of these "
                        + "seconds (budget_*); off: none (default 1)");
                return;
            }
            if (a.equals("--pin")) {
                flags.put("pin", "on");
                continue;
            }
            if (!a.startsWith("--") || !a.contains("=")) {
                System.err.println("ibex-bench: unknown argument " + a + " (see --help)");
                System.exit(2);
            }
            flags.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
        int rc = new Bench(flags).run();
        System.exit(rc);
    }

    int run() throws Exception {
        work = Files.createTempDirectory("ibex-bench");
        source = server(work.resolve("source"), true);
        target = server(work.resolve("target"), false);
        if (pin) {
            pin(postmaster(work.resolve("source")), 0);
            pin(postmaster(work.resolve("target")), 1);
            pin(ProcessHandle.current().pid(), 1); // pgbench and the daemon, started from here, inherit it
            System.out.println("pinned=source server on cpu 0, target, daemon, pgbench and the bench on cpu 1");
        }
        try {
            return switch (phases) {
                case "copy" -> measureCopy();
                case "bulk" -> measureBulkAlone();
                case "logical" -> measureLogicalAlone();
                case "scale" -> new ScaleBench(this, flags).measure();
                case "failover" -> new FailoverBench(this, flags).measure();
                case "swap" -> new SwapBench(this, flags).measure();
                case "capture" -> new CaptureLoadBench(this, flags).measure();
                default -> measure();
            };
        } finally {
            ibexQuietly("stop");
            source.close();
            target.close();
        }
    }

    /**
     * pgbench's tables on the source, empty ones on the target, the repository database, and the
     * heartbeat row; pgbench_history gets a key so that it replicates.
     */
    private void createBenchDatabases() throws IOException, InterruptedException {
        exec(source, "postgres", "CREATE DATABASE bench");
        exec(target, "postgres", "CREATE DATABASE bench", "CREATE DATABASE ibex");
        pgbenchInit(source, "dtgvp");
        pgbenchInit(target, "dtp");
        for (EmbeddedPostgres pg : List.of(source, target)) {
            exec(pg, "bench", "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY",
                    "CREATE TABLE bench_heartbeat (id int PRIMARY KEY, beat timestamptz NOT NULL)");
        }
        exec(source, "bench", "INSERT INTO bench_heartbeat VALUES (1, clock_timestamp())");
    }

    /** The load's shape and the source's wal_level, which every phase of the run shares. */
    private void loadFigures() {
        figure("scale", scale);
        figure("clients", clients);
        figure("duration_s", duration);
        serverFigures();
    }

    /** The source's wal_level, and the settings that decide when its WAL is written and flushed. */
    void serverFigures() {
        figure("wal_level", scalar(source, "postgres", "SHOW wal_level"));
        figure("source_wal", scalar(source, "postgres", "SELECT string_agg(name || '=' || current_setting(name), ' ' "
                + "ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_writer_delay', "
                + "'wal_writer_flush_after')"));
    }

    /**
     * pgbench on the source alone, its tps as figure {@code tps} (a name ending in "_tps"); returns
     * the source server's CPU per transaction (µs), also a figure.
     */
    private double plainPhase(String tps) throws Exception {
        settle();
        long[] plain0 = cpuTicks();
        figure(tps, pgbenchRun());
        long[] plain1 = cpuTicks();
        double plainSourceUs = (plain1[0] - plain0[0]) * tickMicros()
                / (((Number) figures.get(tps)).doubleValue() * duration);
        figure(tps.replace("_tps", "_cpu_us_per_txn"), String.format(java.util.Locale.ROOT, "source %.0f", plainSourceUs));
        return plainSourceUs;
    }

    private int measure() throws Exception {
        loadFigures();
        createBenchDatabases();

        // 1. plain PostgreSQL; again once ibex is gone (below): the phases between them run on tables
        // that grew and bloated meanwhile, and one plain figure alone moves every ratio with its noise
        double firstSourceUs = plainPhase("plain_first_tps");

        // 4 (done first: it also gives the target its starting data). Raw pipe, then ibex's copy.
        long rows = Long.parseLong(scalar(source, "bench", "SELECT count(*) FROM pgbench_accounts"));
        figure("copy_rows", rows);
        figure("rawcopy_s", seconds(this::rawCopy));
        exec(target, "bench", "TRUNCATE pgbench_accounts");

        addBenchSync();
        ibex("start");
        // the controller's start kicks the sync: the kick below returns once that copy run has ended
        figure("copy_kick_s", seconds(() -> ibex("kick", "bench", "0")));
        figure("copy_run_s", firstRunSeconds());
        figure("copy_s", tableCopySeconds("public.pgbench_accounts"));

        // 2. the same load with capture and the controller running, a heartbeat giving the lag
        if (statements > 0) {
            for (EmbeddedPostgres pg : List.of(source, target)) {
                exec(pg, "postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                        "SELECT pg_stat_statements_reset()");
            }
        }
        settle();
        Heartbeat beat = new Heartbeat();
        beat.start();
        long[] cpu0 = cpuTicks();
        figure("ibex_tps", pgbenchRun());
        long[] cpu1 = cpuTicks();
        beat.finish();
        // where the CPU went during the load, per transaction: the source, the target (+ repository), the daemon
        double txns = ((Number) figures.get("ibex_tps")).doubleValue() * duration;
        figure("ibex_cpu_us_per_txn", String.format(java.util.Locale.ROOT, "source %.0f target %.0f daemon %.0f",
                (cpu1[0] - cpu0[0]) * tickMicros() / txns, (cpu1[1] - cpu0[1]) * tickMicros() / txns,
                (cpu1[2] - cpu0[2]) * tickMicros() / txns));
        double ibexSourceUs = (cpu1[0] - cpu0[0]) * tickMicros() / txns;
        if (statements > 0) {
            topStatements(source, "source");
            topStatements(target, "target");
        }
        figure("lag_p50_ms", beat.percentile(50));
        figure("lag_p95_ms", beat.percentile(95));
        figure("lag_max_ms", beat.percentile(100));
        figure("drain_s", seconds(() -> ibex("kick", "bench", "0")));
        boolean converged = equal();
        for (String budget : lagBudgets) {
            converged &= lagBudgetPoint(budget);
        }

        // 3. triggers only, then the backlog worked off
        ibex("stop");
        settle();
        long[] trig0 = cpuTicks();
        figure("trigonly_tps", pgbenchRun());
        long[] trig1 = cpuTicks();
        figure("trigonly_cpu_us_per_txn", String.format(java.util.Locale.ROOT, "source %.0f",
                (trig1[0] - trig0[0]) * tickMicros() / (((Number) figures.get("trigonly_tps")).doubleValue() * duration)));
        long backlog = backlogRows();
        figure("backlog_rows", backlog);
        String before = scalar(target, "ibex", "SELECT clock_timestamp()::text");
        figure("backlog_wall_s", seconds(() -> {
            ibex("start");
            ibex("kick", "bench", "0");
        }));
        // the work-off itself, from the first run the new controller started to the last one's end
        double backlogS = Double.parseDouble(scalar(target, "ibex", "SELECT round(extract(epoch FROM max(ended) - "
                + "min(started)), 2) FROM ibex.run WHERE sync = 'bench' AND started >= '" + before + "'"));
        figure("backlog_s", backlogS);
        figure("backlog_rows_per_s", Math.round(backlog / Math.max(backlogS, 0.001)));
        converged &= equal();

        // 5. the controller's memory
        figure("syncs", idleSyncs + 1);
        figure("daemon_rss_mb", controllerRssMb());
        figure("copy_vs_raw", ratio("copy_s", "rawcopy_s"));

        // 6. ibex gone from the source (controller stopped, every sync removed: no triggers left),
        // then bulk statements without and with capture, then logical replication
        ibex("stop");
        ibex("remove", "sync", "all");
        requireTriggers(TABLES, false);
        double plainSourceUs = (firstSourceUs + plainPhase("plain_last_tps")) / 2;
        figure("plain_tps", Math.round((((Number) figures.get("plain_first_tps")).doubleValue()
                + ((Number) figures.get("plain_last_tps")).doubleValue()) / 2 * 10) / 10.0);
        figure("plain_drift", ratio("plain_last_tps", "plain_first_tps"));
        figure("plain_cpu_us_per_txn", String.format(java.util.Locale.ROOT, "source %.0f", plainSourceUs));
        figure("ibex_vs_plain", ratio("ibex_tps", "plain_tps"));
        figure("trigonly_vs_plain", ratio("trigonly_tps", "plain_tps"));
        for (String budget : lagBudgets) {
            figure("budget_" + budget + "s_vs_plain", ratio("budget_" + budget + "s_tps", "plain_tps"));
        }
        // the source server's CPU per transaction, plain against ibex (triggers + the run's reads):
        // the throughput a CPU-bound source keeps when the target and the daemon run elsewhere
        figure("source_cpu_vs_plain", Math.round(plainSourceUs / ibexSourceUs * 100) / 100.0);
        measureBulk();
        if (logical) {
            converged &= measureLogical(plainSourceUs);
        }
        figure("converged", converged ? "yes" : "no");
        writeJson();
        if (!converged) {
            System.err.println("ibex-bench: FAILED: the target does not equal the source; the figures above are void");
            return 1;
        }
        return 0;
    }

    /**
     * The ibex load again with autokick looking every {@code budget} seconds: fewer, larger runs, a
     * lag of about the budget, and less work on the source. The default poll is set back after.
     */
    private boolean lagBudgetPoint(String budget) throws Exception {
        String name = "budget_" + budget + "s_";
        ibex("set", "autokick_poll=" + budget);
        settle();
        Heartbeat beat = new Heartbeat();
        beat.start();
        figure(name + "tps", pgbenchRun());
        beat.finish();
        figure(name + "lag_p50_ms", beat.percentile(50));
        figure(name + "lag_p95_ms", beat.percentile(95));
        figure(name + "lag_max_ms", beat.percentile(100));
        ibex("set", "autokick_poll=" + Tunable.AUTOKICK_POLL.defaultValue());
        ibex("kick", "bench", "0");
        return equal();
    }

    /**
     * The copy figures alone: each round truncates the target's pgbench_accounts, times the raw
     * pipe, truncates again and times ibex's one-time copy (the controller's log line), so both
     * always write into an empty table with its primary key. The first round's copy runs as the
     * controller starts (with --syncs idle syncs starting too), as in the full run.
     */
    private int measureCopy() throws Exception {
        figure("scale", scale);
        serverFigures();
        createBenchDatabases();
        exec(source, "bench", "VACUUM ANALYZE");
        figure("copy_rows", Long.parseLong(scalar(source, "bench", "SELECT count(*) FROM pgbench_accounts")));
        addBenchSync();
        List<Double> raw = new ArrayList<>();
        List<Double> copy = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            exec(target, "bench", "TRUNCATE pgbench_accounts", "CHECKPOINT");
            exec(source, "bench", "CHECKPOINT");
            long[] c0 = cpuTicks();
            long java0 = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            raw.add(seconds(this::rawCopy));
            long java1 = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            long[] c1 = cpuTicks();
            String rawIndex = scalar(target, "bench", "SELECT pg_relation_size('pgbench_accounts_pkey') / 1048576");
            exec(target, "bench", into.equals("full") ? "VACUUM ANALYZE pgbench_accounts" : "TRUNCATE pgbench_accounts",
                    "CHECKPOINT");
            if (round == 1) {
                // as in the full run: the controller's start runs every sync, the copy among them
                ibex("start");
            } else {
                exec(target, "ibex", "UPDATE ibex.sync SET onetimecopy = 1 WHERE name = 'bench'");
            }
            long[] c2 = cpuTicks();
            ibex("kick", "bench", "0");
            long[] c3 = cpuTicks();
            List<Double> logged = tableCopyTimes("public.pgbench_accounts");
            if (logged.size() != round) {
                throw new IllegalStateException("expected " + round + " copies in the log, found " + logged);
            }
            copy.add(logged.get(round - 1));
            String ibexIndex = scalar(target, "bench", "SELECT pg_relation_size('pgbench_accounts_pkey') / 1048576");
            out.println("round " + round + ": rawcopy_s=" + raw.get(round - 1) + " copy_s=" + copy.get(round - 1)
                    + "  target key index MB: raw " + rawIndex + " ibex " + ibexIndex
                    + String.format(java.util.Locale.ROOT, "  cpu_s raw: source %.2f target %.2f java %.2f;"
                            + " ibex run (with ANALYZE): source %.2f target %.2f daemon %.2f",
                    (c1[0] - c0[0]) / 100.0, (c1[1] - c0[1]) / 100.0, (java1 - java0) / 1e9,
                    (c3[0] - c2[0]) / 100.0, (c3[1] - c2[1]) / 100.0, (c3[2] - c2[2]) / 100.0));
        }
        figure("rawcopy_s", median(raw));
        figure("copy_s", median(copy));
        figure("copy_vs_raw", ratio("copy_s", "rawcopy_s"));
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            ratios.add(Math.round(copy.get(i) / raw.get(i) * 100) / 100.0);
        }
        figure("copy_vs_raw_per_round", ratios.toString().replace(" ", ""));
        figure("copy_vs_raw_median_of_rounds", median(ratios));
        boolean converged = equal();
        figure("converged", converged ? "yes" : "no");
        writeJson();
        return converged ? 0 : 1;
    }

    // ---- bulk statements ------------------------------------------------------------------------

    /** --phases=bulk: an empty database bench on both servers and the repository, then the bulk phase. */
    private int measureBulkAlone() throws Exception {
        serverFigures();
        exec(source, "postgres", "CREATE DATABASE bench");
        exec(target, "postgres", "CREATE DATABASE bench", "CREATE DATABASE ibex");
        installRepository();
        measureBulk();
        writeJson();
        return 0;
    }

    /**
     * One-statement UPDATE, INSERT ... SELECT and DELETE of {@link #BULK_ROWS} rows each on table
     * bench_bulk (pgbench_accounts' shape, autovacuum off), without capture and with it (a sync
     * "bulk" over that table only, added for the round and removed after it; the controller is not
     * running, so this is the statement's own cost), alternating which goes first, --rounds times;
     * medians. Each side starts from the same state: 100k rows, vacuumed, after a checkpoint.
     */
    private void measureBulk() throws Exception {
        String create = "CREATE TABLE bench_bulk (id int PRIMARY KEY, v int NOT NULL, filler char(84)) "
                + "WITH (autovacuum_enabled = off)";
        exec(source, "bench", create);
        exec(target, "bench", create);
        ibex("add", "table", "public.bench_bulk", "db=src", "relgroup=bulk");
        List<List<Double>> plain = new ArrayList<>();
        List<List<Double>> captured = new ArrayList<>();
        for (int i = 0; i < BULK_STEPS.length; i++) {
            plain.add(new ArrayList<>());
            captured.add(new ArrayList<>());
        }
        for (int round = 1; round <= rounds; round++) {
            StringBuilder line = new StringBuilder("bulk round " + round + ":");
            for (boolean capture : round % 2 == 1 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                double[] t = bulkStatements(capture);
                line.append(capture ? "  capture" : "  plain");
                for (int i = 0; i < BULK_STEPS.length; i++) {
                    (capture ? captured : plain).get(i).add(t[i]);
                    line.append(' ').append(BULK_STEPS[i]).append(' ').append(t[i]);
                }
            }
            out.println(line);
        }
        figure("bulk_rows", BULK_ROWS);
        StringBuilder perRow = new StringBuilder();
        for (int i = 0; i < BULK_STEPS.length; i++) {
            double p = median(plain.get(i), 1000);
            double c = median(captured.get(i), 1000);
            figure("bulk_" + BULK_STEPS[i] + "_plain_s", p);
            figure("bulk_" + BULK_STEPS[i] + "_s", c);
            perRow.append(i == 0 ? "" : " ").append(BULK_STEPS[i]).append(' ')
                    .append(String.format(java.util.Locale.ROOT, "%.2f", (c - p) * 1e6 / BULK_ROWS));
        }
        for (String step : BULK_STEPS) {
            figure("bulk_" + step + "_vs_plain", ratio("bulk_" + step + "_s", "bulk_" + step + "_plain_s"));
        }
        figure("bulk_capture_us_per_row", perRow.toString());
        exec(source, "bench", "DROP TABLE bench_bulk");
        exec(target, "bench", "DROP TABLE bench_bulk");
    }

    /** One side of a bulk round: seconds of the UPDATE, the INSERT ... SELECT and the DELETE. */
    private double[] bulkStatements(boolean capture) throws Exception {
        exec(source, "bench", "TRUNCATE bench_bulk",
                "INSERT INTO bench_bulk SELECT g, 0, '' FROM generate_series(1, " + BULK_ROWS + ") g",
                "VACUUM ANALYZE bench_bulk");
        if (capture) {
            ibex("add", "sync", "bulk", "relgroup=bulk", "dbs=src:source,dst:target");
        }
        requireTriggers(new String[] {"bench_bulk"}, capture);
        exec(source, "bench", "CHECKPOINT");
        String[] sql = {
            "UPDATE bench_bulk SET v = v + 1",
            "INSERT INTO bench_bulk SELECT g, 0, '' FROM generate_series(" + (BULK_ROWS + 1) + ", " + 2 * BULK_ROWS + ") g",
            "DELETE FROM bench_bulk WHERE id <= " + BULK_ROWS,
        };
        double[] t = new double[sql.length];
        try (Connection c = connect(source, "bench"); Statement st = c.createStatement()) {
            for (int i = 0; i < sql.length; i++) {
                long t0 = System.nanoTime();
                int n = st.executeUpdate(sql[i]);
                t[i] = Math.round((System.nanoTime() - t0) / 1e6) / 1000.0;
                if (n != BULK_ROWS) {
                    throw new IllegalStateException(sql[i] + " changed " + n + " rows, not " + BULK_ROWS);
                }
            }
        }
        if (capture) {
            ibex("remove", "sync", "bulk");
        }
        return t;
    }

    /** Fails unless the source's tables all have (or all lack) triggers of their own: ibex's capture. */
    private void requireTriggers(String[] tables, boolean present) {
        for (String t : tables) {
            long n = Long.parseLong(scalar(source, "bench", "SELECT count(*) FROM pg_trigger WHERE tgrelid = '"
                    + t + "'::regclass AND NOT tgisinternal"));
            if ((n > 0) != present) {
                throw new IllegalStateException(t + " on the source has " + n + " triggers: capture is "
                        + (present ? "missing" : "still installed"));
            }
        }
    }

    // ---- logical replication --------------------------------------------------------------------

    /** --phases=logical: plain pgbench, then the logical replication phase. */
    private int measureLogicalAlone() throws Exception {
        loadFigures();
        createBenchDatabases();
        double plainSourceUs = plainPhase("plain_tps");
        boolean converged = measureLogical(plainSourceUs);
        figure("converged", converged ? "yes" : "no");
        writeJson();
        return converged ? 0 : 1;
    }

    /**
     * PostgreSQL's logical replication between the same servers under the same load, with nothing
     * of ibex on the source: the initial table sync (after a raw pipe timed from the same state),
     * pgbench with the subscription running and a heartbeat giving the lag, pgbench with the
     * subscription disabled (the slot kept), and the catch-up once it is enabled again. Returns
     * whether the target ended equal to the source, after the load and after the catch-up.
     */
    private boolean measureLogical(double plainSourceUs) throws Exception {
        // the same starting point for the raw pipe and the initial sync; pgbench_history emptied so
        // that both copy pgbench_accounts (the other tables are small), as the copy figures above
        exec(source, "bench", "TRUNCATE pgbench_history", "VACUUM ANALYZE", "CHECKPOINT");
        exec(target, "bench", "TRUNCATE " + String.join(", ", TABLES), "CHECKPOINT");
        figure("logical_rawcopy_s", seconds(this::rawCopy));
        exec(target, "bench", "TRUNCATE pgbench_accounts", "CHECKPOINT");

        exec(source, "bench", "CREATE PUBLICATION " + PUBLICATION + " FOR TABLE " + String.join(", ", TABLES));
        figure("logical_copy_s", seconds(() -> {
            exec(target, "bench", "CREATE SUBSCRIPTION " + SUBSCRIPTION + " CONNECTION 'host=127.0.0.1 port="
                    + source.getPort() + " dbname=bench user=postgres' PUBLICATION " + PUBLICATION);
            waitFor("the initial table sync", () -> scalar(target, "bench", "SELECT count(*) = " + TABLES.length
                    + " AND bool_and(srsubstate = 'r') FROM pg_subscription_rel").equals("t"));
        }));

        settle();
        Heartbeat beat = new Heartbeat();
        beat.start();
        long[] cpu0 = cpuTicks();
        figure("logical_tps", pgbenchRun());
        long[] cpu1 = cpuTicks();
        beat.finish();
        double txns = ((Number) figures.get("logical_tps")).doubleValue() * duration;
        double sourceUs = (cpu1[0] - cpu0[0]) * tickMicros() / txns;
        figure("logical_cpu_us_per_txn", String.format(java.util.Locale.ROOT, "source %.0f target %.0f",
                sourceUs, (cpu1[1] - cpu0[1]) * tickMicros() / txns));
        figure("logical_source_cpu_vs_plain", Math.round(plainSourceUs / sourceUs * 100) / 100.0);
        figure("logical_lag_p50_ms", beat.percentile(50));
        figure("logical_lag_p95_ms", beat.percentile(95));
        figure("logical_lag_max_ms", beat.percentile(100));
        String drained = writeBeat();
        figure("logical_drain_s", seconds(() -> waitForBeat(drained)));
        boolean converged = equal();

        // the slot alone: the subscription disabled, its walsender gone, the changes kept as WAL
        exec(target, "bench", "ALTER SUBSCRIPTION " + SUBSCRIPTION + " DISABLE");
        waitFor("the subscription's walsender to end", () -> scalar(source, "bench",
                "SELECT count(*) FROM pg_replication_slots WHERE active").equals("0"));
        settle();
        long changed0 = rowsChanged();
        long[] slot0 = cpuTicks();
        figure("logical_slotonly_tps", pgbenchRun());
        long[] slot1 = cpuTicks();
        figure("logical_slotonly_cpu_us_per_txn", String.format(java.util.Locale.ROOT, "source %.0f",
                (slot1[0] - slot0[0]) * tickMicros()
                        / (((Number) figures.get("logical_slotonly_tps")).doubleValue() * duration)));
        long backlog = rowsChanged() - changed0;
        figure("logical_backlog_rows", backlog);
        figure("logical_backlog_wal_mb", Long.parseLong(scalar(source, "bench", "SELECT (pg_wal_lsn_diff("
                + "pg_current_wal_lsn(), confirmed_flush_lsn) / 1048576)::bigint FROM pg_replication_slots "
                + "WHERE slot_name = '" + SUBSCRIPTION + "'")));
        // enabled again: until the target shows a beat written after the load (commit order: all before it too)
        String last = writeBeat();
        double catchup = seconds(() -> {
            exec(target, "bench", "ALTER SUBSCRIPTION " + SUBSCRIPTION + " ENABLE");
            waitForBeat(last);
        });
        figure("logical_catchup_s", catchup);
        figure("logical_catchup_rows_per_s", Math.round(backlog / Math.max(catchup, 0.001)));
        converged &= equal();
        figure("logical_converged", converged ? "yes" : "no");
        exec(target, "bench", "DROP SUBSCRIPTION " + SUBSCRIPTION);
        exec(source, "bench", "DROP PUBLICATION " + PUBLICATION);

        figure("logical_vs_plain", ratio("logical_tps", "plain_tps"));
        figure("logical_slotonly_vs_plain", ratio("logical_slotonly_tps", "plain_tps"));
        figure("logical_copy_vs_raw", ratio("logical_copy_s", "logical_rawcopy_s"));
        return converged;
    }

    /** Inserted, updated and deleted rows of the bench's tables so far, from the source's statistics. */
    private long rowsChanged() {
        return Long.parseLong(scalar(source, "bench", "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) "
                + "FROM pg_stat_user_tables WHERE relname IN ('" + String.join("', '", TABLES) + "')"));
    }

    /** A new beat on the source; returns its value. */
    String writeBeat() {
        return writeBeat(source, 1);
    }

    /** A new beat in row {@code id} on {@code pg}; returns its value. */
    static String writeBeat(EmbeddedPostgres pg, int id) {
        return scalar(pg, "bench", "UPDATE bench_heartbeat SET beat = clock_timestamp() WHERE id = " + id
                + " RETURNING beat::text");
    }

    /** Until the target's heartbeat row holds the given beat or a later one. */
    void waitForBeat(String beat) throws Exception {
        waitForBeat(target, 1, beat);
    }

    /** Until row {@code id} of the heartbeat on {@code pg} holds the given beat or a later one. */
    static void waitForBeat(EmbeddedPostgres pg, int id, String beat) throws Exception {
        try (Connection t = connect(pg, "bench"); Statement st = t.createStatement()) {
            waitFor("row " + id + " of the heartbeat to show beat " + beat, () -> {
                try (ResultSet rs = st.executeQuery("SELECT beat >= '" + beat + "'::timestamptz FROM bench_heartbeat "
                        + "WHERE id = " + id)) {
                    return rs.next() && rs.getBoolean(1);
                }
            });
        }
    }

    @FunctionalInterface
    interface Condition {
        boolean holds() throws Exception;
    }

    /** Polls every 5 ms, for at most 30 minutes. */
    static void waitFor(String what, Condition c) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    private static double median(List<Double> xs) {
        return median(xs, 100);
    }

    /** The median, an even count's middle pair averaged and rounded to 1/{@code scale}. */
    static double median(List<Double> xs, int scale) {
        List<Double> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2)
                : Math.round((sorted.get(n / 2 - 1) + sorted.get(n / 2)) * scale / 2.0) / (double) scale;
    }

    // ---- pieces ---------------------------------------------------------------------------------

    private void addIdleSyncs() {
        for (int i = 1; i <= idleSyncs; i++) {
            String t = "idle_" + i;
            exec(source, "bench", "CREATE TABLE " + t + " (id int PRIMARY KEY, v text)");
            exec(target, "bench", "CREATE TABLE " + t + " (id int PRIMARY KEY, v text)");
            ibex("add", "sync", "idle" + i, "tables=public." + t, "dbs=src:source,dst:target");
        }
    }

    /** The repository on the target server, the idle syncs, --set, and sync bench (onetimecopy=1), not started. */
    private void addBenchSync() {
        installRepository();
        ibex("add", "all", "tables", "db=src", "relgroup=bench");
        addIdleSyncs();
        if (setting != null) {
            ibex("set", setting);
        }
        ibex("add", "sync", "bench", "relgroup=bench", "dbs=src:source,dst:target", "onetimecopy=1");
    }

    /** The repository in database ibex of the target server, with dbs src and dst (database bench of each server). */
    void installRepository() {
        repo = List.of("--db-host", "127.0.0.1", "--db-port", Integer.toString(target.getPort()), "--db-name", "ibex",
                "--db-user", "postgres", "--piddir", work.resolve("run").toString(),
                "--log-dir", work.resolve("log").toString());
        ibex("install", "--batch");
        ibex("add", "db", "src", "dbname=bench", "host=127.0.0.1", "port=" + source.getPort(), "user=postgres");
        ibex("add", "db", "dst", "dbname=bench", "host=127.0.0.1", "port=" + target.getPort(), "user=postgres");
    }

    /**
     * Before each measured load, the bench's tables on both servers vacuumed and a checkpoint
     * taken: every phase starts from the same state, not from the dead rows the phases before it
     * left (a full run's plain pgbench, measured first and last without this, differed by 12 %).
     */
    private void settle() {
        for (EmbeddedPostgres pg : List.of(source, target)) {
            exec(pg, "bench", "VACUUM ANALYZE", "CHECKPOINT");
        }
    }

    private double pgbenchRun() throws IOException, InterruptedException {
        return tps(command(pgbenchCommand(source)));
    }

    /** pgbench's load on {@code pg}: --clients clients, 2 threads, --duration seconds, and {@code extra} options. */
    List<String> pgbenchCommand(EmbeddedPostgres pg, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(pgbench, "-n", "-c", Integer.toString(clients), "-j", "2", "-T",
                Integer.toString(duration)));
        cmd.addAll(Arrays.asList(extra));
        cmd.addAll(List.of("-h", "127.0.0.1", "-p", Integer.toString(pg.getPort()), "-U", "postgres", "bench"));
        return cmd;
    }

    /** The tps of a pgbench run's output, to a tenth. */
    static double tps(String pgbenchOutput) {
        Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(pgbenchOutput);
        if (!m.find()) {
            throw new IllegalStateException("no tps in pgbench output:\n" + pgbenchOutput);
        }
        return Math.round(Double.parseDouble(m.group(1)) * 10) / 10.0;
    }

    void pgbenchInit(EmbeddedPostgres pg, String steps) throws IOException, InterruptedException {
        command(List.of(pgbench, "-i", "-s", Integer.toString(scale), "-I", steps, "-q", "-h", "127.0.0.1", "-p",
                Integer.toString(pg.getPort()), "-U", "postgres", "bench"));
    }

    private void rawCopy() {
        try (Connection s = connect(source, "bench"); Connection t = connect(target, "bench")) {
            t.setAutoCommit(false);
            CopyOut from = s.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY pgbench_accounts TO STDOUT");
            CopyIn to = t.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY pgbench_accounts FROM STDIN");
            byte[] buf;
            while ((buf = from.readFromCopy()) != null) {
                to.writeToCopy(buf, 0, buf.length);
            }
            to.endCopy();
            t.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Log rows the sync has not applied yet: txids not visible in its S_prev (rows applied but not purged do not count). */
    private long backlogRows() {
        String prev = scalar(target, "ibex", "SELECT snapshot FROM ibex.sync_state WHERE sync = 'bench'");
        return Long.parseLong(scalar(source, "bench", "SELECT count(*) FROM ibex.log WHERE txid >= "
                + "txid_snapshot_xmin('" + prev + "'::txid_snapshot) AND NOT txid_visible_in_snapshot(txid, '"
                + prev + "'::txid_snapshot)"));
    }

    /** The one-time copy run, from its run row. */
    private double firstRunSeconds() {
        return Double.parseDouble(scalar(target, "ibex", "SELECT round(extract(epoch FROM ended - started), 2) "
                + "FROM ibex.run WHERE sync = 'bench' ORDER BY id LIMIT 1"));
    }

    /** The COPY of one table within the one-time copy, as the controller logged it ("Copied t: N rows in S s"). */
    private double tableCopySeconds(String table) throws IOException {
        List<Double> times = tableCopyTimes(table);
        if (times.isEmpty()) {
            throw new IllegalStateException("no copy time of " + table + " in the controller's log");
        }
        return times.get(0);
    }

    /** Every logged copy time of the table, oldest first. */
    private List<Double> tableCopyTimes(String table) throws IOException {
        Pattern p = Pattern.compile("Copied " + Pattern.quote(table) + ": [0-9]+ rows in ([0-9.]+) s");
        List<Double> times = new ArrayList<>();
        try (var files = Files.list(work.resolve("log"))) {
            for (Path f : files.toList()) {
                Matcher m = p.matcher(Files.readString(f, StandardCharsets.UTF_8));
                while (m.find()) {
                    times.add(Double.parseDouble(m.group(1)));
                }
            }
        }
        return times;
    }

    private boolean equal() {
        boolean same = true;
        for (int i = 0; i < TABLES.length; i++) {
            String a = checksum(source, TABLES[i], KEYS[i]);
            String b = checksum(target, TABLES[i], KEYS[i]);
            if (!a.equals(b)) {
                System.err.println("ibex-bench: " + TABLES[i] + " differs: source " + a + " target " + b);
                same = false;
            }
        }
        return same;
    }

    /** count:md5 of the table's rows in key order, in database bench. */
    static String checksum(EmbeddedPostgres pg, String table, String key) {
        return scalar(pg, "bench", "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY " + key
                + ")), '-') FROM " + table + " t");
    }

    long controllerRssMb() throws IOException {
        Path pidFile;
        try (var files = Files.list(work.resolve("run"))) {
            pidFile = files.filter(p -> p.getFileName().toString().endsWith(".pid")).findFirst().orElseThrow();
        }
        String pid = Files.readAllLines(pidFile).get(0).trim();
        for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        }
        return -1;
    }

    /**
     * Writes a beat into row {@code id} of bench_heartbeat on one server every 200 ms; polls that row on
     * the other and records how late each beat arrives. By default from the source to the target, row 1.
     */
    final class Heartbeat extends Thread {
        private final List<Long> lags = new ArrayList<>();
        private final EmbeddedPostgres from;
        private final EmbeddedPostgres to;
        private final int id;
        private volatile boolean done;

        Heartbeat() {
            this(source, target, 1);
        }

        Heartbeat(EmbeddedPostgres from, EmbeddedPostgres to, int id) {
            super("bench-heartbeat-" + id);
            this.from = from;
            this.to = to;
            this.id = id;
        }

        @Override
        public void run() {
            try (Connection s = connect(from, "bench"); Connection t = connect(to, "bench");
                 Statement ss = s.createStatement(); Statement ts = t.createStatement()) {
                long nextBeat = 0;
                String lastSeen = "";
                String first = null;
                while (!done) {
                    long now = System.nanoTime();
                    if (now >= nextBeat) {
                        try (ResultSet rs = ss.executeQuery(
                                "UPDATE bench_heartbeat SET beat = clock_timestamp() WHERE id = " + id + " RETURNING beat::text")) {
                            rs.next();
                            first = first == null ? rs.getString(1) : first;
                        }
                        nextBeat = now + 200_000_000L;
                    }
                    // the row the copy brought over is not a beat: count from the first beat this thread wrote
                    try (ResultSet rs = ts.executeQuery("SELECT beat::text, "
                            + "(extract(epoch FROM clock_timestamp() - beat) * 1000)::bigint, beat >= '" + first
                            + "'::timestamptz FROM bench_heartbeat WHERE id = " + id)) {
                        if (rs.next() && rs.getBoolean(3) && !rs.getString(1).equals(lastSeen)) {
                            lastSeen = rs.getString(1);
                            synchronized (lags) {
                                lags.add(rs.getLong(2));
                            }
                        }
                    }
                    Thread.sleep(10);
                }
            } catch (SQLException | InterruptedException e) {
                System.err.println("ibex-bench: heartbeat stopped: " + e.getMessage());
            }
        }

        void finish() throws InterruptedException {
            done = true;
            join();
        }

        /** How many beats arrived: each a lag sample. */
        int samples() {
            synchronized (lags) {
                return lags.size();
            }
        }

        long percentile(int p) {
            synchronized (lags) {
                if (lags.isEmpty()) {
                    return -1;
                }
                List<Long> sorted = new ArrayList<>(lags);
                sorted.sort(null);
                int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
                return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
            }
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------

    void figure(String key, Object value) {
        figures.put(key, value);
        out.println(key + "=" + value);
        out.flush();
    }

    private double ratio(String a, String b) {
        double x = ((Number) figures.get(a)).doubleValue();
        double y = ((Number) figures.get(b)).doubleValue();
        return Math.round(x / y * 100) / 100.0;
    }

    void writeJson() throws IOException {
        if (json == null) {
            return;
        }
        StringBuilder sb = new StringBuilder("{\n");
        var it = figures.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            Object v = e.getValue();
            sb.append("  \"").append(e.getKey()).append("\": ")
                    .append(v instanceof Number ? v.toString() : "\"" + v + "\"").append(it.hasNext() ? ",\n" : "\n");
        }
        Files.writeString(json, sb.append("}\n").toString(), StandardCharsets.UTF_8);
    }

    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    static double seconds(Step step) throws Exception {
        long t0 = System.nanoTime();
        step.run();
        return Math.round((System.nanoTime() - t0) / 1e7) / 100.0;
    }

    void ibex(String... args) {
        ibexWith(repo, args);
    }

    /** The CLI with these global options (the repository's, a second controller's own directories). */
    void ibexWith(List<String> options, String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(options);
        int rc = IbexCommand.run(all.toArray(String[]::new));
        if (rc != 0) {
            throw new IllegalStateException("ibex " + String.join(" ", args) + " failed with exit code " + rc);
        }
    }

    /** The CLI with the repository's options; returns its exit code rather than failing on one. */
    int ibexExit(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(repo);
        return IbexCommand.run(all.toArray(String[]::new));
    }

    /** The repository options with the pid file and log of controller {@code n} in directories of their own. */
    List<String> controllerOptions(int n) {
        List<String> out = new ArrayList<>(repo.subList(0, repo.indexOf("--piddir")));
        out.addAll(List.of("--piddir", work.resolve("run" + n).toString(), "--log-dir", work.resolve("log" + n).toString()));
        return out;
    }

    private void ibexQuietly(String verb) {
        if (repo != null) {
            List<String> all = new ArrayList<>(List.of(verb));
            all.addAll(repo);
            IbexCommand.run(all.toArray(String[]::new));
        }
    }

    /** CPU ticks so far of the source's and the target's server processes and of the controller. */
    long[] cpuTicks() throws IOException, InterruptedException {
        // pgbench's backends are exiting: their time counts once the postmaster has reaped them
        Thread.sleep(300);
        long daemon = 0;
        Path run = work.resolve("run");
        if (Files.isDirectory(run)) {
            try (var files = Files.list(run)) {
                for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".pid")).toList()) {
                    daemon += ticks(Long.parseLong(Files.readAllLines(f).get(0).trim()), false);
                }
            }
        }
        return new long[] {serverTicks(work.resolve("source")), serverTicks(work.resolve("target")), daemon};
    }

    /** The postmaster, its reaped children and its live children. */
    static long serverTicks(Path dataDir) throws IOException {
        long pm = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        long sum = ticks(pm, true);
        for (ProcessHandle child : ProcessHandle.of(pm).map(h -> h.children().toList()).orElse(List.of())) {
            sum += ticks(child.pid(), false);
        }
        return sum;
    }

    private static long ticks(long pid, boolean withChildren) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields 14-17 of stat (utime, stime, cutime, cstime), counted from the state field (3)
            long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return withChildren ? t + Long.parseLong(f[13]) + Long.parseLong(f[14]) : t;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static double tickMicros() {
        return 1_000_000.0 / 100; // USER_HZ is 100 on Linux
    }

    void topStatements(EmbeddedPostgres pg, String label) {
        String sql = "SELECT round(total_exec_time)::text || ' ms ' || calls || ' calls ' || rows || ' rows: ' "
                + "|| left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_statements "
                + "ORDER BY total_exec_time DESC LIMIT " + statements;
        try (Connection c = connect(pg, "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                System.err.println("ibex-bench: " + label + ": " + rs.getString(1));
            }
        } catch (SQLException e) {
            System.err.println("ibex-bench: no statements of " + label + ": " + e.getMessage());
        }
    }

    /**
     * A server on loopback (fsync off). Unless --logical=off, the source gets wal_level=logical and
     * synchronous_commit=on for every phase alike: a walsender sends only flushed WAL, and with
     * asynchronous commits the WAL writer flushes every wal_writer_delay (200 ms) or 1 MB, which
     * would make logical replication's lag that cadence; with fsync off a synchronous commit is a
     * write() and no fsync. --logical=off keeps the settings of the figures before (wal_level
     * replica, synchronous_commit off). --pgconf overrides either.
     */
    private EmbeddedPostgres server(Path dir, boolean isSource) throws IOException {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder();
        if (statements > 0) {
            b.setServerConfig("shared_preload_libraries", "pg_stat_statements")
                    .setServerConfig("pg_stat_statements.track", "all");
        }
        if (isSource && logical) {
            b.setServerConfig("wal_level", "logical")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_replication_slots", "10")
                    .setServerConfig("max_wal_senders", "10");
        }
        b.setDataDirectory(dir).setCleanDataDirectory(true)
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "300")
                .setServerConfig("shared_buffers", "256MB")
                .setServerConfig("max_wal_size", "4GB")
                .setServerConfig("checkpoint_timeout", "30min");
        pgconf.forEach(b::setServerConfig);
        return b.start();
    }

    static Connection connect(EmbeddedPostgres pg, String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db, "postgres", "");
    }

    static void exec(EmbeddedPostgres pg, String db, String... sql) {
        try (Connection c = connect(pg, db); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    static String scalar(EmbeddedPostgres pg, String db, String sql) {
        try (Connection c = connect(pg, db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static long postmaster(Path dataDir) throws IOException {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    }

    /** A process, its threads and the processes it has started, on one CPU; later children inherit it. */
    private static void pin(long pid, int cpu) throws IOException, InterruptedException {
        List<Long> pids = new ArrayList<>(List.of(pid));
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
        for (long p : pids) {
            command(List.of("taskset", "-a", "-p", "-c", Integer.toString(cpu), Long.toString(p)));
        }
    }

    static String command(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + new String(output, StandardCharsets.UTF_8));
        }
        return new String(output, StandardCharsets.UTF_8);
    }

    private static String findPgbench() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "pgbench"))) {
                return Path.of(dir, "pgbench").toString();
            }
        }
        try (var dirs = Files.list(Path.of("/usr/lib/postgresql"))) {
            return dirs.map(d -> d.resolve("bin/pgbench")).filter(Files::isExecutable).sorted().reduce((a, b) -> b)
                    .map(Path::toString).orElse("pgbench");
        } catch (IOException e) {
            return "pgbench";
        }
    }
}
