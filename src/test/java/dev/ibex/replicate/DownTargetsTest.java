package dev.ibex.replicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DownTargetsTest {

    /** A down target taken out of the sync: the kid no longer wakes to try it. */
    @Test
    void aTargetTakenOutOfTheSyncIsNoLongerWaitedFor() {
        DownTargets down = new DownTargets(Duration.ofSeconds(30), Duration.ofSeconds(60));
        down.failed("a", "refused", "08001");
        down.failed("b", "refused", "08001");
        down.keepOnly(List.of("a", "c"));
        assertEquals("08001", down.sqlstate("a"));
        assertEquals(null, down.sqlstate("b"));
        down.keepOnly(List.of("c"));
        assertEquals(Optional.empty(), down.untilNextTry());
        assertTrue(DownTargets.isDown("08001"));
    }
}
