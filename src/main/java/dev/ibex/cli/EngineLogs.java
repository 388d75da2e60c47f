package dev.ibex.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine logs a failed run with its stack trace, for the controller's log file. A verb that
 * runs syncs itself (compare, cutover) reports the failure in its own words instead, so the
 * engine's warnings stay off the terminal unless --debug.
 */
final class EngineLogs implements AutoCloseable {

    private final Logger logger;
    private final Level before;

    private EngineLogs(Logger logger, Level before) {
        this.logger = logger;
        this.before = before;
    }

    static EngineLogs quietUnless(boolean debug) {
        if (!(LoggerFactory.getLogger("dev.ibex.replicate") instanceof Logger l) || debug) {
            return new EngineLogs(null, null);
        }
        Level before = l.getLevel();
        l.setLevel(Level.ERROR);
        return new EngineLogs(l, before);
    }

    @Override
    public void close() {
        if (logger != null) {
            logger.setLevel(before);
        }
    }
}
