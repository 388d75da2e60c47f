package dev.ibex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.controller.PidFile;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.SqlFiles;
import dev.ibex.test.Cli;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The walkthrough of README.md, word for word through the CLI, into a target whose user is no
 * superuser (the RDS shim from sql/shims), with writers busy on the source, the controller killed
 * with -9 in the middle and started again: the target ends equal to the source.
 */
class WalkthroughIT {

    private static final String SCHEMA = """
            CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer int NOT NULL, total numeric(12,2), note text);
            CREATE TABLE public.items (order_id bigint NOT NULL REFERENCES public.orders (id) ON DELETE CASCADE,
                                       line int NOT NULL, sku text NOT NULL, PRIMARY KEY (order_id, line));
            """;

    private final List<Long> controllers = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        controllers.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void walkthroughWithWritersAndAKilledControllerEndsEqual() throws Exception {
        TestDb repo = PgServers.repository();
        TestDb src = PgServers.source();
        TestDb dst = PgServers.target();
        String owner = "owner_" + dst.name();
        src.exec(SCHEMA);
        dst.exec(SCHEMA, "CREATE ROLE " + owner + " LOGIN",
                "ALTER TABLE public.orders OWNER TO " + owner, "ALTER TABLE public.items OWNER TO " + owner,
                "CREATE TABLE public.audit (what text)", "GRANT INSERT ON public.audit TO " + owner,
                "CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS "
                        + "$$BEGIN INSERT INTO public.audit VALUES (TG_TABLE_NAME); RETURN NULL; END$$",
                "CREATE TRIGGER audit AFTER INSERT OR DELETE ON public.orders FOR EACH ROW EXECUTE PROCEDURE public.audit()",
                SqlFiles.read("sql/shims/rds_session_replication_role.sql").replace(":\"grantee\"",
                        Identifiers.quote(owner)));
        src.exec("INSERT INTO orders (customer, total, note) SELECT g, g * 1.5, E'tab\\there' FROM generate_series(1, 500) g",
                "INSERT INTO items SELECT id, 1, 'sku' FROM orders");
        Path piddir = Files.createTempDirectory("ibex-walk-pid");
        Path logDir = Files.createTempDirectory("ibex-walk-log");

        ok(repo, "install", "--batch");
        ok(repo, "add", "db", "src", "dbname=" + src.name(), "host=" + src.host(), "port=" + src.port(),
                "user=" + src.user());
        ok(repo, "add", "db", "dst", "dbname=" + dst.name(), "host=" + dst.host(), "port=" + dst.port(),
                "user=" + owner);
        ok(repo, "add", "table", "public.orders", "public.items", "herd=shop", "db=src");
        ok(repo, "add", "dbgroup", "src_to_dst", "src:source", "dst:target");
        ok(repo, "add", "sync", "shop", "relgroup=shop", "dbs=src_to_dst", "onetimecopy=1");

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> write(src, stop, writes), "walkthrough-writer-" + i);
            t.start();
            writers.add(t);
        }
        try {
            long first = start(repo, piddir, logDir);
            Thread.sleep(3000);
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            ProcessHandle.of(first).ifPresent(p -> p.onExit().join());
            Thread.sleep(1500);
            start(repo, piddir, logDir);
            Thread.sleep(3000);
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
        }
        assertTrue(writes.get() > 100, "the writers wrote: " + writes.get());

        Cli.Result kick = Cli.run(repo, "kick", "shop", "0");
        assertEquals(0, kick.exit(), kick.toString());
        assertTrue(kick.out().contains("DONE!"), kick.toString());
        assertEquals(src.checksum("orders", "id"), dst.checksum("orders", "id"));
        assertEquals(src.checksum("items", "order_id, line"), dst.checksum("items", "order_id, line"));
        assertEquals("0", dst.scalar("SELECT count(*) FROM public.audit"), "target triggers did not fire");

        Cli.Result status = Cli.run(repo, "status", "shop");
        assertEquals(0, status.exit(), status.toString());
        assertTrue(status.out().contains("dst: rds_shim"), status.toString());
        Cli.Result stopped = ibex(repo, piddir, logDir, "stop");
        assertEquals(0, stopped.exit(), stopped.toString());
    }

    /** Inserts orders with items, updates totals, moves orders to new keys, deletes some. */
    private static void write(TestDb src, AtomicBoolean stop, AtomicLong writes) {
        try (Connection c = src.connect()) {
            c.setAutoCommit(false);
            ThreadLocalRandom r = ThreadLocalRandom.current();
            try (PreparedStatement insert = c.prepareStatement(
                    "WITH o AS (INSERT INTO orders (customer, total, note) VALUES (?, ?, ?) RETURNING id) "
                            + "INSERT INTO items SELECT id, 1, 'sku-' || id FROM o");
                 PreparedStatement update = c.prepareStatement("UPDATE orders SET total = total + 1 WHERE id = ?");
                 PreparedStatement rekey = c.prepareStatement(
                         "UPDATE items SET line = line + 10 WHERE order_id = ? AND line < 10");
                 PreparedStatement delete = c.prepareStatement("DELETE FROM orders WHERE id = ?")) {
                while (!stop.get()) {
                    insert.setInt(1, r.nextInt(1000));
                    insert.setBigDecimal(2, java.math.BigDecimal.valueOf(r.nextInt(100_000), 2));
                    insert.setString(3, "ünïcode\\" + r.nextInt());
                    insert.executeUpdate();
                    update.setLong(1, 1 + r.nextInt(600));
                    update.executeUpdate();
                    rekey.setLong(1, 1 + r.nextInt(600));
                    rekey.executeUpdate();
                    delete.setLong(1, 1 + r.nextInt(600));
                    delete.executeUpdate();
                    c.commit();
                    writes.addAndGet(4);
                    Thread.sleep(2);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("writer failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private long start(TestDb repo, Path piddir, Path logDir) throws Exception {
        Cli.Result r = ibex(repo, piddir, logDir, "start");
        assertEquals(0, r.exit(), r.toString());
        long pid = new PidFile(piddir).read().orElseThrow();
        controllers.add(pid);
        return pid;
    }

    private static Cli.Result ibex(TestDb repo, Path piddir, Path logDir, String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of(repo.repositoryOptions()));
        all.addAll(List.of("--piddir", piddir.toString(), "--log-dir", logDir.toString()));
        return Cli.process(Map.of(), all.toArray(String[]::new));
    }

    private static void ok(TestDb repo, String... args) {
        Cli.Result r = Cli.run(repo, args);
        assertEquals(0, r.exit(), String.join(" ", args) + "\n" + r);
    }
}
