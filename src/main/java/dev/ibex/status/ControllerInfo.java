package dev.ibex.status;

import java.time.Duration;
import java.time.Instant;

/**
 * What status shows of the running controller. The controller's RunningController provides it, so
 * status, which the controller uses for its wording of durations, does not depend back on it.
 */
public interface ControllerInfo {

    long pid();

    String host();

    /** Null while it starts up. */
    Instant started();

    Duration uptime();

    /** e.g. "pid 1234 on host db1, up 3h 2m 1s". */
    String describe();
}
