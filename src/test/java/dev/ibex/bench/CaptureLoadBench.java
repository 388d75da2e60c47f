package dev.ibex.bench;

import dev.ibex.repository.SqlFiles;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bin/ibex-bench --phases=capture [--rounds=3] [--duration=60]}: where capture's cost goes
 * under pgbench's concurrent load, which the single-session {@link TriggerBench} does not show (a
 * captured row costs there a few µs; under pgbench several times that). On the source server
 * alone, pgbench's load (pgbench_history keyed, as the full bench replicates it) runs once per
 * shape and round, the shapes taking turns: none; a PL/pgSQL row trigger doing nothing; ibex's
 * capture function and trigger (sql/capture) with the shared log's txid index dropped; ibex's
 * capture as installed. The differences between neighbours are the trigger call, the log row's
 * heap insert and its index insert. Two shapes tried beside them and not adopted: ibex's capture
 * with the log's ts column without its clock_timestamp() default; and one log row per transaction
 * (src/test/resources/bench/txn_*.sql), the keys buffered in a transaction-local setting and
 * written at commit by a deferred constraint trigger. {@code --shapes=none,ibex,…} runs a subset.
 * Prints each shape's median tps, its ratio to none, and the server's CPU per transaction.
 */
final class CaptureLoadBench {

    /** pgbench's tables and their keys, numbered as ibex.log's tab. */
    private static final Map<String, String> TABLES = Map.of("pgbench_accounts", "aid", "pgbench_branches", "bid",
            "pgbench_tellers", "tid", "pgbench_history", "hid");

    private final Bench b;
    private final int rounds;
    private final List<String> only;

    CaptureLoadBench(Bench bench, Map<String, String> flags) {
        b = bench;
        rounds = Integer.parseInt(flags.getOrDefault("rounds", "3"));
        only = flags.containsKey("shapes") ? List.of(flags.get("shapes").split(",")) : null;
        if (only != null && !shapes().keySet().containsAll(only)) {
            throw new IllegalArgumentException("--shapes are of " + shapes().keySet() + ", not " + only);
        }
    }

    int measure() throws Exception {
        b.figure("scale", b.scale);
        b.figure("clients", b.clients);
        b.figure("duration_s", b.duration);
        b.figure("rounds", rounds);
        b.serverFigures();
        Bench.exec(b.source, "postgres", "CREATE DATABASE bench");
        b.pgbenchInit(b.source, "dtgvp");
        Bench.exec(b.source, "bench", "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY");
        Map<String, List<double[]>> runs = new LinkedHashMap<>();
        for (int r = 1; r <= rounds; r++) {
            StringBuilder line = new StringBuilder("capture round " + r + ":");
            for (Map.Entry<String, List<String>> shape : shapes().entrySet()) {
                if (only != null && !only.contains(shape.getKey())) {
                    continue;
                }
                double[] m = run(shape.getValue());
                runs.computeIfAbsent(shape.getKey(), k -> new ArrayList<>()).add(m);
                line.append(String.format(Locale.ROOT, "  %s %.1f tps %.0f us", shape.getKey(), m[0], m[1]));
            }
            System.out.println(line);
        }
        Double none = runs.containsKey("none") ? Bench.median(column(runs.get("none"), 0), 10) : null;
        for (Map.Entry<String, List<double[]>> shape : runs.entrySet()) {
            double tps = Bench.median(column(shape.getValue(), 0), 10);
            b.figure("capture_" + shape.getKey() + "_tps", tps);
            if (none != null && !shape.getKey().equals("none")) {
                b.figure("capture_" + shape.getKey() + "_vs_none", Math.round(tps / none * 100) / 100.0);
            }
            b.figure("capture_" + shape.getKey() + "_source_cpu_us_per_txn", Math.round(Bench.median(column(shape.getValue(), 1), 1)));
        }
        b.writeJson();
        return 0;
    }

    private static List<Double> column(List<double[]> rows, int i) {
        return rows.stream().map(r -> r[i]).toList();
    }

    /** One pgbench run with a shape installed: its tps and the server's CPU µs per transaction. */
    private double[] run(List<String> install) throws Exception {
        Bench.exec(b.source, "bench", "DROP SCHEMA IF EXISTS ibex CASCADE", "DROP FUNCTION IF EXISTS noop() CASCADE",
                "TRUNCATE pgbench_history", "VACUUM ANALYZE pgbench_accounts, pgbench_branches, pgbench_tellers");
        Bench.exec(b.source, "bench", install.toArray(String[]::new));
        Bench.exec(b.source, "bench", "CHECKPOINT");
        long before = Bench.serverTicks(b.work.resolve("source"));
        String output = Bench.command(b.pgbenchCommand(b.source));
        Thread.sleep(300); // pgbench's backends count once the postmaster has reaped them
        long ticks = Bench.serverTicks(b.work.resolve("source")) - before;
        double tps = Bench.tps(output);
        long txns = Long.parseLong(output.replaceAll("(?s).*number of transactions actually processed: (\\d+).*", "$1"));
        return new double[] {tps, ticks * Bench.tickMicros() / txns};
    }

    private static Map<String, List<String>> shapes() {
        Map<String, List<String>> s = new LinkedHashMap<>();
        s.put("none", List.of());
        List<String> noop = new ArrayList<>(List.of("CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS "
                + "'BEGIN RETURN NULL; END'"));
        TABLES.keySet().forEach(t -> noop.add("CREATE TRIGGER noop AFTER INSERT OR UPDATE OR DELETE ON " + t
                + " FOR EACH ROW EXECUTE PROCEDURE noop()"));
        s.put("noop_trigger", noop);
        List<String> heap = new ArrayList<>(ibexCapture());
        heap.add("DROP INDEX ibex.log_txid");
        s.put("log_without_index", heap);
        s.put("ibex", ibexCapture());
        List<String> noTs = new ArrayList<>(ibexCapture());
        noTs.add("ALTER TABLE ibex.log ALTER COLUMN ts DROP DEFAULT");
        s.put("ibex_no_ts_default", noTs);
        s.put("txn_row", txnCapture());
        return s;
    }

    /** Shape txn_row: one log row per transaction (src/test/resources/bench/txn_*.sql), numbered as ibexCapture's. */
    private static List<String> txnCapture() {
        List<String> out = new ArrayList<>(List.of(SqlFiles.read("bench/txn_schema.sql")));
        int tab = 0;
        for (Map.Entry<String, String> t : new java.util.TreeMap<>(TABLES).entrySet()) {
            tab++;
            out.add(SqlFiles.read("bench/txn_table.sql").replace("{{table}}", t.getKey())
                    .replace("{{tab}}", Integer.toString(tab)).replace("{{key}}", t.getValue()));
        }
        return out;
    }

    /** ibex's capture of pgbench's four tables as sql/capture makes it: schema objects, then per table its function and triggers. */
    private static List<String> ibexCapture() {
        List<String> out = new ArrayList<>(List.of(SqlFiles.read("sql/capture/namespace.sql"),
                SqlFiles.read("sql/capture/schema.sql")));
        int tab = 0;
        for (Map.Entry<String, String> t : new java.util.TreeMap<>(TABLES).entrySet()) {
            tab++;
            String key = t.getValue();
            Map<String, String> n = Map.of("table", t.getKey(), "tab", Integer.toString(tab), "function",
                    "capture_" + t.getKey(), "new_keys", "NEW." + key, "old_keys", "OLD." + key, "new_key",
                    "NEW." + key + "::text", "old_key", "OLD." + key + "::text", "log_keys", "k1");
            for (String f : List.of("capture_function.sql", "capture_trigger.sql")) {
                String sql = SqlFiles.read("sql/capture/" + f);
                for (Map.Entry<String, String> e : n.entrySet()) {
                    sql = sql.replace("{{" + e.getKey() + "}}", e.getValue());
                }
                out.add(sql);
            }
        }
        return out;
    }
}
