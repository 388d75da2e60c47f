package dev.ibex.replicate;

import java.time.Duration;

/** A delay that doubles after each failure, up to a cap, and starts over after a success. */
public final class Backoff {

    private final Duration min;
    private final Duration max;
    private Duration next;

    public Backoff(Duration min, Duration max) {
        this.min = min;
        this.max = max.compareTo(min) < 0 ? min : max;
        this.next = min;
    }

    /** The delay before the next attempt; the one after it will be twice as long, up to the cap. */
    public Duration next() {
        Duration d = next;
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(max) > 0 ? max : doubled;
        return d;
    }

    public void reset() {
        next = min;
    }
}
