package dev.ibex.status;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What status shows of the running controller. The controller's RunningController provides it, so
 * status, which the controller uses for its wording of durations, does not depend back on it.
 */
public interface ControllerInfo {

    /** Its id in ibex.controller; 0 when unknown. */
    default int id() {
        return 0;
    }

    long pid();

    /** The syncs it holds (several controllers share them out). */
    default List<String> syncs() {
        return List.of();
    }

    String host();

    /** Null while it starts up. */
    Instant started();

    Duration uptime();

    /** e.g. "pid 1234 on host db1, up 3h 2m 1s". */
    String describe();
}
