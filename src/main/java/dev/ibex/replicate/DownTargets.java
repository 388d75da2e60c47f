package dev.ibex.replicate;

import dev.ibex.IbexException;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SessionSettings;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The targets of one sync that could not be reached, each retried on its own back-off (the
 * kid's kid_retry_min doubling up to kid_retry_max) while the runs go on to the others. Without
 * it a down target failed every run, the whole sync backed off, and each retry waited out the
 * pool's connection timeout: the healthy targets got changes once a minute. A skipped target
 * keeps its S_prev, so it takes everything it missed once it answers again.
 */
public final class DownTargets {

    private static final Logger LOG = LoggerFactory.getLogger(DownTargets.class);

    /** Why a target is down, its back-off, and when it is tried next. */
    private record Down(String error, String sqlstate, Backoff backoff, long retryAtNanos) {
    }

    private final Duration min;
    private final Duration max;
    /** By target db name. */
    private final Map<String, Down> down = new HashMap<>();
    /** Down targets left out until {@link #release}, whatever their back-off: see {@link #hold}. */
    private final Set<String> held = new HashSet<>();

    public DownTargets(Duration min, Duration max) {
        this.min = min;
        this.max = max.compareTo(min) < 0 ? min : max;
    }

    /**
     * Whether a failure of a target is one that skipping it until later can heal: its connection
     * failed or broke. A failure that needs a person (a password, a grant, a table) or a transient
     * one (a lock) fails the run as before.
     */
    static boolean isDown(String sqlstate) {
        return sqlstate != null && SqlState.kindOf(sqlstate) == SqlState.Kind.CONNECTION;
    }

    /**
     * {@code target} failed to connect or lost its connection: it is tried again after its
     * back-off, which this returns.
     */
    synchronized Duration failed(String target, String error, String sqlstate) {
        Down was = down.get(target);
        Backoff backoff = was == null ? new Backoff(min, max) : was.backoff();
        Duration delay = backoff.next();
        down.put(target, new Down(error, sqlstate, backoff, System.nanoTime() + delay.toNanos()));
        if (max.isZero()) {
            // a runner of its own (not the kid's) tries every target in every run; its result says it
            LOG.debug("Target db \"{}\" is down: {}", target, error);
        } else {
            LOG.warn("Target db \"{}\" is down, tried again in {} while the other targets go on: {}", target,
                    seconds(delay), error);
        }
        return delay;
    }

    /**
     * {@code target} could not be reached to end the sessions a previous owner of the sync has
     * there: the runs leave it out until whoever holds it has ended them and {@link #release}d it
     * (it tries again on the target's back-off, {@link #due}), so no commit the old owner prepared
     * there can land after this owner's writes.
     */
    public synchronized void hold(String target, String error, String sqlstate) {
        held.add(target);
        failed(target, error, sqlstate);
    }

    /** Whether a held target's back-off has elapsed: time to try it again. */
    public synchronized boolean due(String target) {
        Down d = down.get(target);
        return d == null || d.retryAtNanos() <= System.nanoTime();
    }

    /** The previous owner's sessions on {@code target} are ended: the runs may use it again. */
    public synchronized void release(String target) {
        if (held.remove(target)) {
            down.remove(target);
        }
    }

    /** {@code target} took a batch: it is up. */
    synchronized void reached(String target) {
        if (down.remove(target) != null) {
            LOG.info("Target db \"{}\" is reached again", target);
        }
    }

    /**
     * Why the run leaves {@code target} out, or empty when the run is to apply to it. A down target
     * whose back-off has elapsed is tried with a connection of its own first: a refused connection
     * fails in milliseconds there, where the pool would wait out its whole connection timeout.
     */
    Optional<String> skip(Db target, String applicationName) {
        Down d;
        synchronized (this) {
            d = down.get(target.name());
        }
        if (d == null) {
            return Optional.empty();
        }
        long left = d.retryAtNanos() - System.nanoTime();
        if (left > 0 || isHeld(target.name())) {
            return Optional.of(skipped(target.name(), d.error(), Duration.ofNanos(left)));
        }
        try {
            SessionSettings.connect(target.spec(), applicationName).close();
            return Optional.empty();
        } catch (IbexException | SQLException e) {
            // the connect's own failure names the db and the fix; the dialect's is the target's
            String error = e instanceof IbexException ? e.getMessage()
                    : PgErrors.describe(TargetSession.applyingTo(target), e);
            String sqlstate = SqlState.in(e);
            if (!isDown(sqlstate)) {
                // it answers now, with something else to say: the run meets that and reports it
                return Optional.empty();
            }
            Duration delay = failed(target.name(), error, sqlstate);
            return Optional.of(skipped(target.name(), error, delay));
        }
    }

    private static String skipped(String target, String error, Duration left) {
        return "Target db \"" + target + "\" is down and left out of this run (the other targets go on; tried again in "
                + seconds(left) + "): " + error;
    }

    /** "3 s": whole seconds, rounded up. */
    private static String seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000) + " s";
    }

    /** The SQLSTATE of {@code target}'s last failure; null when it is not down. */
    synchronized String sqlstate(String target) {
        Down d = down.get(target);
        return d == null ? null : d.sqlstate();
    }

    /** A target taken out of the sync is no longer waited for. */
    synchronized void keepOnly(Collection<String> targets) {
        down.keySet().retainAll(targets);
        held.retainAll(targets);
    }

    private synchronized boolean isHeld(String target) {
        return held.contains(target);
    }

    /** `ibex kick`: every down target is tried in the next run. */
    public synchronized void retryNow() {
        down.replaceAll((t, d) -> new Down(d.error(), d.sqlstate(), d.backoff(), System.nanoTime()));
    }

    /** How long until the next down target is to be tried; empty when none is down. */
    public synchronized Optional<Duration> untilNextTry() {
        long now = System.nanoTime();
        return down.values().stream().map(d -> Duration.ofNanos(Math.max(0, d.retryAtNanos() - now)))
                .min(Duration::compareTo);
    }
}
