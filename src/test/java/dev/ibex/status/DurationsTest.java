package dev.ibex.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void agesLeaveOutLeadingZeroUnits() {
        assertEquals("0s", Durations.age(Duration.ZERO));
        assertEquals("15s", Durations.age(Duration.ofSeconds(15)));
        assertEquals("26m 15s", Durations.age(Duration.ofSeconds(26 * 60 + 15)));
        assertEquals("3h 0m 5s", Durations.age(Duration.ofSeconds(3 * 3600 + 5)));
        assertEquals("2d 1h 0m 0s", Durations.age(Duration.ofHours(49)));
    }

    @Test
    void timesShowTheDateOnlyWhenNotToday() {
        Instant now = Instant.parse("2025-06-04T19:40:00Z");
        assertEquals("19:32:21", Durations.when(Instant.parse("2025-06-04T19:32:21Z"), now, ZoneOffset.UTC));
        assertEquals("Jun 03, 2025 23:59:59", Durations.when(Instant.parse("2025-06-03T23:59:59Z"), now,
                ZoneOffset.UTC));
    }
}
