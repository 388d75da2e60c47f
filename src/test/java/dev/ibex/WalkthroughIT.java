package dev.ibex;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.controller.PidFile;
import dev.ibex.pg.Identifiers;
import dev.ibex.replicate.Writers;
import dev.ibex.repository.SqlFiles;
import dev.ibex.test.Cli;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
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

        // writes go on while the controller starts, copies, is killed, is down and starts again
        try (Writers writers = Writers.start(src, 2, 20, WalkthroughIT::change)) {
            long first = start(repo, piddir, logDir);
            eventually(Duration.ofSeconds(60), "a good run with the writers going", () -> goodRuns(repo) > 0);
            ProcessHandle.of(first).orElseThrow().destroyForcibly();
            ProcessHandle.of(first).ifPresent(p -> p.onExit().join());
            writers.awaitCommits(writers.committed() + 100); // changes made while no controller runs
            long before = goodRuns(repo);
            start(repo, piddir, logDir);
            eventually(Duration.ofSeconds(60), "a good run after the restart", () -> goodRuns(repo) > before);
            writers.stop();
            assertTrue(writers.committed() > 100, "the writers committed: " + writers.committed());
        }

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

    /** Inserts orders with items, updates totals, moves items to new keys, deletes orders. */
    private static String change(ThreadLocalRandom r) {
        long id = 1 + r.nextInt(600);
        return switch (r.nextInt(4)) {
            case 0 -> "WITH o AS (INSERT INTO orders (customer, total, note) VALUES (" + r.nextInt(1000) + ", "
                    + r.nextInt(100_000) / 100.0 + ", E'ünïcode\\\\" + r.nextInt() + "') RETURNING id) "
                    + "INSERT INTO items SELECT id, 1, 'sku-' || id FROM o";
            case 1 -> "UPDATE orders SET total = total + 1 WHERE id = " + id;
            case 2 -> "UPDATE items SET line = line + 10 WHERE order_id = " + id + " AND line < 10";
            default -> "DELETE FROM orders WHERE id = " + id;
        };
    }

    private static long goodRuns(TestDb repo) {
        return Long.parseLong(repo.scalar("SELECT count(*) FROM ibex.run WHERE sync = 'shop' AND state = 'good'"));
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
