package dev.ibex.bench;

import dev.ibex.repository.SqlFiles;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The capture trigger alone, shape against shape, on one embedded server (the default version):
 * the cost per captured row of single-row UPDATE, INSERT and DELETE statements (pgbench's shape)
 * and of bulk statements of --rows rows, each against the same table without a trigger.
 * Server-side loops, so the client and the network are not in the figures. Medians of --rounds
 * rounds.
 *
 * <p>{@code bin/ibex-bench --phases=triggers [--rows=100000] [--rounds=5]}, or run this class with
 * the test class path. Shapes: none, a PL/pgSQL row trigger that does nothing, ibex's two
 * captures as sql/capture makes them (the row trigger on every source; on 10+ a statement-level
 * DELETE trigger with a transition table beside a row trigger for INSERT and UPDATE), and
 * statement-level capture of every event (measured, not adopted).
 */
public final class TriggerBench {

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, note text)";

    private final int rows;
    private final int rounds;
    private Connection c;

    private TriggerBench(int rows, int rounds) {
        this.rows = rows;
        this.rounds = rounds;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String a : args) {
            String[] kv = a.replaceFirst("^--", "").split("=", 2);
            flags.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        new TriggerBench(Integer.parseInt(flags.getOrDefault("rows", "100000")),
                Integer.parseInt(flags.getOrDefault("rounds", "5"))).run();
    }

    private void run() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off").setServerConfig("full_page_writes", "off")
                .setServerConfig("shared_buffers", "256MB").start()) {
            c = pg.getPostgresDatabase().getConnection();
            System.out.println("PostgreSQL " + scalar("SHOW server_version") + ", " + rows + " rows, median of "
                    + rounds + " rounds; the first line in us per row (1-row statements) and seconds (bulk), "
                    + "then the overhead per captured row against it, and bulk as multiples");
            System.out.printf(Locale.ROOT, "%-14s %8s %8s %8s | %8s %8s %8s | %7s %7s %7s%n", "shape", "1r upd",
                    "1r ins", "1r del", "bulk upd", "bulk ins", "bulk del", "upd x", "ins x", "del x");
            Map<String, List<double[]>> runs = new LinkedHashMap<>();
            for (int r = 0; r < rounds; r++) { // shapes take turns, so that the machine's drift hits each alike
                for (Map.Entry<String, List<String>> shape : shapes().entrySet()) {
                    runs.computeIfAbsent(shape.getKey(), k -> new ArrayList<>()).add(measure(shape.getValue()));
                }
            }
            double[] b = null;
            for (Map.Entry<String, List<double[]>> shape : runs.entrySet()) {
                double[] m = medians(shape.getValue());
                if (b == null) {
                    b = m;
                    System.out.printf(Locale.ROOT, "%-14s %8.2f %8.2f %8.2f | %7.3fs %7.3fs %7.3fs |%n",
                            shape.getKey(), m[0], m[1], m[2], m[3], m[4], m[5]);
                } else {
                    double[] d = new double[6];
                    for (int i = 0; i < 6; i++) {
                        d[i] = i < 3 ? m[i] - b[i] : (m[i] - b[i]) * 1e6 / rows;
                    }
                    System.out.printf(Locale.ROOT, "%-14s %+8.2f %+8.2f %+8.2f | %+8.2f %+8.2f %+8.2f | %6.2fx %6.2fx %6.2fx%n",
                            shape.getKey(), d[0], d[1], d[2], d[3], d[4], d[5], m[3] / b[3], m[4] / b[4], m[5] / b[5]);
                }
            }
            c.close();
        }
    }

    /**
     * One round of a shape: single-row UPDATE, INSERT and DELETE in µs per row, then bulk UPDATE,
     * INSERT and DELETE in seconds.
     */
    private double[] measure(List<String> install) throws SQLException {
        exec("DROP SCHEMA IF EXISTS ibex CASCADE", "DROP TABLE IF EXISTS t", TABLE,
                "INSERT INTO t SELECT g, g, 'n' FROM generate_series(1, " + rows + ") g", "VACUUM ANALYZE t");
        for (String s : install) {
            exec(s);
        }
        exec("CHECKPOINT");
        double update1 = loop("UPDATE t SET v = v + 1 WHERE id = i");
        double update = seconds("UPDATE t SET v = v + 1");
        double delete = seconds("DELETE FROM t");
        double insert = seconds("INSERT INTO t SELECT g, g, 'n' FROM generate_series(1, " + rows + ") g");
        exec("VACUUM ANALYZE t", "CHECKPOINT");
        double delete1 = loop("DELETE FROM t WHERE id = i");
        exec("VACUUM ANALYZE t", "CHECKPOINT");
        double insert1 = loop("INSERT INTO t VALUES (i, i, 'n')");
        return new double[] {update1, insert1, delete1, update, insert, delete};
    }

    private static double[] medians(List<double[]> all) {
        double[] out = new double[all.get(0).length];
        for (int i = 0; i < out.length; i++) {
            final int k = i;
            out[i] = all.stream().mapToDouble(a -> a[k]).sorted().toArray()[all.size() / 2];
        }
        return out;
    }

    /** µs per statement of {@code rows} single-row statements of i in one server-side loop. */
    private double loop(String statement) throws SQLException {
        return seconds("DO $$ BEGIN FOR i IN 1.." + rows + " LOOP " + statement + "; END LOOP; END $$") * 1e6 / rows;
    }

    private static Map<String, List<String>> shapes() {
        Map<String, List<String>> s = new LinkedHashMap<>();
        s.put("none", List.of());
        s.put("noop", List.of("CREATE OR REPLACE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS "
                + "'BEGIN RETURN NULL; END'", "CREATE TRIGGER noop AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW "
                + "EXECUTE PROCEDURE noop()"));
        s.put("ibex_row", ibexCapture("capture_function.sql", "capture_trigger.sql"));
        // the log row's change time (for several sources' "latest") left out: what it costs
        List<String> noTime = new ArrayList<>(ibexCapture("capture_function.sql", "capture_trigger.sql"));
        noTime.add("ALTER TABLE ibex.log ALTER COLUMN ts DROP DEFAULT");
        s.put("ibex_row_no_ts", noTime);
        s.put("ibex_statement", ibexCapture("statement_function.sql", "statement_triggers.sql"));
        s.put("all_statement", ibexCapture(ALL_STATEMENT_FUNCTION, ALL_STATEMENT_TRIGGERS));
        return s;
    }

    /**
     * Statement-level capture of every event, measured and not adopted (it raised single-row
     * INSERTs and UPDATEs): INSERT logs the new keys, DELETE and UPDATE the old keys from the
     * transition tables, and a row trigger that fires only when an UPDATE changed the key logs the
     * new key.
     */
    private static final String ALL_STATEMENT_FUNCTION = """
CREATE OR REPLACE FUNCTION ibex.{{function}}() RETURNS trigger LANGUAGE plpgsql AS $ibex$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    INSERT INTO ibex.log (tab, {{log_keys}}) VALUES ({{tab}}, {{new_key}});
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO ibex.log (tab, {{log_keys}}) SELECT {{tab}}, {{new_rows_key}} FROM ibex_new n;
  ELSE
    INSERT INTO ibex.log (tab, {{log_keys}}) SELECT {{tab}}, {{old_rows_key}} FROM ibex_old o;
  END IF;
  RETURN NULL;
END
$ibex$;""";

    private static final String ALL_STATEMENT_TRIGGERS = """
CREATE TRIGGER ibex_insert AFTER INSERT ON {{table}} REFERENCING NEW TABLE AS ibex_new
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.{{function}}();
CREATE TRIGGER ibex_update AFTER UPDATE ON {{table}} REFERENCING OLD TABLE AS ibex_old
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.{{function}}();
CREATE TRIGGER ibex_delete AFTER DELETE ON {{table}} REFERENCING OLD TABLE AS ibex_old
  FOR EACH STATEMENT EXECUTE PROCEDURE ibex.{{function}}();
CREATE TRIGGER ibex_rekey AFTER UPDATE ON {{table}}
  FOR EACH ROW WHEN (({{old_keys}}) IS DISTINCT FROM ({{new_keys}})) EXECUTE PROCEDURE ibex.{{function}}();""";

    /** ibex's capture of t as sql/capture makes it (or as the texts given): schema objects, function, triggers. */
    private static List<String> ibexCapture(String function, String triggers) {
        Map<String, String> n = Map.of("table", "t", "tab", "1", "function", "capture_t", "new_keys", "NEW.id",
                "old_keys", "OLD.id", "new_key", "NEW.id::text", "old_key", "OLD.id::text", "log_keys", "k1",
                "new_rows_key", "n.id::text", "old_rows_key", "o.id::text");
        List<String> out = new ArrayList<>(List.of(SqlFiles.read("sql/capture/namespace.sql"),
                SqlFiles.read("sql/capture/schema.sql")));
        for (String f : List.of(function, triggers, "truncate_trigger.sql")) {
            String sql = f.endsWith(".sql") ? SqlFiles.read("sql/capture/" + f) : f;
            for (Map.Entry<String, String> e : n.entrySet()) {
                sql = sql.replace("{{" + e.getKey() + "}}", e.getValue());
            }
            out.add(sql);
        }
        return out;
    }

    private double seconds(String sql) throws SQLException {
        long t0 = System.nanoTime();
        exec(sql);
        return (System.nanoTime() - t0) / 1e9;
    }

    private void exec(String... sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private String scalar(String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
