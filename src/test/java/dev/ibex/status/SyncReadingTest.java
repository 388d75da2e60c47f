package dev.ibex.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.repository.OneTimeCopy;
import dev.ibex.repository.RunLog.Entry;
import dev.ibex.repository.RunState;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SyncReadingTest {

    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    private static Entry run(RunState state, int endedSecondsAgo, String sqlstate) {
        Instant ended = NOW.minusSeconds(endedSecondsAgo);
        return new Entry(1, ended.minusSeconds(2), ended, state, 0, 0, 0, 0, null,
                state == RunState.BAD ? "failed" : null, sqlstate);
    }

    private static SyncStatus sync(boolean paused, Entry running, Entry good, Entry bad, Long backlog) {
        return new SyncStatus("s", "active", paused, "r", "d", List.of("src"), List.of("dst"), 1, null, true, true,
                true, OneTimeCopy.NONE, running, good, bad, backlog, Map.of(), NOW);
    }

    @Test
    void aGoodSyncWithNothingPendingHasNoLagAndNeedsNobody() {
        SyncReading r = SyncReading.of(sync(false, null, run(RunState.GOOD, 30, null), null, 0L));
        assertEquals(0, r.lagSeconds());
        assertEquals(0, r.backlogRows());
        assertEquals(NOW.minusSeconds(30).getEpochSecond(), r.lastGoodEpochSeconds());
        assertFalse(r.failing());
        assertFalse(r.needsPerson());
    }

    @Test
    void unknownsAreNaN() {
        SyncReading r = SyncReading.of(sync(false, null, null, null, null));
        assertTrue(Double.isNaN(r.lagSeconds()));
        assertTrue(Double.isNaN(r.backlogRows()));
        assertTrue(Double.isNaN(r.lastGoodEpochSeconds()));
    }

    @Test
    void aPausedSyncNeedsAPerson() {
        assertTrue(SyncReading.of(sync(true, null, run(RunState.GOOD, 30, null), null, 0L)).needsPerson());
    }

    @Test
    void failingNeedsAPersonOnlyWhenRetryingCannotHelp() {
        SyncStatus missingTable = sync(false, null, run(RunState.GOOD, 300, null), run(RunState.BAD, 10, "42P01"), 5L);
        assertTrue(SyncReading.of(missingTable).failing());
        assertTrue(SyncReading.of(missingTable).needsPerson());
        assertFalse(SyncReading.cutOff(missingTable), "its source is read: the target lacks a table");

        SyncStatus refused = sync(false, null, null, run(RunState.BAD, 10, "08001"), null);
        assertTrue(SyncReading.of(refused).failing());
        assertFalse(SyncReading.of(refused).needsPerson());
        assertTrue(SyncReading.cutOff(refused));

        SyncStatus locked = sync(false, null, null, run(RunState.BAD, 10, "55P03"), null);
        assertFalse(SyncReading.of(locked).needsPerson());
        assertFalse(SyncReading.cutOff(locked));
    }

    @Test
    void aGoodRunAfterTheBadOneEndsTheFailure() {
        SyncStatus recovered = sync(false, null, run(RunState.EMPTY, 5, null), run(RunState.BAD, 60, "42501"), 0L);
        assertFalse(SyncReading.of(recovered).failing());
        assertFalse(SyncReading.of(recovered).needsPerson());
    }

    @Test
    void copyProgressComesFromTheRunningRun() {
        Entry copying = new Entry(2, NOW.minusSeconds(5), null, RunState.RUNNING, 0, 0, 0, 0,
                "copy public.t 40/100 rows (0 of 1 tables copied)", null, null);
        assertEquals(new CopyDetail(40, 100), SyncReading.of(sync(false, copying, null, null, null)).copy());
    }
}
