package dev.ibex.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.pg.DbPools;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeltaPurgeIT {

    @Test
    void purgesOnlyWhatEveryTargetApplied() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        for (TestDb db : List.of(src, a, b)) {
            db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        }
        try (Model m = Model.create(); DbPools pools = new DbPools(2000); SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s1", false, List.of(m.table("src", "public", "t", "id")), "src", "a", "b").capture("src");
            src.exec("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 100) g", "TRUNCATE t",
                    "INSERT INTO t SELECT g, 'w' FROM generate_series(1, 50) g");
            assertEquals(1, DeltaPurge.purge(m.repo(), pools, m.dbRow("src")),
                    "nothing applied yet, but the truncate logged when the delta table was created, which every S_prev sees");
            m.repo().update("UPDATE ibex.db SET port = 1 WHERE name = 'b'");
            m.repo().commit();
            assertEquals("bad", runner.runOnce("s1").state());
            assertEquals(0, DeltaPurge.purge(m.repo(), pools, m.dbRow("src")), "b has not applied them");

            m.repo().update("UPDATE ibex.db SET port = ? WHERE name = 'b'", b.port());
            m.repo().commit();
            assertEquals("good", runner.runOnce("s1").state());
            src.exec("SELECT 1"); // any later transaction moves the snapshot's xmin past the writers
            assertEquals("empty", runner.runOnce("s1").state());
            long purged = DeltaPurge.purge(m.repo(), pools, m.dbRow("src"));
            assertEquals(151, purged, "150 log rows and one truncate");
            assertEquals("0", src.scalar("SELECT count(*) FROM ibex.log"));
            src.exec("UPDATE t SET v = 'x' WHERE id = 1");
            assertEquals("good", runner.runOnce("s1").state());
            assertEquals(src.checksum("t", "id"), a.checksum("t", "id"));
            assertEquals(src.checksum("t", "id"), b.checksum("t", "id"));
            assertTrue(Long.parseLong(src.scalar("SELECT count(*) FROM ibex.log")) == 1);
        }
    }

    /**
     * A sync whose tables do not change is not kicked; its S_prev must not hold back the log that
     * a busy sync on the same source fills, yet a change of its own must stay until it is applied.
     */
    @Test
    void anIdleSyncDoesNotHoldTheSharedLogBackButKeepsWhatItHasNotApplied() {
        TestDb src = PgServers.source();
        TestDb a = PgServers.target();
        TestDb b = PgServers.target();
        for (TestDb db : List.of(src, a, b)) {
            db.exec("CREATE TABLE busy (id int PRIMARY KEY, v text)", "CREATE TABLE quiet (id int PRIMARY KEY, v text)");
        }
        try (Model m = Model.create(); DbPools pools = new DbPools(2000); SyncRunner runner = new SyncRunner(m.repo(), pools)) {
            m.db("src", src).db("a", a).db("b", b);
            m.sync("s_busy", false, List.of(m.table("src", "public", "busy", "id")), "src", "a");
            m.sync("s_quiet", false, List.of(m.table("src", "public", "quiet", "id")), "src", "b").capture("src");
            String quietBefore = m.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's_quiet'");
            src.exec("INSERT INTO busy SELECT g, 'v' FROM generate_series(1, 100) g");
            assertEquals("good", runner.runOnce("s_busy").state());
            src.exec("SELECT 1");
            DeltaPurge.purge(m.repo(), pools, m.dbRow("src"));
            assertTrue(!quietBefore.equals(m.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's_quiet'")),
                    "the quiet sync's S_prev moved on");
            assertEquals("0", src.scalar("SELECT count(*) FROM ibex.log"), "the busy sync's applied rows are gone");

            src.exec("INSERT INTO quiet VALUES (1, 'one')", "UPDATE busy SET v = 'w' WHERE id = 1");
            assertEquals("good", runner.runOnce("s_busy").state());
            src.exec("SELECT 1");
            String quietNow = m.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's_quiet'");
            DeltaPurge.purge(m.repo(), pools, m.dbRow("src"));
            assertEquals(quietNow, m.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's_quiet'"),
                    "a sync with a change pending keeps its S_prev");
            assertEquals("2", src.scalar("SELECT count(*) FROM ibex.log"), "its change and what came after stay");
            assertEquals("good", runner.runOnce("s_quiet").state());
            assertEquals(src.checksum("quiet", "id"), b.checksum("quiet", "id"));
            assertEquals(src.checksum("busy", "id"), a.checksum("busy", "id"));
            assertEquals("0", b.scalar("SELECT count(*) FROM busy"));
        }
    }
}
