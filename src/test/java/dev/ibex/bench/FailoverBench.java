package dev.ibex.bench;

import dev.ibex.controller.PidFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bin/ibex-bench --phases=failover [--failover-syncs=10]}: two controllers on one
 * repository, one sync per table, spread over both; then kill -9 of the controller holding more
 * syncs. Prints takeover_s (from the kill until the other holds every sync) and takeover_apply_s
 * (until a row written on every table just after the kill is on the target), and whether every
 * table ended equal. Exits 1 when one did not.
 */
final class FailoverBench {

    private final Bench b;
    private final int syncs;
    private final List<String> tables = new ArrayList<>();

    FailoverBench(Bench bench, Map<String, String> flags) {
        b = bench;
        syncs = Integer.parseInt(flags.getOrDefault("failover-syncs", "10"));
        if (syncs < 2) {
            throw new IllegalArgumentException("--failover-syncs must be at least 2");
        }
        for (int i = 1; i <= syncs; i++) {
            tables.add(String.format(Locale.ROOT, "f%02d", i));
        }
    }

    int measure() throws Exception {
        b.figure("failover_syncs", syncs);
        Bench.exec(b.source, "postgres", "CREATE DATABASE bench");
        Bench.exec(b.target, "postgres", "CREATE DATABASE bench", "CREATE DATABASE ibex");
        for (String t : tables) {
            Bench.exec(b.source, "bench", "CREATE TABLE public." + t + " (id int PRIMARY KEY, v int)",
                    "INSERT INTO public." + t + " SELECT g, g FROM generate_series(1, 100) g");
            Bench.exec(b.target, "bench", "CREATE TABLE public." + t + " (id int PRIMARY KEY, v int)");
        }
        b.installRepository();
        for (String t : tables) {
            b.ibex("add", "sync", t, "tables=public." + t, "dbs=src:source,dst:target", "onetimecopy=1");
        }
        List<String> first = b.controllerOptions(1);
        List<String> second = b.controllerOptions(2);
        b.ibexWith(first, "start");
        b.ibexWith(second, "start");
        try {
            Bench.waitFor("both controllers holding syncs", () -> Integer.parseInt(Bench.scalar(b.target, "ibex",
                    "SELECT count(DISTINCT controller) FROM ibex.sync_claim")) == 2
                    && Integer.parseInt(Bench.scalar(b.target, "ibex", "SELECT count(*) FROM ibex.sync_claim")) == syncs);
            for (String t : tables) {
                b.ibexWith(first, "kick", t, "0");
            }
            kill(first, second);
        } finally {
            b.ibexWith(second, "stop", "--all");
        }
        boolean converged = tables.stream().allMatch(t -> Bench.scalar(b.source, "bench", checksum(t))
                .equals(Bench.scalar(b.target, "bench", checksum(t))));
        b.figure("failover_converged", converged);
        b.writeJson();
        return converged ? 0 : 1;
    }

    /** Kill -9 of whichever controller holds more syncs; then the takeover, timed. */
    private void kill(List<String> first, List<String> second) throws Exception {
        String busiest = Bench.scalar(b.target, "ibex", "SELECT c.pid || ':' || c.id FROM ibex.sync_claim s "
                + "JOIN ibex.controller c ON c.id = s.controller GROUP BY c.pid, c.id ORDER BY count(*) DESC, c.id LIMIT 1");
        long pid = Long.parseLong(busiest.split(":")[0]);
        String dead = busiest.split(":")[1];
        long piddirPid = new PidFile(java.nio.file.Path.of(first.get(first.indexOf("--piddir") + 1))).read().orElse(-1L);
        b.figure("failover_killed", pid == piddirPid ? "first" : "second");
        long t0 = System.nanoTime();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        for (String t : tables) {
            Bench.exec(b.source, "bench", "UPDATE public." + t + " SET v = -1 WHERE id = 1");
        }
        Bench.waitFor("the other controller holding every sync", () -> Integer.parseInt(Bench.scalar(b.target, "ibex",
                "SELECT count(*) FROM ibex.sync_claim WHERE controller <> " + dead)) == syncs);
        b.figure("takeover_s", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
        Bench.waitFor("the write after the kill on every target table", () -> tables.stream().allMatch(t ->
                "-1".equals(Bench.scalar(b.target, "bench", "SELECT coalesce((SELECT v::text FROM public." + t
                        + " WHERE id = 1), '')"))));
        b.figure("takeover_apply_s", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
    }

    private static String checksum(String t) {
        return "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '') FROM public." + t + " t";
    }
}
