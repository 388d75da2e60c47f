package dev.ibex.pg;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * pgjdbc logs through java.util.logging, which would print its own two-line warnings (such as
 * "Unsupported Server Version: 8.4.1") on stderr beside ibex's one-line messages. ibex says what
 * matters about a server in its own words (see {@link SqlFeature#oldSourceNotes}), and pgjdbc's
 * errors reach it as exceptions, so the driver's log is silenced.
 */
public final class DriverLog {

    /** Held, so that the level set here is not lost when the logger is garbage collected. */
    private static final Logger PGJDBC = Logger.getLogger("org.postgresql");

    private DriverLog() {
    }

    public static void quiet() {
        PGJDBC.setLevel(Level.OFF);
    }
}
