package dev.ibex.demo;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.repository.SqlFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

/**
 * The walkthrough of README.md, on two embedded servers: a shop schema with a writer, the
 * repository, db/table/dbgroup/sync, the controller, status while rows flow, and proof that the
 * target equals the source.
 */
public final class Demo {

    private static final String SCHEMA = """
            CREATE TABLE public.customers (id bigint PRIMARY KEY, name text NOT NULL, email text,
                                           created timestamptz NOT NULL DEFAULT now());
            CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer bigint NOT NULL, total numeric(12,2),
                                        note text, placed timestamptz NOT NULL DEFAULT now());
            CREATE TABLE public."Order Items" (order_id bigint NOT NULL, line int NOT NULL, sku text NOT NULL,
                                               qty int NOT NULL, attrs jsonb, PRIMARY KEY (order_id, line));
            """;

    /** The target's tables belong to a plain user, the way a managed service hands them out. */
    private static final String TARGET_USER = "avnadmin";

    private static final String[] TABLES = {"public.customers", "public.orders", "public.\"Order Items\""};
    private static final String[] ORDER_BY = {"id", "id", "order_id, line"};

    private final PrintWriter out;
    private final int seconds;
    private final ToIntFunction<String[]> cli;

    /**
     * @param cli  runs one ibex command line and returns its exit code: the demo drives ibex through
     *             its verbs as a user would, and is given the CLI because the CLI is what calls it
     */
    public Demo(PrintWriter out, int seconds, ToIntFunction<String[]> cli) {
        this.out = out;
        this.seconds = seconds;
        this.cli = cli;
    }

    /** @return 0 when the target ended equal to the source */
    public int run() {
        Path work;
        try {
            work = Files.createTempDirectory("ibex-demo");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        step("Starting two embedded PostgreSQL servers in " + work);
        int result = replicate(work);
        if (result == 0) {
            deleteTree(work);
        } else {
            step("The controller's log stays in " + work.resolve("log"));
        }
        return result;
    }

    private int replicate(Path work) {
        try (DemoServers servers = new DemoServers(work)) {
            String src = "jdbc:postgresql://127.0.0.1:" + servers.sourcePort() + "/";
            String dst = "jdbc:postgresql://127.0.0.1:" + servers.targetPort() + "/";
            createDatabases(src, dst);
            List<String> repo = List.of("--db-host", "127.0.0.1", "--db-port", Integer.toString(servers.sourcePort()),
                    "--db-name", "ibex", "--db-user", "postgres", "--piddir", work.resolve("run").toString(),
                    "--log-dir", work.resolve("log").toString());
            configure(repo, servers);
            ibex(repo, "start");
            try {
                replicateWhileWriting(repo, src + "shop");
            } finally {
                ibex(repo, "stop");
            }
            return verify(src + "shop", dst + "shop");
        }
    }

    /** The demo's folder (the servers' data went with them), once the demo proved its point. */
    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shop on both servers, owned on the target by a user that is no superuser, and the repository. */
    private void createDatabases(String src, String dst) {
        exec(src + "postgres", "CREATE DATABASE shop", "CREATE DATABASE ibex");
        exec(dst + "postgres", "CREATE DATABASE shop");
        exec(src + "shop", SCHEMA);
        exec(dst + "shop", "CREATE ROLE " + TARGET_USER + " LOGIN", SCHEMA,
                "ALTER TABLE public.customers OWNER TO " + TARGET_USER,
                "ALTER TABLE public.orders OWNER TO " + TARGET_USER,
                "ALTER TABLE public.\"Order Items\" OWNER TO " + TARGET_USER,
                SqlFiles.read("sql/shims/rds_session_replication_role.sql").replace(":\"grantee\"", TARGET_USER));
        seed(src + "shop");
    }

    /** The README's commands: install, add the dbs, the tables, the dbgroup and the sync. */
    private void configure(List<String> repo, DemoServers servers) {
        ibex(repo, "install", "--batch");
        ibex(repo, "add", "db", "src", "dbname=shop", "host=127.0.0.1", "port=" + servers.sourcePort(),
                "user=postgres");
        step("The target's user " + TARGET_USER + " is no superuser, as on a managed service: the RDS shim "
                + "from sql/shims lets it turn off triggers and foreign keys while ibex applies");
        ibex(repo, "add", "db", "dst", "dbname=shop", "host=127.0.0.1", "port=" + servers.targetPort(),
                "user=" + TARGET_USER);
        ibex(repo, "add", "all", "tables", "db=src", "relgroup=shop");
        ibex(repo, "add", "dbgroup", "src_to_dst", "src:source", "dst:target");
        ibex(repo, "add", "sync", "shop", "relgroup=shop", "dbs=src_to_dst", "onetimecopy=1");
    }

    /** A writer runs for the demo's seconds while status is shown; then the sync is drained. */
    private void replicateWhileWriting(List<String> repo, String shop) {
        Writer writer = new Writer(shop);
        Thread t = new Thread(writer, "demo-writer");
        t.start();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            sleep(Math.min(5_000, Math.max(0, (end - System.nanoTime()) / 1_000_000)));
            step("Writer has made " + writer.changes.get() + " changes; status:");
            ibex(repo, "status", "shop");
        }
        writer.stop.set(true);
        join(t);
        step("Writer stopped after " + writer.changes.get() + " changes; draining with 'kick shop 0'");
        ibex(repo, "kick", "shop", "0");
        ibex(repo, "status");
    }

    private int verify(String src, String dst) {
        step("Comparing target with source (row count and md5 over rows in key order)");
        boolean equal = true;
        for (int i = 0; i < TABLES.length; i++) {
            String a = checksum(src, TABLES[i], ORDER_BY[i]);
            String b = checksum(dst, TABLES[i], ORDER_BY[i]);
            boolean same = a.equals(b);
            equal &= same;
            out.printf("  %-22s source %-44s target %-44s %s%n", TABLES[i], a, b, same ? "MATCH" : "DIFF");
        }
        out.println(equal ? "The target equals the source." : "The target DIFFERS from the source.");
        out.flush();
        return equal ? ExitCode.OK.code() : ExitCode.RUN_FAILED.code();
    }

    private void ibex(List<String> repo, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(repo);
        out.println("$ ibex " + String.join(" ", args));
        out.flush();
        int rc = cli.applyAsInt(all.toArray(String[]::new));
        if (rc != 0) {
            throw new IbexException(rc, "Demo step 'ibex " + String.join(" ", args) + "' failed (exit " + rc + ")");
        }
    }

    private void step(String text) {
        out.println();
        out.println("== " + text);
        out.flush();
    }

    private static void seed(String url) {
        exec(url, """
                INSERT INTO public.customers (id, name, email)
                  SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 2000) g;
                INSERT INTO public.orders (customer, total, note)
                  SELECT 1 + g % 2000, (g % 997) * 1.25, E'first\\tline\\nsecond' FROM generate_series(1, 5000) g;
                INSERT INTO public."Order Items" (order_id, line, sku, qty, attrs)
                  SELECT o.id, l, 'SKU-' || (o.id * l) % 313, l, jsonb_build_object('gift', l % 2 = 0)
                  FROM public.orders o, generate_series(1, 3) l;
                """);
    }

    private static String checksum(String url, String table, String orderBy) {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) || ' rows ' || coalesce(md5(string_agg(t::text, "
                     + "E'\\n' ORDER BY " + orderBy + ")), '-') FROM " + table + " t")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IbexException(ExitCode.DATABASE, "Comparing " + table + " failed: " + e.getMessage());
        }
    }

    private static void exec(String url, String... sql) {
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IbexException(ExitCode.DATABASE, "Demo setup failed: " + e.getMessage());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A shop at work: new orders with items, updated totals, cancelled orders, renamed customers. */
    private static final class Writer implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong changes = new AtomicLong();
        private final String url;

        Writer(String url) {
            this.url = url;
        }

        @Override
        public void run() {
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
                c.setAutoCommit(false);
                ThreadLocalRandom r = ThreadLocalRandom.current();
                try (PreparedStatement order = c.prepareStatement(
                        "INSERT INTO public.orders (customer, total, note) VALUES (?, ?, ?) RETURNING id");
                     PreparedStatement item = c.prepareStatement(
                             "INSERT INTO public.\"Order Items\" (order_id, line, sku, qty) VALUES (?, ?, ?, ?)");
                     PreparedStatement total = c.prepareStatement(
                             "UPDATE public.orders SET total = total + 1 WHERE id = ?");
                     PreparedStatement cancel = c.prepareStatement(
                             "DELETE FROM public.\"Order Items\" WHERE order_id = ?");
                     PreparedStatement rename = c.prepareStatement(
                             "UPDATE public.customers SET name = name || '*' WHERE id = ?")) {
                    while (!stop.get()) {
                        long id = order(order, item, r);
                        change(total, 1 + r.nextInt((int) id));
                        change(cancel, 1 + r.nextInt((int) id));
                        change(rename, 1 + r.nextInt(2000));
                        c.commit();
                        changes.addAndGet(6);
                        Thread.sleep(5);
                    }
                }
            } catch (SQLException e) {
                System.err.println("demo writer: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** An order with two items; returns its id. */
        private static long order(PreparedStatement order, PreparedStatement item, ThreadLocalRandom r)
                throws SQLException {
            order.setLong(1, 1 + r.nextInt(2000));
            order.setBigDecimal(2, java.math.BigDecimal.valueOf(r.nextInt(100_000), 2));
            order.setString(3, "démo ünïcode " + r.nextInt());
            long id;
            try (ResultSet rs = order.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
            for (int line = 1; line <= 2; line++) {
                item.setLong(1, id);
                item.setInt(2, line);
                item.setString(3, "SKU-" + r.nextInt(313));
                item.setInt(4, 1 + r.nextInt(5));
                item.executeUpdate();
            }
            return id;
        }

        private static void change(PreparedStatement st, long id) throws SQLException {
            st.setLong(1, id);
            st.executeUpdate();
        }
    }
}
