package dev.ibex.replicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.capture.Capture;
import dev.ibex.capture.DeltaPurge;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.TxidSnapshot;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * A source restored on another server without schema ibex (a dump restored, a server rebuilt): its
 * transaction ids start over, below the S_prev the repository holds for its targets. Read by that
 * S_prev, the truncate the new capture logs and every change for a long while after look seen
 * already: the target would stay behind, silently. Each target must get every table whole once.
 */
class RestoredSourceIT {

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, v int, note text)";

    @Test
    void aSourceRestoredOnANewServerIsCopiedWholeThoughItsTransactionIdsAreBehindTheSnapshots() throws Exception {
        try (ReplicaSet set = ReplicaSet.create(TABLE);
                EmbeddedPostgres fresh = PgServers.dedicated(PgServers.sourceVersion());
                DbPools pools = new DbPools()) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            // the old server has handed out more transaction ids than a new one will for a while
            try (Connection c = src.connect(); Statement st = c.createStatement()) {
                for (int i = 0; i < 3000; i++) {
                    st.execute("SELECT txid_current()");
                }
            }
            set.sync("s", "t");
            src.exec("INSERT INTO t SELECT g, g, 'before' FROM generate_series(1, 200) g");
            set.goodRun("s");
            set.assertSameRows("t", "id");

            // restored on a new server: the same table and rows, no schema ibex
            TestDb restored = new TestDb(fresh, "localhost", fresh.getPort(), "postgres", "postgres");
            restored.exec(TABLE, "INSERT INTO t VALUES " + src.scalar(
                    "SELECT string_agg(format('(%s, %s, %L)', id, v, note), ', ' ORDER BY id) FROM t"));
            m.sql("UPDATE ibex.db SET port = ?, dbname = ? WHERE name = 'src'", fresh.getPort(), "postgres");
            String prev = m.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's'");
            long behind = Long.parseLong(restored.scalar("SELECT txid_current()"));
            assertTrue(behind < TxidSnapshot.parse(prev).xmin(), "the new server's txids " + behind + " below " + prev);

            // written on the restored source before its capture is back, then after
            restored.exec("UPDATE t SET note = 'restored' WHERE id % 3 = 0", "DELETE FROM t WHERE id % 5 = 0",
                    "INSERT INTO t SELECT g, g, 'restored' FROM generate_series(201, 250) g");
            Capture.reconcile(m.repo(), m.dbRow("src"));
            m.repo().commit();
            restored.exec("UPDATE t SET v = -v WHERE id % 4 = 0", "DELETE FROM t WHERE id % 11 = 0",
                    "INSERT INTO t SELECT g, g, 'captured' FROM generate_series(251, 260) g");
            // the controller's purge runs between the runs
            DeltaPurge.purge(m.repo(), pools, m.dbRow("src"));
            m.repo().commit();

            SyncRunner.Result r = set.runner().runOnce("s");
            assertEquals("good", r.state(), r.toString());
            ReplicaSet.assertSameRows(restored, dst, "t", "id");

            // and the stream goes on from the new server's snapshot
            restored.exec("UPDATE t SET note = 'later' WHERE id % 2 = 0", "DELETE FROM t WHERE id % 7 = 0");
            DeltaPurge.purge(m.repo(), pools, m.dbRow("src"));
            m.repo().commit();
            set.goodRun("s");
            ReplicaSet.assertSameRows(restored, dst, "t", "id");
        }
    }
}
