package dev.ibex.controller;

import dev.ibex.pg.SqlState;
import org.slf4j.Logger;

/**
 * How a kid logs its failed runs. A failure that needs a person goes to the log at ERROR once, with
 * its fix, not again on every retry until it changes; a failure that may heal by itself (a
 * connection, a lock) at WARN each time. The run that works again says so at INFO.
 */
final class FailureLog {

    private final Logger log;
    /** The needs-a-person error already logged at ERROR; null when the last failure was not one. */
    private String told;
    private int failures;

    FailureLog(Logger log) {
        this.log = log;
    }

    /** @return whether the failure was logged at ERROR or WARN, so the retry delay is worth a line too */
    boolean failed(String run, String error, String sqlstate) {
        failures++;
        if (!SqlState.needsAPerson(sqlstate)) {
            told = null;
            log.warn("{} failed: {}", run, error);
            return true;
        }
        if (error.equals(told)) {
            log.debug("{} failed again: {}", run, error);
            return false;
        }
        told = error;
        log.error("{} failed and needs attention: {} (fix: {}; ibex retries by itself)", run, error,
                SqlState.fixFor(sqlstate));
        return true;
    }

    void succeeded() {
        if (failures > 0) {
            log.info("Running again after {} failed run(s)", failures);
        }
        failures = 0;
        told = null;
    }
}
