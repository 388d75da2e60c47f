package dev.ibex.controller;

import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.pg.SqlState.Kind;
import dev.ibex.replicate.Backoff;
import dev.ibex.replicate.ClaimFence;
import dev.ibex.replicate.DownTargets;
import dev.ibex.replicate.RunCache;
import dev.ibex.replicate.SyncRunner;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.status.Durations;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/**
 * The worker of one sync: a thread that runs the sync whenever it is kicked, one run at a time.
 * Kicks that arrive during a run coalesce into one more run. A failed run is logged, recorded and
 * retried after a delay that grows up to a cap, so a database that went away is picked up again
 * by itself once it is back. The kid owns its repository connection and reopens it when lost.
 */
final class Kid {

    private static final Logger log = LoggerFactory.getLogger(Kid.class);

    private final String sync;
    private final ConnectionSpec repositorySpec;
    private final DbPools pools;
    private volatile ControllerSettings settings;
    private final Thread thread;
    /** Shapes and checks the runs of this sync need not read again while nothing changed. */
    private final RunCache cache = new RunCache();
    private final FailureLog failures = new FailureLog(log);
    /** Targets the runs leave out until their own back-off elapses, so the others keep their lag. */
    private final DownTargets down;
    /** Whether the last failure was logged above DEBUG: a repeat that needs a person is not, nor its retry. */
    private boolean loudFailure = true;

    // guarded by this
    private boolean kicked;
    private boolean urgent;
    private boolean stopping;

    private Repository repo;
    /** "ibex c12": the application_name prefix of the controller's connections. */
    private final String application;
    /** The claim the runs must still hold; null: none is checked (one controller, no claims). */
    private final ClaimFence fence;
    /**
     * The controller the claim was taken from: its target sessions are cut off before the first
     * run that gets that far; null once done (volatile: a kid restarted after its thread died
     * takes over what is left of it).
     */
    private volatile Integer previous;
    /**
     * The dbs whose sessions of {@link #previous} are still to be ended, they could not be reached
     * (held in {@link #down} meanwhile); null: every db of the sync.
     */
    private Set<String> unfenced;
    /** Set when a run found the claim gone: the kid ended and the sync is another controller's. */
    private volatile boolean gaveUp;

    Kid(String sync, ConnectionSpec repositorySpec, DbPools pools, ControllerSettings settings) {
        this(sync, repositorySpec, pools, settings, "ibex", null, null);
    }

    Kid(String sync, ConnectionSpec repositorySpec, DbPools pools, ControllerSettings settings, String application,
        ClaimFence fence, Integer previous) {
        this.sync = sync;
        this.repositorySpec = repositorySpec;
        this.pools = pools;
        this.settings = settings;
        this.application = application;
        this.fence = fence;
        this.previous = previous;
        this.down = new DownTargets(settings.retryMin(), settings.retryMax());
        this.thread = new Thread(this::loop, "ibex-sync-" + sync);
    }

    ClaimFence fence() {
        return fence;
    }

    boolean gaveUp() {
        return gaveUp;
    }

    /** The controller whose sessions are still to be cut off; null when none. */
    Integer previous() {
        return previous;
    }

    String sync() {
        return sync;
    }

    void start() {
        thread.start();
    }

    boolean isAlive() {
        return thread.isAlive();
    }

    /** On every reload: the sync, its tables or its dbs may have changed, so the run cache goes too. */
    void settings(ControllerSettings s) {
        this.settings = s;
        cache.clear();
    }

    /**
     * Asks for one more run. An urgent kick (from `ibex kick`) also cuts short the wait before a
     * failed run is retried; autokick and checktime kicks do not, so a busy source cannot defeat
     * the back-off.
     */
    synchronized void kick(boolean urgentKick) {
        if (urgentKick) {
            down.retryNow();
        }
        kicked = true;
        urgent |= urgentKick;
        notifyAll();
    }

    /** Lets the current run finish, then ends the thread. */
    synchronized void stop() {
        stopping = true;
        notifyAll();
    }

    boolean join(Duration wait) throws InterruptedException {
        thread.join(Math.max(1, wait.toMillis()));
        return !thread.isAlive();
    }

    private void loop() {
        MDC.put("sync", sync);
        Backoff backoff = new Backoff(settings.retryMin(), settings.retryMax());
        log.info("Kid started");
        try {
            while (awaitKick()) {
                Ran ran = runOnce();
                if (gaveUp) {
                    break;
                }
                if (ran == Ran.FAILED) {
                    Duration delay = backoff.next();
                    Optional<Duration> targetDue = down.untilNextTry();
                    if (targetDue.isPresent() && targetDue.get().compareTo(delay) > 0) {
                        // every target down: a run before the first of them is due would only skip them all
                        delay = targetDue.get();
                    }
                    log.atLevel(loudFailure ? Level.WARN : Level.DEBUG).log("Retrying in {}",
                            Durations.age(delay.plusMillis(999)));
                    awaitRetry(delay);
                } else {
                    backoff.reset();
                    failures.succeeded();
                    Optional<Duration> downRetry = down.untilNextTry();
                    if (ran == Ran.TARGETS_DOWN && downRetry.isPresent()) {
                        // with no kick meanwhile (an idle source), the down target is still tried on time
                        awaitKickOrRetry(downRetry.get());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeRepository();
            log.info("Kid stopped");
            MDC.remove("sync");
        }
    }

    /** Waits for a kick; false when the kid is to stop. */
    private synchronized boolean awaitKick() throws InterruptedException {
        while (!kicked && !stopping) {
            wait();
        }
        kicked = false;
        urgent = false;
        return !stopping;
    }

    /** The back-off after a failed run (tests find a kid backing off by this method's name). */
    private void awaitRetry(Duration delay) throws InterruptedException {
        awaitDelay(delay, false);
    }

    /** Until a down target is due, on an idle source: any kick wakes the next run sooner. */
    private void awaitKickOrRetry(Duration delay) throws InterruptedException {
        awaitDelay(delay, true);
    }

    /**
     * Waits out {@code delay}, then runs again. A stop ends the wait, and so does a kick: any kick
     * when {@code anyKick} (a down target's retry on an idle source), else only an urgent one,
     * also one that came during the failed run (the back-off).
     */
    private synchronized void awaitDelay(Duration delay, boolean anyKick) throws InterruptedException {
        long deadline = System.nanoTime() + delay.toNanos();
        while (!stopping && !(anyKick ? kicked : urgent)) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        kicked = true;
    }

    /** How a run went, for what the kid does next. */
    private enum Ran {
        /** Good or empty. */
        OK,
        /** Applied to every target but the down ones, which are retried on their own back-off. */
        TARGETS_DOWN,
        /** Failed: the whole sync backs off. */
        FAILED
    }

    /**
     * Ends the previous owner's sessions on the sync's dbs before this kid's runs write there. A db
     * that cannot be reached is held out of the runs and tried again on its back-off, so a down
     * target does not stop the others after a takeover either.
     */
    private void cutOffPrevious() {
        Integer from = previous;
        if (from == null) {
            return;
        }
        Set<String> now = unfenced == null ? null : unfenced.stream().filter(down::due).collect(Collectors.toSet());
        if (now != null && now.isEmpty()) {
            return; // none due yet: the runs leave them out meanwhile
        }
        List<TargetFence.Unreached> missed = TargetFence.cutOff(repository(), pools, sync, from,
                db -> now == null || now.contains(db));
        Set<String> left = new HashSet<>();
        if (unfenced != null) {
            unfenced.stream().filter(db -> !now.contains(db)).forEach(left::add);
            now.stream().filter(db -> missed.stream().noneMatch(u -> u.db().equals(db))).forEach(down::release);
        }
        for (TargetFence.Unreached u : missed) {
            left.add(u.db());
            down.hold(u.db(), u.error(), u.sqlstate());
        }
        unfenced = left.isEmpty() ? null : left;
        if (left.isEmpty()) {
            previous = null;
        }
    }

    /**
     * One run; OK when it went well (good or empty). Every failure is retried with the same
     * back-off, whatever its kind: the delay is the documented kid_retry_min doubling up to
     * kid_retry_max. What the kind decides is the repository session: a run that failed on a
     * broken connection (SqlState.Kind.CONNECTION) may have lost the kid's own session, so its
     * failure is recorded on a fresh one. A failed run the runner recorded itself ended on a
     * working session. A run that failed only for targets that are down, having applied to the
     * others, is TARGETS_DOWN: those targets have their own back-off ({@link DownTargets}), and
     * the sync goes on at its usual pace for the rest.
     */
    private Ran runOnce() {
        try (SyncRunner runner = new SyncRunner(repository(), pools).cache(cache).announceRunEnd(Channels.RUN_END)
                .fence(fence).downTargets(down)) {
            cutOffPrevious();
            SyncRunner.Result result = runner.runOnce(sync);
            if (result.onlyTargetsDown()) {
                // DownTargets logged each try of a down target at WARN; every run between is no news
                log.info("Run {} {}: {} deleted, {} inserted on the targets reached", result.runId(), result.state(),
                        result.deletes(), result.inserts());
                log.debug("Run {}: {}", result.runId(), result.error());
                return Ran.TARGETS_DOWN;
            }
            if (result.outcome().failed()) {
                loudFailure = failures.failed("Run " + result.runId(), result.error(), result.sqlstate());
                return Ran.FAILED;
            }
            log.info("Run {} {}: {} deleted, {} inserted", result.runId(), result.state(), result.deletes(),
                    result.inserts());
            return Ran.OK;
        } catch (ClaimFence.Lost e) {
            giveUp(lostWhy(e.getMessage()));
            return Ran.FAILED;
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // an Error too: the run row must not stay "running", and the kid must back off, not die
            String error = e instanceof Error ? e + " (give the controller more memory: JAVA_OPTS=-Xmx...)"
                    : PgErrors.describe(e);
            log.debug("Run failure", e);
            if (PgErrors.kindOf(e) == Kind.CONNECTION) {
                closeRepository();
            }
            // before the failure is logged: a sync removed while its run started (the run row's
            // insert then breaks its foreign key) or taken by another controller is no failure of
            // this one's to report, let alone one that "needs attention"
            if (claimLost()) {
                giveUp(lostWhy("Sync " + sync + " is now run by another controller"));
                return Ran.FAILED;
            }
            loudFailure = failures.failed("Run", error, SqlState.in(e));
            recordFailure(error, SqlState.in(e));
            return Ran.FAILED;
        }
    }

    /**
     * After a run that failed outside the runner: a controller cut off from the repository finds
     * here that its claim went to another (its session was ended for it), and must not record a
     * failure over the new owner's run. False when the claim holds or cannot be read.
     */
    private boolean claimLost() {
        if (fence == null) {
            return false;
        }
        try {
            return !fence.holds(repository());
        } catch (RuntimeException e) {
            closeRepository();
            return false;
        }
    }

    /**
     * Why the claim went: a removed sync's claim goes with it (and a sync taken elsewhere stays
     * active), so "another controller" is said only when the sync is still there to be run.
     */
    private String lostWhy(String elsewhere) {
        try {
            Repository r = repository();
            String why = Departure.of(r, sync).map(d -> "Sync " + sync + " " + d.text()).orElse(elsewhere);
            r.rollback();
            return why;
        } catch (RuntimeException e) {
            closeRepository();
            return elsewhere + ", or was removed";
        }
    }

    private void giveUp(String why) {
        log.warn("{}: this controller gives the sync up", why);
        gaveUp = true;
        synchronized (this) {
            stopping = true;
        }
    }

    /** The runner could not record the failure itself (it threw): end its open run row, or add one. */
    private void recordFailure(String error, String sqlstate) {
        try {
            Repository r = repository();
            r.rollback();
            new RunLog(r).recordFailure(sync, error, sqlstate);
            r.commit();
            announceRunEnd();
        } catch (RuntimeException e) {
            log.warn("Could not record the failed run in the repository: {}", PgErrors.describe(e));
            closeRepository();
        }
    }

    private void announceRunEnd() {
        try {
            Repository r = repository();
            new ControllerClient(r).notify(Channels.RUN_END, sync);
            r.commit();
        } catch (RuntimeException e) {
            closeRepository();
        }
    }

    private Repository repository() {
        if (repo == null) {
            repo = Repository.open(repositorySpec, application + " kid " + sync);
        }
        return repo;
    }

    private void closeRepository() {
        if (repo != null) {
            repo.close();
            repo = null;
        }
    }
}
