package dev.ibex.bench;

import java.io.OutputStream;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/ibex-bench --phases=scale [--tables=1000] [--trickle=20] [--duration=60] [--idle=20]}: one
 * sync over many small tables, on the two servers {@link Bench} starts. Times adding the tables and
 * the sync up to the first good run; the source server's CPU with no writes at all; then, with
 * --trickle single-row commits a second to one table and the heartbeat, the source's CPU again, the
 * heartbeat's lag on the target and the controller's RSS; last, whether the trickled table ended
 * equal on both. Prints key=value figures (and --json=FILE); exits 1 when it did not.
 */
final class ScaleBench {

    private static final String SYNC = "scale";
    /** Rows each table starts with; the trickle updates them in turn. */
    private static final int ROWS = 10;

    private final Bench b;
    private final int tables;
    private final int trickle;
    private final int idle;
    private final List<String> names = new ArrayList<>();

    ScaleBench(Bench bench, Map<String, String> flags) {
        b = bench;
        tables = Integer.parseInt(flags.getOrDefault("tables", "1000"));
        trickle = Integer.parseInt(flags.getOrDefault("trickle", "20"));
        idle = Integer.parseInt(flags.getOrDefault("idle", "20"));
        if (tables < 1 || trickle < 1 || idle < 1) {
            throw new IllegalArgumentException("--tables, --trickle and --idle must be at least 1");
        }
        int width = Math.max(4, Integer.toString(tables).length());
        for (int i = 1; i <= tables; i++) {
            names.add(String.format(Locale.ROOT, "t%0" + width + "d", i));
        }
    }

    int measure() throws Exception {
        b.figure("scale_tables", tables);
        b.figure("scale_trickle_per_s", trickle);
        b.figure("duration_s", b.duration);
        b.serverFigures();
        createTables();
        statements(null);
        addSyncAndFirstRun();
        statements("add");
        idle();
        statements("idle");
        boolean converged = trickle();
        statements("trickle");
        b.figure("scale_converged", converged);
        b.writeJson();
        if (!converged) {
            System.err.println("ibex-bench: FAILED: " + names.get(0) + " on the target does not equal the source");
        }
        return converged ? 0 : 1;
    }

    /** Database bench on both servers with the N tables (rows on the source only) and the heartbeat; the repository. */
    private void createTables() {
        Bench.exec(b.source, "postgres", "CREATE DATABASE bench");
        Bench.exec(b.target, "postgres", "CREATE DATABASE bench", "CREATE DATABASE ibex");
        String each = "EXECUTE format('CREATE TABLE public.%I (id int PRIMARY KEY, v int NOT NULL, note text)', t);";
        String fill = "EXECUTE format('INSERT INTO public.%I SELECT g, g, ''note '' || g FROM generate_series(1, "
                + ROWS + ") g', t);";
        String heartbeat = "CREATE TABLE bench_heartbeat (id int PRIMARY KEY, beat timestamptz NOT NULL)";
        Bench.exec(b.source, "bench", forEachTable(each + fill), heartbeat,
                "INSERT INTO bench_heartbeat VALUES (1, clock_timestamp())", "VACUUM ANALYZE");
        Bench.exec(b.target, "bench", forEachTable(each), heartbeat);
        b.installRepository();
    }

    /**
     * --statements=N: each server's N costliest statements since the last call, to stderr, labelled
     * with the step they ran in (none at the first call: it only resets them).
     */
    private void statements(String step) {
        if (b.statements == 0) {
            return;
        }
        for (var pg : List.of(b.source, b.target)) {
            if (step != null) {
                b.topStatements(pg, step + " " + (pg == b.source ? "source" : "target"));
            }
            Bench.exec(pg, "postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                    "SELECT pg_stat_statements_reset()");
        }
    }

    /** A DO block that runs {@code body} with {@code t} set to each table's name. */
    private String forEachTable(String body) {
        return "DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY['" + String.join("','", names) + "'] LOOP "
                + body + " END LOOP; END $$";
    }

    /**
     * {@code ibex add table} of every table (one relgroup), {@code ibex add sync} with a one-time copy,
     * {@code ibex start}, until the sync's first run has ended good: each step's seconds, and the sum.
     */
    private void addSyncAndFirstRun() throws Exception {
        List<String> add = new ArrayList<>(List.of("add", "table", "public.bench_heartbeat"));
        names.forEach(n -> add.add("public." + n));
        add.addAll(List.of("db=src", "relgroup=" + SYNC));
        double tablesS = Bench.seconds(() -> silently(() -> b.ibex(add.toArray(String[]::new))));
        double syncS = Bench.seconds(() -> silently(() -> b.ibex("add", "sync", SYNC, "relgroup=" + SYNC,
                "dbs=src:source,dst:target", "onetimecopy=1")));
        double startS = Bench.seconds(() -> b.ibex("start"));
        double firstRunS = Bench.seconds(this::awaitFirstGoodRun);
        b.figure("scale_add_tables_s", tablesS);
        b.figure("scale_add_sync_s", syncS);
        b.figure("scale_start_s", startS);
        b.figure("scale_first_run_s", firstRunS);
        b.figure("scale_first_run_own_s", Double.parseDouble(Bench.scalar(b.target, "ibex", "SELECT round(extract("
                + "epoch FROM ended - started), 2) FROM ibex.run WHERE sync = '" + SYNC + "' ORDER BY id LIMIT 1")));
        b.figure("scale_add_s", Math.round((tablesS + syncS + startS + firstRunS) * 100) / 100.0);
    }

    /** The step without the CLI's output, which names every table (twice for add table); its errors still show. */
    private static void silently(Bench.Step step) throws Exception {
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            step.run();
        } finally {
            System.setOut(out);
        }
    }

    /** Polls the sync's first run until it has ended; fails if it ended bad. */
    private void awaitFirstGoodRun() throws Exception {
        String first = "SELECT coalesce((SELECT state || ':' || coalesce(error, '') FROM ibex.run WHERE sync = '"
                + SYNC + "' ORDER BY id LIMIT 1), 'none')";
        Bench.waitFor("the first run of sync " + SYNC, () -> {
            String state = Bench.scalar(b.target, "ibex", first);
            if (state.startsWith("bad:")) {
                throw new IllegalStateException("the first run of sync " + SYNC + " failed: " + state.substring(4));
            }
            return !state.equals("none") && !state.startsWith("running:");
        });
    }

    /** No writes for --idle seconds: what the servers and the controller spend on N quiet tables. */
    private void idle() throws Exception {
        long[] cpu0 = b.cpuTicks();
        long t0 = System.nanoTime();
        Thread.sleep(TimeUnit.SECONDS.toMillis(idle)); // the measuring window, not a wait for anything
        long[] cpu1 = b.cpuTicks();
        long t1 = System.nanoTime();
        cpuFigures("scale_idle", cpu0, cpu1, t1 - t0);
    }

    /**
     * --trickle single-row UPDATEs a second to the first table for --duration seconds, the heartbeat
     * beating; then a last beat, awaited on the target, after which the table must be equal on both.
     */
    private boolean trickle() throws Exception {
        Bench.Heartbeat beat = b.new Heartbeat();
        beat.start();
        long[] cpu0 = b.cpuTicks();
        long t0 = System.nanoTime();
        int commits = trickleCommits();
        long paced = System.nanoTime() - t0;
        long[] cpu1 = b.cpuTicks();
        long t1 = System.nanoTime();
        beat.finish();
        // below --trickle when the source (or this JVM) could not keep the pace
        b.figure("scale_trickle_commits_per_s", Math.round(commits * 1e10 / paced) / 10.0);
        cpuFigures("scale_trickle", cpu0, cpu1, t1 - t0);
        b.figure("scale_lag_p50_ms", beat.percentile(50));
        b.figure("scale_lag_p95_ms", beat.percentile(95));
        b.figure("scale_lag_max_ms", beat.percentile(100));
        b.figure("scale_rss_mb", b.controllerRssMb());
        String last = b.writeBeat();
        b.figure("scale_drain_s", Bench.seconds(() -> b.waitForBeat(last)));
        String table = "public." + names.get(0);
        return Bench.checksum(b.source, table, "id").equals(Bench.checksum(b.target, table, "id"));
    }

    /** The UPDATEs, autocommit, paced to --trickle a second; returns how many. */
    private int trickleCommits() throws Exception {
        long period = TimeUnit.SECONDS.toNanos(1) / trickle;
        int total = trickle * b.duration;
        try (Connection c = Bench.connect(b.source, "bench");
             PreparedStatement up = c.prepareStatement("UPDATE public." + names.get(0) + " SET v = v + 1, "
                     + "note = clock_timestamp()::text WHERE id = ?")) {
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long wait = start + i * period - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                up.setInt(1, i % ROWS + 1);
                up.executeUpdate();
            }
        }
        return total;
    }

    /** The source's CPU as % of one core (the figure), and the target's and the controller's beside it. */
    private void cpuFigures(String prefix, long[] cpu0, long[] cpu1, long nanos) {
        double[] pct = new double[3];
        for (int i = 0; i < 3; i++) {
            pct[i] = Math.round((cpu1[i] - cpu0[i]) * Bench.tickMicros() * 1000 / nanos * 100 * 10) / 10.0;
        }
        b.figure(prefix + "_source_cpu_pct", pct[0]);
        b.figure(prefix + "_target_cpu_pct", pct[1]);
        b.figure(prefix + "_daemon_cpu_pct", pct[2]);
    }
}
