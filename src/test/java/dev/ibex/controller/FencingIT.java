package dev.ibex.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.pg.DbPools;
import dev.ibex.replicate.ClaimFence;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.repository.Repository;
import dev.ibex.test.Model;
import dev.ibex.test.ReplicaSet;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The fencing layers one by one, each at the exact point a stale controller could strike (the
 * process test in MultiControllerIT cannot choose where SIGSTOP lands).
 */
class FencingIT {

    private static ReplicaSet setUp() {
        ReplicaSet set = ReplicaSet.create("CREATE TABLE t (id int PRIMARY KEY, v int, note text)");
        set.model().sync("s", "src", List.of("dst"), "public.t:id").capture("src");
        return set;
    }

    @Test
    void aRunWhoseClaimWasTakenRecordsNothingAndApplyNothing() {
        try (ReplicaSet set = setUp()) {
            Model m = set.model();
            set.src().exec("INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 50) g");
            // controller c1 held the sync with epoch 1; controller c2 took it over (epoch 2)
            m.sql("INSERT INTO ibex.sync_claim (sync, controller, epoch, previous) VALUES ('s', 2, 2, 1)");
            String before = set.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's'");
            try (Repository r = Repository.open(Model.spec(set.repoDb()));
                 SyncRunner stale = new SyncRunner(r).fence(new ClaimFence("s", 1, 1))) {
                assertThrows(ClaimFence.Lost.class, () -> stale.runOnce("s"));
            }
            assertEquals(0, set.dst().count("t"), "no stale apply");
            assertEquals(before, set.repoDb().scalar("SELECT snapshot FROM ibex.sync_state WHERE sync = 's'"),
                    "S_prev unchanged");
            assertEquals("0", set.repoDb().scalar("SELECT count(*) FROM ibex.run WHERE state IN ('good', 'running')"));

            try (Repository r = Repository.open(Model.spec(set.repoDb()));
                 SyncRunner owner = new SyncRunner(r).fence(new ClaimFence("s", 2, 2))) {
                assertEquals("good", owner.runOnce("s").state());
            }
            set.assertSameRows("t", "id");
        }
    }

    @Test
    void theNewOwnerEndsTheOldOwnersTargetSessionsBeforeItsFirstRun() throws Exception {
        try (ReplicaSet set = setUp(); DbPools pools = new DbPools().applicationName("ibex c2")) {
            // the old owner (c1) has a step open on the target, checked and about to commit, when it stands still
            Properties p = new Properties();
            p.setProperty("user", set.dst().user());
            p.setProperty("ApplicationName", "ibex c1");
            try (Connection stale = DriverManager.getConnection(set.dst().url(), p)) {
                stale.setAutoCommit(false);
                try (Statement st = stale.createStatement()) {
                    st.execute("INSERT INTO t VALUES (999, 0, 'stale')");
                }
                try (Repository r = Repository.open(Model.spec(set.repoDb()))) {
                    TargetFence.cutOff(r, pools, "s", 1);
                }
                SQLException e = assertThrows(SQLException.class, stale::commit);
                assertTrue(e.getMessage() != null, e.toString());
            }
            assertEquals(0, set.dst().count("t"), "the stale step never committed");
        }
    }
}
