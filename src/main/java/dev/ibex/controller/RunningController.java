package dev.ibex.controller;

import dev.ibex.IbexException;
import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Repository;
import dev.ibex.status.ControllerInfo;
import dev.ibex.status.Durations;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A controller that holds its liveness lock on this repository, as its ibex.controller row
 * describes it. The lock, not the row, says whether it runs: a controller killed with -9 leaves its
 * row, but its connection, and with it the lock, goes away.
 *
 * @param syncs  the syncs it holds a claim on
 * @param now    the repository's clock when this was read, for ages
 */
public record RunningController(int id, long pid, String host, Instant started, Instant heartbeat, List<String> syncs,
                                Instant now) implements ControllerInfo {

    /** pg_advisory_lock(CONTROLLER_LOCK_CLASS, controller id): 'ibcc' in ASCII (1768055651, as LOCKED spells it). */
    static final int CONTROLLER_LOCK_CLASS = 0x69626363;

    /** The lock of a controller, as pg_locks shows it, for a row of ibex.controller c. */
    static final String LOCKED = """
            EXISTS (SELECT 1 FROM pg_locks l
                     WHERE l.locktype = 'advisory' AND l.granted
                       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND l.classid::bigint = 1768055651 AND l.objid::bigint = c.id AND l.objsubid = 2)""";

    private static final String RUNNING = """
            SELECT c.id, c.pid, c.host, c.started, c.heartbeat,
                   (SELECT array_agg(k.sync ORDER BY k.sync) FROM ibex.sync_claim k WHERE k.controller = c.id),
                   now()
              FROM ibex.controller c
             WHERE""" + " " + LOCKED + " ORDER BY c.started, c.id";

    /** A controller row beaten within the last {@code ?} seconds, whether or not its lock is held now. */
    private static final String BEATING = """
            SELECT EXISTS (SELECT 1 FROM ibex.controller c WHERE c.heartbeat > now() - make_interval(secs => ?))""";

    /** Whether a controller's heartbeat is younger than {@code age}, lock or no lock. Does not commit. */
    static boolean beatWithin(Repository repo, Duration age) {
        return repo.one(BEATING, rs -> rs.getBoolean(1), age.toMillis() / 1000.0).orElse(false);
    }

    /** The first controller to start of those that run, or empty when none does. Does not commit. */
    public static Optional<RunningController> find(Connection c) {
        return all(c).stream().findFirst();
    }

    /** The controllers that run, the first started first. Does not commit. */
    public static List<RunningController> all(Connection c) {
        try (PreparedStatement ps = c.prepareStatement(RUNNING); ResultSet rs = ps.executeQuery()) {
            List<RunningController> out = new ArrayList<>();
            while (rs.next()) {
                Array a = rs.getArray(6);
                List<String> syncs = a == null ? List.of() : Arrays.stream((Object[]) a.getArray())
                        .map(String::valueOf).toList();
                out.add(new RunningController(rs.getInt(1), rs.getLong(2), rs.getString(3), instant(rs, 4),
                        instant(rs, 5), syncs, instant(rs, 7)));
            }
            return out;
        } catch (SQLException e) {
            throw PgErrors.failed("Looking for running controllers", e);
        }
    }

    /** The running controller this host's pid file names, if any. Does not commit. */
    public static Optional<RunningController> local(Repository repo, PidFile pidFile) {
        Optional<Long> pid = pidFile.read();
        return all(repo.connection()).stream().filter(c -> c.isLocal(pid)).findFirst();
    }

    /** Tells the controller of this host found running, with the one fix. */
    public static IbexException alreadyRunning(Repository repo, Optional<RunningController> found) {
        String who = found.map(RunningController::describe).orElse("it just went away; try again");
        repo.rollback();
        return IbexException.badInput("Another ibex controller is running on this repository (" + who
                + "): stop it with 'ibex stop' first, or use 'ibex restart'");
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    /** Whether this is the controller of this host's pid file. */
    public boolean isLocal(Optional<Long> pidFilePid) {
        return pidFilePid.map(p -> p == pid).orElse(false) && host.equals(ControllerSession.hostname());
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
