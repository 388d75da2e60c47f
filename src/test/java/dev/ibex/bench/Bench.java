package dev.ibex.bench;

import dev.ibex.cli.IbexCommand;
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
 * and a one-time copy go, on two PostgreSQL servers on loopback with pgbench as the load. Prints
 * key=value lines; exits 1 when the target did not end equal to the source.
 */
public final class Bench {

    private static final String[] TABLES = {"pgbench_accounts", "pgbench_branches", "pgbench_tellers",
        "pgbench_history", "bench_heartbeat"};
    private static final String[] KEYS = {"aid", "bid", "tid", "hid", "id"};

    private final Map<String, Object> figures = new LinkedHashMap<>();
    private final PrintStream out = System.out;
    private final int scale;
    private final int clients;
    private final int duration;
    private final int idleSyncs;
    private final Path json;
    private final int statements;
    private final String pgbench;
    /** "all" (the default) or "copy": only the raw pipe and ibex's one-time copy, alternating, {@code rounds} times. */
    private final String phases;
    private final int rounds;
    /** "empty" (the default): ibex copies into an empty table, as the raw pipe; "full": over the raw pipe's rows. */
    private final String into;
    /** --set=name=value: an `ibex set` before the controller starts, e.g. copy_split_mb=100000 for one stream. */
    private final String setting;

    private EmbeddedPostgres source;
    private EmbeddedPostgres target;
    private Path work;
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
        if (!phases.equals("all") && !phases.equals("copy")) {
            throw new IllegalArgumentException("--phases is all or copy, not " + phases);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String a : args) {
            if (a.equals("--help")) {
                System.out.println("usage: ibex-bench [--scale=10] [--clients=4] [--duration=60] [--syncs=50] "
                        + "[--json=FILE] [--pgbench=PATH] [--statements=N] [--phases=all|copy] [--rounds=3] [--into=empty|full] [--set=NAME=VALUE]");
                System.out.println("  --statements=N  print each server's N costliest statements of the ibex phase "
                        + "(pg_stat_statements) to stderr");
                System.out.println("  --phases=copy   only the raw COPY pipe and ibex's one-time copy of pgbench_accounts, "
                        + "alternating --rounds times, with their medians; --into=full: ibex copies over the rows");
                return;
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
        source = server(work.resolve("source"));
        target = server(work.resolve("target"));
        try {
            return phases.equals("copy") ? measureCopy() : measure();
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

    private int measure() throws Exception {
        figure("scale", scale);
        figure("clients", clients);
        figure("duration_s", duration);
        createBenchDatabases();

        // 1. plain PostgreSQL
        long[] plain0 = cpuTicks();
        figure("plain_tps", pgbenchRun());
        long[] plain1 = cpuTicks();
        double plainSourceUs = (plain1[0] - plain0[0]) * tickMicros()
                / (((Number) figures.get("plain_tps")).doubleValue() * duration);
        figure("plain_cpu_us_per_txn", String.format(java.util.Locale.ROOT, "source %.0f", plainSourceUs));

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
        // the source server's CPU per transaction, plain against ibex (triggers + the run's reads):
        // the throughput a CPU-bound source keeps when the target and the daemon run elsewhere
        figure("source_cpu_vs_plain", Math.round(plainSourceUs / ((cpu1[0] - cpu0[0]) * tickMicros() / txns) * 100) / 100.0);
        if (statements > 0) {
            topStatements(source, "source");
            topStatements(target, "target");
        }
        figure("lag_p50_ms", beat.percentile(50));
        figure("lag_p95_ms", beat.percentile(95));
        figure("lag_max_ms", beat.percentile(100));
        figure("drain_s", seconds(() -> ibex("kick", "bench", "0")));
        boolean converged = equal();

        // 3. triggers only, then the backlog worked off
        ibex("stop");
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
        figure("ibex_vs_plain", ratio("ibex_tps", "plain_tps"));
        figure("trigonly_vs_plain", ratio("trigonly_tps", "plain_tps"));
        figure("copy_vs_raw", ratio("copy_s", "rawcopy_s"));
        figure("converged", converged ? "yes" : "no");
        writeJson();
        if (!converged) {
            System.err.println("ibex-bench: FAILED: the target does not equal the source; the figures above are void");
            return 1;
        }
        return 0;
    }

    /**
     * The copy figures alone: each round truncates the target's pgbench_accounts, times the raw
     * pipe, truncates again and times ibex's one-time copy (the controller's log line), so both
     * always write into an empty table with its primary key. The first round's copy runs as the
     * controller starts (with --syncs idle syncs starting too), as in the full run.
     */
    private int measureCopy() throws Exception {
        figure("scale", scale);
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

    private static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : Math.round((sorted.get(n / 2 - 1) + sorted.get(n / 2)) * 50) / 100.0;
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
        repo = List.of("--db-host", "127.0.0.1", "--db-port", Integer.toString(target.getPort()), "--db-name", "ibex",
                "--db-user", "postgres", "--piddir", work.resolve("run").toString(),
                "--log-dir", work.resolve("log").toString());
        ibex("install", "--batch");
        ibex("add", "db", "src", "dbname=bench", "host=127.0.0.1", "port=" + source.getPort(), "user=postgres");
        ibex("add", "db", "dst", "dbname=bench", "host=127.0.0.1", "port=" + target.getPort(), "user=postgres");
        ibex("add", "all", "tables", "db=src", "relgroup=bench");
        addIdleSyncs();
        if (setting != null) {
            ibex("set", setting);
        }
        ibex("add", "sync", "bench", "relgroup=bench", "dbs=src:source,dst:target", "onetimecopy=1");
    }

    private double pgbenchRun() throws IOException, InterruptedException {
        String outText = command(List.of(pgbench, "-n", "-c", Integer.toString(clients), "-j", "2", "-T",
                Integer.toString(duration), "-h", "127.0.0.1", "-p", Integer.toString(source.getPort()), "-U",
                "postgres", "bench"));
        Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(outText);
        if (!m.find()) {
            throw new IllegalStateException("no tps in pgbench output:\n" + outText);
        }
        return Math.round(Double.parseDouble(m.group(1)) * 10) / 10.0;
    }

    private void pgbenchInit(EmbeddedPostgres pg, String steps) throws IOException, InterruptedException {
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

    /** Delta rows the sync has not applied yet: txids not visible in its S_prev (rows applied but not purged do not count). */
    private long backlogRows() {
        String prev = scalar(target, "ibex", "SELECT snapshot FROM ibex.sync_state WHERE sync = 'bench'");
        String deltas = scalar(source, "bench", "SELECT string_agg(format('SELECT count(*) FROM ibex.%I WHERE txid >= "
                + "txid_snapshot_xmin(%L::txid_snapshot) AND NOT txid_visible_in_snapshot(txid, %L::txid_snapshot)', "
                + "delta, '" + prev + "', '" + prev + "'), ' UNION ALL ') FROM ibex.captured");
        return Long.parseLong(scalar(source, "bench", "SELECT sum(count) FROM (" + deltas + ") d"));
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
            String sql = "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY " + KEYS[i]
                    + ")), '-') FROM " + TABLES[i] + " t";
            String a = scalar(source, "bench", sql);
            String b = scalar(target, "bench", sql);
            if (!a.equals(b)) {
                System.err.println("ibex-bench: " + TABLES[i] + " differs: source " + a + " target " + b);
                same = false;
            }
        }
        return same;
    }

    private long controllerRssMb() throws IOException {
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

    /** Writes a beat on the source every 200 ms; polls the target and records how late each one arrives. */
    private final class Heartbeat extends Thread {
        private final List<Long> lags = new ArrayList<>();
        private volatile boolean done;

        Heartbeat() {
            super("bench-heartbeat");
        }

        @Override
        public void run() {
            try (Connection s = connect(source, "bench"); Connection t = connect(target, "bench");
                 Statement ss = s.createStatement(); Statement ts = t.createStatement()) {
                long nextBeat = 0;
                String lastSeen = "";
                String first = null;
                while (!done) {
                    long now = System.nanoTime();
                    if (now >= nextBeat) {
                        try (ResultSet rs = ss.executeQuery(
                                "UPDATE bench_heartbeat SET beat = clock_timestamp() WHERE id = 1 RETURNING beat::text")) {
                            rs.next();
                            first = first == null ? rs.getString(1) : first;
                        }
                        nextBeat = now + 200_000_000L;
                    }
                    // the row the copy brought over is not a beat: count from the first beat this thread wrote
                    try (ResultSet rs = ts.executeQuery("SELECT beat::text, "
                            + "(extract(epoch FROM clock_timestamp() - beat) * 1000)::bigint, beat >= '" + first
                            + "'::timestamptz FROM bench_heartbeat")) {
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

    private void figure(String key, Object value) {
        figures.put(key, value);
        out.println(key + "=" + value);
        out.flush();
    }

    private double ratio(String a, String b) {
        double x = ((Number) figures.get(a)).doubleValue();
        double y = ((Number) figures.get(b)).doubleValue();
        return Math.round(x / y * 100) / 100.0;
    }

    private void writeJson() throws IOException {
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
    private interface Step {
        void run() throws Exception;
    }

    private static double seconds(Step step) throws Exception {
        long t0 = System.nanoTime();
        step.run();
        return Math.round((System.nanoTime() - t0) / 1e7) / 100.0;
    }

    private void ibex(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(repo);
        int rc = IbexCommand.run(all.toArray(String[]::new));
        if (rc != 0) {
            throw new IllegalStateException("ibex " + String.join(" ", args) + " failed with exit code " + rc);
        }
    }

    private void ibexQuietly(String verb) {
        if (repo != null) {
            List<String> all = new ArrayList<>(List.of(verb));
            all.addAll(repo);
            IbexCommand.run(all.toArray(String[]::new));
        }
    }

    /** CPU ticks so far of the source's and the target's server processes and of the controller. */
    private long[] cpuTicks() throws IOException, InterruptedException {
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
    private static long serverTicks(Path dataDir) throws IOException {
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

    private static double tickMicros() {
        return 1_000_000.0 / 100; // USER_HZ is 100 on Linux
    }

    private void topStatements(EmbeddedPostgres pg, String label) {
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

    private EmbeddedPostgres server(Path dir) throws IOException {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder();
        if (statements > 0) {
            b.setServerConfig("shared_preload_libraries", "pg_stat_statements")
                    .setServerConfig("pg_stat_statements.track", "all");
        }
        return b.setDataDirectory(dir).setCleanDataDirectory(true)
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "300")
                .setServerConfig("shared_buffers", "256MB")
                .setServerConfig("max_wal_size", "4GB")
                .setServerConfig("checkpoint_timeout", "30min")
                .start();
    }

    private static Connection connect(EmbeddedPostgres pg, String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db, "postgres", "");
    }

    private static void exec(EmbeddedPostgres pg, String db, String... sql) {
        try (Connection c = connect(pg, db); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static String scalar(EmbeddedPostgres pg, String db, String sql) {
        try (Connection c = connect(pg, db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static String command(List<String> cmd) throws IOException, InterruptedException {
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
