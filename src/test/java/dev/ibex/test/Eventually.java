package dev.ibex.test;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting for what a background thread or process does, without a fixed sleep. */
public final class Eventually {

    private Eventually() {
    }

    /** Polls until the condition holds; fails with {@code what} after {@code limit}. */
    public static void eventually(Duration limit, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Not within " + limit.toSeconds() + " s: " + what);
            }
            Thread.sleep(100);
        }
    }
}
