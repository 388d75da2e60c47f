package dev.ibex.status;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.RunState;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunTallyIT {

    /** Longer than the 10 s after which the tally once took a run id's smaller ids as settled. */
    private static final Duration LATE = Duration.ofSeconds(11);

    @Test
    void aRunWhoseRowCommitsLateIsCountedOnceAndNoneTwice() throws Exception {
        TestDb repoDb = Model.create().stubSync("s").repoDb();
        List<Long> counted = new ArrayList<>();
        try (Repository r = Repository.open(Model.spec(repoDb)); Connection stalled = repoDb.connect()) {
            RunTally tally = new RunTally(r);
            r.commit();
            stalled.setAutoCommit(false);
            long late = startAndEnd(stalled);
            long first = endedRun(r);
            tally.ended(r, run -> counted.add(run.entry().id()));
            assertEquals(List.of(first), counted);

            // the stalled transaction holds its run while others start, end and are counted, long
            // after the one above it ended
            eventually(LATE.plusSeconds(20), "a run to have ended " + LATE.toSeconds() + " s ago", () -> {
                tally.ended(r, run -> counted.add(run.entry().id()));
                r.commit();
                return Long.parseLong(repoDb.scalar("SELECT count(*) FROM ibex.run WHERE id = " + first
                        + " AND ended < clock_timestamp() - interval '" + LATE.toSeconds() + " seconds'")) == 1;
            });
            long second = endedRun(r);
            tally.ended(r, run -> counted.add(run.entry().id()));
            stalled.commit();
            tally.ended(r, run -> counted.add(run.entry().id()));
            tally.ended(r, run -> counted.add(run.entry().id()));
            r.commit();
            assertEquals(List.of(first, second, late), counted);
            // with nothing left open, the floor passes them all and they are forgotten
            eventually(Duration.ofSeconds(30), "the counted runs to be below the floor", () -> {
                tally.ended(r, run -> counted.add(run.entry().id()));
                r.commit();
                return tally.remembered() == 0;
            });
            assertEquals(List.of(first, second, late), counted);
        }
    }

    /** A run of "s" started and ended in the connection's open transaction; its id. */
    private static long startAndEnd(Connection c) throws SQLException {
        long id;
        try (PreparedStatement ps = c.prepareStatement(RunLog.START)) {
            ps.setString(1, "s");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE ibex.run SET ended = clock_timestamp(), state = ? WHERE id = ?")) {
            ps.setString(1, RunState.GOOD.sql());
            ps.setLong(2, id);
            ps.executeUpdate();
        }
        return id;
    }

    /** A run of "s" started, ended and committed through the repository; its id. */
    private static long endedRun(Repository r) {
        long id = r.one(RunLog.START, rs -> rs.getLong(1), "s").orElseThrow();
        new RunLog(r).end(id, RunState.GOOD, new RunLog.Counts(0, 0, 0, 0), null, null, null, null, "s", null);
        r.commit();
        return id;
    }
}
