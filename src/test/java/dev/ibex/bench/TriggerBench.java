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
 * the cost per captured row of single-row statements (pgbench's shape) and the time of bulk
 * statements of 100k rows, each against the same table without a trigger. Server-side loops, so
 * the client and the network are not in the figures. Medians of --rounds rounds.
 *
 * <p>{@code bin/ibex-bench-triggers [--rows=100000] [--rounds=5]}, or run this class with the test
 * class path. Shapes: none, a PL/pgSQL trigger that does nothing, ibex's capture as sql/capture
 * makes it, the same with a BRIN index on the log's txid (9.5+) and with no index at all (the
 * index's share), a shared per-source log with text keys, and statement-level triggers with
 * transition tables (PostgreSQL 10+).
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
                    + rounds + " rounds; overhead per captured row against no trigger");
            System.out.printf(Locale.ROOT, "%-16s %12s %12s %12s %12s%n", "shape", "1-row us/row", "bulk upd",
                    "bulk ins", "bulk del");
            Map<String, double[]> base = null;
            for (Map.Entry<String, List<String>> shape : shapes().entrySet()) {
                double[] m = measure(shape.getValue());
                if (base == null) {
                    base = Map.of("none", m);
                    System.out.printf(Locale.ROOT, "%-16s %9.2f us %10.3f s %10.3f s %10.3f s%n", shape.getKey(),
                            m[0], m[1], m[2], m[3]);
                } else {
                    double[] b = base.get("none");
                    System.out.printf(Locale.ROOT, "%-16s %+9.2f us %10.2fx %11.2fx %11.2fx%n", shape.getKey(),
                            m[0] - b[0], m[1] / b[1], m[2] / b[2], m[3] / b[3]);
                }
            }
            c.close();
        }
    }

    /** Single-row µs per row, then bulk update, insert and delete seconds: medians over the rounds. */
    private double[] measure(List<String> install) throws SQLException {
        List<double[]> all = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            exec("DROP SCHEMA IF EXISTS ibex CASCADE", "DROP TABLE IF EXISTS t", TABLE,
                    "INSERT INTO t SELECT g, g, 'n' FROM generate_series(1, " + rows + ") g", "VACUUM ANALYZE t");
            for (String s : install) {
                exec(s);
            }
            exec("CHECKPOINT");
            double single = seconds("DO $$ BEGIN FOR i IN 1.." + rows + " LOOP UPDATE t SET v = v + 1 WHERE id = i; "
                    + "END LOOP; END $$") * 1e6 / rows;
            double update = seconds("UPDATE t SET v = v + 1");
            double delete = seconds("DELETE FROM t");
            double insert = seconds("INSERT INTO t SELECT g, g, 'n' FROM generate_series(1, " + rows + ") g");
            all.add(new double[] {single, update, insert, delete});
        }
        double[] out = new double[4];
        for (int i = 0; i < 4; i++) {
            final int k = i;
            out[i] = all.stream().mapToDouble(a -> a[k]).sorted().toArray()[all.size() / 2];
        }
        return out;
    }

    private static Map<String, List<String>> shapes() {
        Map<String, List<String>> s = new LinkedHashMap<>();
        s.put("none", List.of());
        s.put("noop", List.of("CREATE OR REPLACE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS "
                + "'BEGIN RETURN NULL; END'", "CREATE TRIGGER noop AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW "
                + "EXECUTE PROCEDURE noop()"));
        s.put("ibex", ibexCapture());
        List<String> brin = new ArrayList<>(ibexCapture());
        brin.add("DROP INDEX ibex.log_txid");
        brin.add("CREATE INDEX log_txid ON ibex.log USING brin (txid)");
        s.put("ibex_brin", brin);
        List<String> noIndex = new ArrayList<>(ibexCapture());
        noIndex.add("DROP INDEX ibex.log_txid");
        s.put("ibex_noindex", noIndex);
        s.put("shared_log", List.of("CREATE SCHEMA ibex",
                "CREATE TABLE ibex.log (txid bigint NOT NULL DEFAULT txid_current(), tab int NOT NULL, k1 text NOT NULL)",
                "CREATE INDEX log_txid ON ibex.log (txid)",
                """
                CREATE FUNCTION ibex.log_t() RETURNS trigger LANGUAGE plpgsql AS $f$
                BEGIN
                  IF TG_OP = 'INSERT' THEN
                    INSERT INTO ibex.log (tab, k1) VALUES (1, NEW.id::text);
                  ELSIF TG_OP = 'DELETE' THEN
                    INSERT INTO ibex.log (tab, k1) VALUES (1, OLD.id::text);
                  ELSE
                    INSERT INTO ibex.log (tab, k1) VALUES (1, OLD.id::text);
                    IF NEW.id IS DISTINCT FROM OLD.id THEN
                      INSERT INTO ibex.log (tab, k1) VALUES (1, NEW.id::text);
                    END IF;
                  END IF;
                  RETURN NULL;
                END $f$""",
                "CREATE TRIGGER ibex_capture AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW EXECUTE PROCEDURE ibex.log_t()"));
        s.put("statement", List.of("CREATE SCHEMA ibex",
                "CREATE TABLE ibex.delta_t (id int NOT NULL, txid bigint NOT NULL DEFAULT txid_current())",
                "CREATE INDEX delta_t_txid ON ibex.delta_t (txid)",
                "CREATE FUNCTION ibex.ins_t() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
                        + "INSERT INTO ibex.delta_t (id) SELECT id FROM n; RETURN NULL; END $f$",
                "CREATE FUNCTION ibex.del_t() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
                        + "INSERT INTO ibex.delta_t (id) SELECT id FROM o; RETURN NULL; END $f$",
                "CREATE FUNCTION ibex.upd_t() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
                        + "INSERT INTO ibex.delta_t (id) SELECT id FROM o UNION SELECT id FROM n; RETURN NULL; END $f$",
                "CREATE TRIGGER ibex_ins AFTER INSERT ON t REFERENCING NEW TABLE AS n FOR EACH STATEMENT "
                        + "EXECUTE PROCEDURE ibex.ins_t()",
                "CREATE TRIGGER ibex_del AFTER DELETE ON t REFERENCING OLD TABLE AS o FOR EACH STATEMENT "
                        + "EXECUTE PROCEDURE ibex.del_t()",
                "CREATE TRIGGER ibex_upd AFTER UPDATE ON t REFERENCING OLD TABLE AS o NEW TABLE AS n FOR EACH STATEMENT "
                        + "EXECUTE PROCEDURE ibex.upd_t()"));
        return s;
    }

    /** ibex's capture of t as sql/capture makes it: schema objects, function, triggers. */
    private static List<String> ibexCapture() {
        Map<String, String> n = Map.of("table", "t", "tab", "1", "function", "capture_t", "new_keys", "NEW.id",
                "old_keys", "OLD.id", "new_key", "NEW.id::text", "old_key", "OLD.id::text", "log_keys", "k1");
        List<String> out = new ArrayList<>(List.of(SqlFiles.read("sql/capture/namespace.sql"),
                SqlFiles.read("sql/capture/schema.sql")));
        for (String f : List.of("capture_function.sql", "capture_trigger.sql", "truncate_trigger.sql")) {
            String sql = SqlFiles.read("sql/capture/" + f);
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
