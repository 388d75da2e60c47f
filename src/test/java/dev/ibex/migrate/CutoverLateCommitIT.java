package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.pg.DbPools;
import dev.ibex.pg.ServerVersion;
import dev.ibex.replicate.Backlog;
import dev.ibex.test.Cli;
import dev.ibex.test.Eventually;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TcpProxy;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The late commit: a transaction on the source wrote to a replicated table before the cutover's
 * drain and commits after the check. While it is open neither its row nor its change-log row is
 * visible to ibex, so the tables compare equal and nothing is pending; yet the source is about to
 * differ. The cutover must not say Ready (and --reverse must not make the forward sync inactive),
 * or that write never reaches the new db.
 */
class CutoverLateCommitIT {

    private static final String[] SCHEMA = {
        "CREATE SEQUENCE public.ids",
        "CREATE TABLE public.items (id bigint PRIMARY KEY DEFAULT nextval('public.ids'), name text)",
        "INSERT INTO public.items (name) SELECT 'item ' || i FROM generate_series(1, 300) i"};

    private static Model model(TestDb source, TestDb target) {
        source.exec(SCHEMA);
        target.exec(SCHEMA);
        Model m = Model.create().db("src", source).db("dst", target);
        return m.sync("s1", true, List.of(m.table("src", "public", "items", "id"), m.sequence("src", "ids")), "src", "dst")
                .capture("src");
    }

    /** A transaction on {@code db} that wrote (an insert, an update, a delete) and stays open. */
    private static Connection openWriter(TestDb db) throws Exception {
        Connection c = db.connect();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("INSERT INTO public.items (id, name) VALUES (9001, 'late commit')");
            st.execute("UPDATE public.items SET name = 'late update' WHERE id = 10");
            st.execute("DELETE FROM public.items WHERE id = 20");
        }
        return c;
    }

    @Test
    void anOpenWritingTransactionOnTheSourceIsNotReady() throws Exception {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        try (Model m = model(source, target)) {
            Cli.Result r;
            try (Connection late = openWriter(source)) {
                r = m.run("cutover", "s1");
                late.commit();
            }
            // the late commit is on the source only: a Ready above was not true
            assertNotEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
            assertEquals(1, r.exit(), "a transaction that wrote to public.items was still open: " + r);
            assertTrue(r.out().contains("NOT ready: 1 transaction(s) that wrote to the replicated tables on source db src "
                    + "still open"), r.toString());

            Cli.Result again = m.run("cutover", "s1");
            assertEquals(0, again.exit(), again.toString());
            assertEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
        }
    }

    /**
     * The late commit that lands while the check runs, after the backlog was counted: if the open
     * writers were counted after the backlog, a commit in between is in neither count and the check
     * says Ready without its row on the target. The source is reached through a proxy that holds
     * each new connection, so the writer commits exactly when the check opens its last connection
     * to the source (counted by a check run just before, with nothing open).
     */
    @Test
    void aLateCommitDuringTheCheckIsNotReady() throws Exception {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        try (TcpProxy proxy = TcpProxy.to(source); Model m = model(proxy.address(source), target)) {
            long before = proxy.accepted();
            assertTrue(Cutover.check(m.repo(), "s1", 100_000).match());
            long connections = proxy.accepted() - before;

            Cutover.Report report;
            try (Connection late = openWriter(source)) {
                long start = proxy.accepted();
                proxy.holdNext(Integer.MAX_VALUE);
                CompletableFuture<Cutover.Report> check =
                        CompletableFuture.supplyAsync(() -> Cutover.check(m.repo(), "s1", 100_000));
                while (!check.isDone()) {
                    Eventually.eventually(Duration.ofSeconds(60), "the check connects to the source or ends",
                            () -> proxy.held() > 0 || check.isDone());
                    if (proxy.accepted() - start >= connections && !late.getAutoCommit()) {
                        late.commit(); // the last connection of the check: the write lands now
                        late.setAutoCommit(true);
                        proxy.holdNext(0);
                    }
                    proxy.release();
                }
                report = check.get();
                assertTrue(late.getAutoCommit(), "the writer committed during the check");
            }
            assertNotEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
            assertTrue(!report.match(), "a change committed during the check is not on the target: " + report);

            Cli.Result again = m.run("cutover", "s1");
            assertEquals(0, again.exit(), again.toString());
            assertEquals(source.count("public.items"), target.count("public.items"));
            assertEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
        }
    }

    @Test
    void reverseWithAnOpenWritingTransactionOnTheOldDbKeepsTheForwardSync() throws Exception {
        TestDb old = PgServers.source();
        TestDb neu = PgServers.target();
        assumeTrue(old.version().compareTo(ServerVersion.OLDEST_TARGET) >= 0, "the way back writes to the old db");
        try (Model m = model(old, neu)) {
            Cli.Result r;
            try (Connection late = openWriter(old)) {
                r = m.run("cutover", "s1", "--reverse");
                late.commit();
            }
            assertEquals(1, r.exit(), "a transaction that wrote to public.items on the old db was still open: " + r);
            assertEquals("active", m.repoDb().scalar("SELECT status FROM ibex.sync WHERE name = 's1'"), r.toString());
            assertEquals("0", m.repoDb().scalar("SELECT count(*) FROM ibex.sync WHERE name = 's1_reverse'"), r.toString());

            Cli.Result again = m.run("cutover", "s1", "--reverse");
            assertEquals(0, again.exit(), again.toString());
            // the late commit reached the new db before the forward sync stopped
            assertEquals(old.checksum("public.items", "id"), neu.checksum("public.items", "id"));
            assertEquals("1", neu.scalar("SELECT count(*) FROM public.items WHERE id = 9001"));
        }
    }

    /**
     * A TRUNCATE committed after a run is pending as much as a row change: the drain, the cutover's
     * backlog and --reverse's last drain and late-change count all go by Backlog.pending, which
     * must count it, or a truncate that lands just after the last run is reported as nothing pending.
     */
    @Test
    void aTruncateAfterTheLastRunIsPending() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        try (Model m = model(source, target); DbPools pools = new DbPools()) {
            Drain.Drained d = Drain.drain(m.repo(), "s1", 1);
            assertTrue(d.drained(), d.toString());
            assertEquals(0, Backlog.pending(m.repo(), pools, "s1"));
            source.exec("TRUNCATE public.items");
            assertNotEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
            assertEquals(1, Backlog.pending(m.repo(), pools, "s1"), "the truncate has not reached the target");

            assertTrue(Drain.drain(m.repo(), "s1", 1).drained());
            assertEquals(0, Backlog.pending(m.repo(), pools, "s1"));
            assertEquals(source.checksum("public.items", "id"), target.checksum("public.items", "id"));
        }
    }
}
