package dev.ibex.controller;

import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.test.Cli;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * What one run of a kid costs when it applies a few hundred keys, and when nothing changed: the
 * statements each server executes per run (pg_stat_statements, top level, ibex's user only) and the
 * kid thread's CPU per run. Not a test: run it by hand (see the usage line), with the daemon's JVM
 * flags (-XX:TieredStopAtLevel=1 -XX:+UseSerialGC) to see what the controller pays.
 *
 * <p>usage: java -cp target/classes:target/test-classes:$(cat target/bench.classpath)
 * dev.ibex.controller.RunCost [runs=400] [txns=90]
 */
public final class RunCost {

    private static final String[] TABLES = {"pgbench_accounts", "pgbench_tellers", "pgbench_branches",
        "pgbench_history", "bench_heartbeat"};

    private final int runs;
    private final int txns;
    private EmbeddedPostgres source;
    private EmbeddedPostgres target;
    private Connection load;
    private Connection listen;

    private RunCost(int runs, int txns) {
        this.runs = runs;
        this.txns = txns;
    }

    public static void main(String[] args) throws Exception {
        int runs = 400;
        int txns = 90;
        for (String a : args) {
            if (a.startsWith("runs=")) {
                runs = Integer.parseInt(a.substring(5));
            } else if (a.startsWith("txns=")) {
                txns = Integer.parseInt(a.substring(5));
            }
        }
        new RunCost(runs, txns).measure();
        System.exit(0);
    }

    private void measure() throws Exception {
        Path work = Files.createTempDirectory("ibex-runcost");
        source = server(work.resolve("source"));
        target = server(work.resolve("target"));
        try {
            setUp();
            ConnectionSpec spec = new ConnectionSpec("repository", "127.0.0.1", target.getPort(), "ibex", "postgres",
                    null, null, null);
            DbPools pools = new DbPools();
            Kid kid = new Kid("bench", spec, pools, ControllerSettings.DEFAULTS);
            listen = connect(target, "ibex");
            exec(listen, "LISTEN " + Channels.RUN_END);
            kid.start();
            kid.kick(false);
            awaitRunEnd();
            Thread kidThread = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("ibex-sync-bench")).findFirst().orElseThrow();

            phase(kid, kidThread, "warm-up", runs / 2, txns, false);
            phase(kid, kidThread, "busy", runs, txns, true);
            phase(kid, kidThread, "empty", runs, 0, true);
            kid.stop();
            kid.join(java.time.Duration.ofSeconds(10));
            pools.closeAll();
            for (String t : TABLES) {
                String a = scalar(source, "bench", checksum(t));
                String b = scalar(target, "bench", checksum(t));
                System.out.println("check " + t + " " + (a.equals(b) ? "equal" : "DIFFERENT " + a + " " + b));
            }
        } finally {
            source.close();
            target.close();
        }
    }

    private void phase(Kid kid, Thread kidThread, String name, int n, int txnsPerRun, boolean report)
            throws Exception {
        resetStatements();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long kidCpu = 0;
        long loadCpu = 0;
        long runWall = 0;
        long process0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long l0 = mx.getCurrentThreadCpuTime();
            change(txnsPerRun);
            long k0 = mx.getThreadCpuTime(kidThread.getId());
            loadCpu += mx.getCurrentThreadCpuTime() - l0;
            long r0 = System.nanoTime();
            kid.kick(false);
            awaitRunEnd();
            runWall += System.nanoTime() - r0;
            kidCpu += mx.getThreadCpuTime(kidThread.getId()) - k0;
        }
        long wall = System.nanoTime() - wall0;
        long process = os.getProcessCpuTime() - process0;
        if (!report) {
            return;
        }
        System.out.printf(Locale.ROOT, "%s: %d runs, %d pgbench-like txns per run, %.1f keys per run%n", name, n,
                txnsPerRun, Double.parseDouble(scalar(target, "ibex",
                        "SELECT coalesce(avg(split_part(detail, ' ', 1)::int), 0) FROM (SELECT detail FROM ibex.run "
                                + "ORDER BY id DESC LIMIT " + n + ") r")));
        System.out.printf(Locale.ROOT, "%s: kid thread %.0f us CPU per run; process (without the load) %.0f us per run;"
                + " kick to run end %.2f ms; wall %.2f ms per run%n", name, kidCpu / 1000.0 / n,
                (process - loadCpu) / 1000.0 / n, runWall / 1e6 / n, wall / 1e6 / n);
        statements(source, "bench", "source", name, n);
        statements(target, "bench", "target", name, n);
        statements(target, "ibex", "repository", name, n);
    }

    /** txns pgbench-like transactions, each in its own commit, as pgbench's clients would. */
    private void change(int n) throws SQLException {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        try (Statement st = load.createStatement()) {
            for (int i = 0; i < n; i++) {
                int aid = r.nextInt(1, 500_001);
                int tid = r.nextInt(1, 51);
                int bid = r.nextInt(1, 6);
                int delta = r.nextInt(-5000, 5001);
                st.execute("BEGIN; UPDATE pgbench_accounts SET abalance = abalance + " + delta + " WHERE aid = " + aid
                        + "; UPDATE pgbench_tellers SET tbalance = tbalance + " + delta + " WHERE tid = " + tid
                        + "; UPDATE pgbench_branches SET bbalance = bbalance + " + delta + " WHERE bid = " + bid
                        + "; INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + tid + ", " + bid
                        + ", " + aid + ", " + delta + ", CURRENT_TIMESTAMP); COMMIT");
            }
            if (n > 0) {
                st.execute("UPDATE bench_heartbeat SET beat = clock_timestamp() WHERE id = 1");
            }
        }
    }

    private void awaitRunEnd() throws SQLException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            PGNotification[] ns = listen.unwrap(PGConnection.class).getNotifications(1000);
            if (ns != null && ns.length > 0) {
                return;
            }
        }
        throw new IllegalStateException("no run ended within 60 s");
    }

    private void setUp() throws SQLException {
        exec(source, "postgres", "CREATE DATABASE bench", "CREATE ROLE load SUPERUSER LOGIN");
        exec(target, "postgres", "CREATE DATABASE bench", "CREATE DATABASE ibex");
        for (EmbeddedPostgres pg : List.of(source, target)) {
            exec(pg, "bench",
                    "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))",
                    "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84))",
                    "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
                    "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, "
                            + "filler char(22), hid bigserial PRIMARY KEY)",
                    "CREATE TABLE bench_heartbeat (id int PRIMARY KEY, beat timestamptz NOT NULL)",
                    "INSERT INTO pgbench_branches SELECT g, 0, '' FROM generate_series(1, 5) g",
                    "INSERT INTO pgbench_tellers SELECT g, (g - 1) / 10 + 1, 0, '' FROM generate_series(1, 50) g",
                    "INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, 500000) g",
                    "INSERT INTO bench_heartbeat VALUES (1, '2000-01-01')",
                    "VACUUM ANALYZE");
        }
        List<String> repo = List.of("--db-host", "127.0.0.1", "--db-port", Integer.toString(target.getPort()),
                "--db-name", "ibex", "--db-user", "postgres");
        cli(repo, "install", "--batch");
        cli(repo, "add", "db", "src", "dbname=bench", "host=127.0.0.1", "port=" + source.getPort(), "user=postgres");
        cli(repo, "add", "db", "dst", "dbname=bench", "host=127.0.0.1", "port=" + target.getPort(), "user=postgres");
        cli(repo, "add", "all", "tables", "db=src", "relgroup=bench");
        cli(repo, "add", "sync", "bench", "relgroup=bench", "dbs=src:source,dst:target");
        load = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + source.getPort() + "/bench", "load", "");
    }

    private static void cli(List<String> repo, String... words) {
        List<String> all = new ArrayList<>(List.of(words));
        all.addAll(repo);
        Cli.Result r = Cli.run(all.toArray(String[]::new));
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", words) + ": " + r);
        }
    }

    private void resetStatements() throws SQLException {
        for (EmbeddedPostgres pg : List.of(source, target)) {
            try (Connection c = connect(pg, "postgres")) {
                exec(c, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
                exec(c, "SELECT pg_stat_statements_reset()");
            }
        }
    }

    /** ibex's statements on one database per run (user postgres; the load runs as another user). */
    private static void statements(EmbeddedPostgres pg, String db, String label, String phase, int n)
            throws SQLException {
        try (Connection c = connect(pg, "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT sum(s.calls), round(sum(s.total_exec_time)::numeric, 1), q
                     FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                     JOIN pg_roles u ON u.oid = s.userid,
                     LATERAL (SELECT left(regexp_replace(regexp_replace(s.query, 'ARRAY\\[[^]]*\\]', 'ARRAY[...]', 'g'),
                                                         '\\s+', ' ', 'g'), 110) AS q) n
                     WHERE d.datname = '%s' AND u.rolname = 'postgres'
                       AND s.query NOT LIKE '%%pg_stat_statements%%' AND s.query NOT LIKE 'LISTEN%%'
                       AND s.query NOT LIKE '%%split_part(detail%%'
                     GROUP BY q ORDER BY 1 DESC, 2 DESC""".formatted(db))) {
            long calls = 0;
            double ms = 0;
            List<String> lines = new ArrayList<>();
            while (rs.next()) {
                calls += rs.getLong(1);
                ms += rs.getDouble(2);
                lines.add(String.format(Locale.ROOT, "    %6.2f/run %8.1f ms  %s", rs.getLong(1) / (double) n,
                        rs.getDouble(2), rs.getString(3)));
            }
            System.out.printf(Locale.ROOT, "%s: %s: %.2f statements per run, %.1f us executing per run%n", phase, label,
                    calls / (double) n, ms * 1000 / n);
            lines.forEach(System.out::println);
        }
    }

    private static String checksum(String table) {
        return "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM "
                + table + " t";
    }

    private static EmbeddedPostgres server(Path dir) throws java.io.IOException {
        return EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(true)
                .setServerConfig("shared_preload_libraries", "pg_stat_statements")
                .setServerConfig("pg_stat_statements.track", "top")
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("fsync", "off")
                .setServerConfig("synchronous_commit", "off")
                .start();
    }

    private static Connection connect(EmbeddedPostgres pg, String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db, "postgres", "");
    }

    private static void exec(EmbeddedPostgres pg, String db, String... sql) throws SQLException {
        try (Connection c = connect(pg, db)) {
            for (String s : sql) {
                exec(c, s);
            }
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String scalar(EmbeddedPostgres pg, String db, String sql) throws SQLException {
        try (Connection c = connect(pg, db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
