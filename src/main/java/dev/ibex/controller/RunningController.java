package dev.ibex.controller;

import dev.ibex.pg.PgErrors;
import dev.ibex.status.ControllerInfo;
import dev.ibex.status.Durations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;

/**
 * The controller that holds this repository's advisory lock, as the ibex.controller row describes
 * it. The lock, not the row, says whether one runs: a controller killed with -9 leaves its row, but
 * its connection, and with it the lock, goes away.
 *
 * @param now  the repository's clock when this was read, for ages
 */
public record RunningController(long pid, String host, Instant started, Instant heartbeat, Instant now)
        implements ControllerInfo {

    /** pg_try_advisory_lock(LOCK_CLASS, LOCK_ID): 'ibex' in ASCII, and 1. */
    static final int LOCK_CLASS = 0x69626578;
    static final int LOCK_ID = 1;

    private static final String HOLDER = """
            SELECT c.pid, c.host, c.started, c.heartbeat, now()
              FROM pg_locks l
              LEFT JOIN ibex.controller c ON true
             WHERE l.locktype = 'advisory' AND l.granted
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid::bigint = ? AND l.objid::bigint = ? AND l.objsubid = 2""";

    /** The running controller, or empty when no session holds the lock. Does not commit. */
    public static Optional<RunningController> find(Connection c) {
        try (PreparedStatement ps = c.prepareStatement(HOLDER)) {
            ps.setLong(1, LOCK_CLASS);
            ps.setLong(2, LOCK_ID);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                long pid = rs.getLong(1);
                if (rs.wasNull()) {
                    // the lock is taken but the row not yet written: starting up
                    return Optional.of(new RunningController(0, "?", null, null, instant(rs, 5)));
                }
                return Optional.of(new RunningController(pid, rs.getString(2), instant(rs, 3), instant(rs, 4),
                        instant(rs, 5)));
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Looking for a running controller", e);
        }
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    @Override
    public Duration uptime() {
        return started == null ? Duration.ZERO : Duration.between(started, now);
    }

    /** "pid 1234 on host db1, up 3h 2m 1s" */
    @Override
    public String describe() {
        if (started == null) {
            return "starting up";
        }
        return "pid " + pid + " on host " + host + ", up " + Durations.age(uptime());
    }
}
