package dev.ibex.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.repository.Repository;
import dev.ibex.test.Model;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

class RunHistoryIT {

    @Test
    void keepsTheNewestRunsAndTheLastOfEachStateForStatus() {
        TestDb repo = Model.create().stubSync("s").repoDb();
        repo.exec("INSERT INTO ibex.run (sync, started, ended, state, error) VALUES "
                        + "('s', now() - interval '30 days', now() - interval '30 days', 'bad', 'old failure'), "
                        + "('s', now() - interval '20 days', now() - interval '20 days', 'empty', null), "
                        + "('s', now() - interval '10 days', now() - interval '10 days', 'good', null)",
                "INSERT INTO ibex.run (sync, started, ended, state) "
                        + "SELECT 's', now() - n * interval '1 minute', now() - n * interval '1 minute', 'good' "
                        + "FROM generate_series(1, 5) n",
                "INSERT INTO ibex.run (sync, started, state) VALUES ('s', now() - interval '40 days', 'running')");
        try (Repository r = Repository.open(Model.spec(repo))) {
            assertEquals(3, RunHistory.trim(r, 3, 7), "two good runs beyond the newest 3, one good run older than 7 days");
        }
        // kept: the 3 newest good runs, the last bad and last empty (status shows them), the open run
        assertEquals("bad:old failure,empty:,good:,good:,good:,running:", repo.scalar(
                "SELECT string_agg(state || ':' || coalesce(error, ''), ',' ORDER BY state) FROM ibex.run"));
    }
}
