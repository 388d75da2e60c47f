package dev.ibex.controller;

import dev.ibex.IbexException;
import dev.ibex.status.MetricsAddress;
import dev.ibex.status.MetricsEndpoint;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.Sync;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon: runs one {@link Kid} per active, unpaused sync it holds, listens for kicks, reloads
 * and stop on the repository, watches the sources for autokick, and runs the periodic duties.
 * Everything but the kids, source watches and duties happens on the calling thread.
 *
 * <p>Several controllers may share a repository (README, "Several controllers"). Coordination is
 * PostgreSQL's own locks (Quartz's clustered JobStore hands out jobs, not long-lived workers, and
 * has no fencing token to check inside an apply transaction). Liveness: a session advisory lock on
 * the controller's id plus a heartbeat every {@link #BALANCE}; dead = lock free or heartbeat older
 * than controller_lease, and the finder ends its repository sessions. Assignment ({@link Claims}):
 * each round takes free and dead controllers' syncs up to ceil(syncs / live) and gives back the
 * surplus after the kid's run; every claim has a new epoch. Fencing: (1) ClaimFence, the claim read
 * FOR SHARE before the run row, each target commit and the batch's S_prev; (2) {@link TargetFence},
 * the old owner's sessions on the sync's dbs ended before the new owner's first run; (3) the
 * per-sync repository lock of every run. Failure modes: a repository blip longer than a round
 * moves the controller's syncs (churn, no harm); without the right to end others' backends on a
 * target, layer 2 only warns; whole-table copies check the claim once all their workers have
 * connected, not before each commit (layer 2 ends those connections and the source snapshot they
 * read); while the repository is down nothing moves and no claim check passes.
 */
public final class Controller {

    private static final Logger log = LoggerFactory.getLogger(Controller.class);
    /** How often the kids are supervised, and failed capture checks tried again. */
    private static final Duration SUPERVISE = Duration.ofSeconds(10);
    /** How often the controller beats its heartbeat and shares the syncs out again (Claims). */
    static final Duration BALANCE = Duration.ofSeconds(2);

    private final ConnectionSpec spec;
    /** Shared by the kids and the duties; the source watches have connections of their own. */
    private final DbPools pools = new DbPools();
    private final Map<String, Db> knownDbs = new HashMap<>();
    private final CaptureRetries captureRetries = new CaptureRetries();
    private final CaptureWatch captureWatch = new CaptureWatch();
    /** By source db: its purge's transient failures in a row (the purge duty and a reload both purge). */
    private final Map<String, Integer> purgesPutOff = new ConcurrentHashMap<>();
    private final PidFile pidFile;
    private final String invocation;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Kids kids;
    private final AutokickWatches watches = new AutokickWatches(sync -> kick(sync, false));

    private volatile boolean stopRequested;
    private ControllerSession session;
    private ControllerSettings settings = ControllerSettings.DEFAULTS;
    private Duties duties;
    private Checktimes checktimes;
    private Optional<MetricsAddress> metricsAddress = Optional.empty();
    private MetricsEndpoint metrics;
    /** The syncs this controller holds a claim on, as of the last round of {@link Claims}. */
    private Map<String, Claims.Claim> held = Map.of();
    /** Syncs given back whose kids are finishing their run: the claim goes when the kid has ended. */
    private final Map<String, Leaving> leaving = new HashMap<>();

    /** A claim given back and the kid (null: none) that must end before it goes. */
    private record Leaving(Claims.Claim claim, Kid kid) {
    }

    /** How many controllers lived at the last round, this one included. */
    private int live = 1;

    public Controller(ConnectionSpec spec, PidFile pidFile, String invocation) {
        this.spec = spec;
        this.pidFile = pidFile;
        this.invocation = invocation;
        this.kids = new Kids(spec, pools);
    }

    /** Serves the metrics on this address while it runs; none: no endpoint. */
    public Controller metrics(Optional<MetricsAddress> address) {
        this.metricsAddress = address;
        return this;
    }

    /** Runs until stopped (`ibex stop`, SIGTERM) or until another controller has taken over. */
    public void run() {
        session = new ControllerSession(spec);
        Optional<RunningController> local = RunningController.local(session.repo(), pidFile);
        if (local.isPresent() || !session.tryLock()) {
            IbexException e = RunningController.alreadyRunning(session.repo(), local);
            session.close();
            throw e;
        }
        pools.applicationName(session.application(""));
        kids.application(session.application(""));
        Thread hook = new Thread(this::stopFromSignal, "ibex-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            start();
            loop();
        } finally {
            shutdown();
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
    }

    /** With the lock held: ends the dead controller's runs, announces this one, starts the kids and duties. */
    private void start() {
        Repository repo = session.repo();
        settings = ControllerSettings.read(repo);
        if (RunningController.all(repo.connection()).isEmpty()) {
            // alone: no runner of an earlier controller is left (with others, a taken sync's open runs end)
            new RunLog(repo).endAllOpenRuns("Old entry ended (controller pid " + session.pid() + " started)");
        }
        // before it announces itself: a taken port fails the start instead of a controller that looks up
        metrics = metricsAddress.map(a -> MetricsEndpoint.start(a, spec, pools, kids::size)).orElse(null);
        session.announce();
        writePidFile();
        duties = new Duties();
        duties.every("purge", settings.purgeInterval(), this::purgeDeltas);
        duties.every("capture", SUPERVISE, () -> {
            if (captureRetries.retry(spec, session.application("capture"))) {
                kids.kickAll();
            }
        });
        duties.every("trim", settings.trimInterval(),
                () -> Housekeeping.trimRuns(spec, session.application("trim"), settings));
        checktimes = new Checktimes(duties, sync -> kick(sync, false));
        reload("", true);
        log.info("ibex controller started: pid {} on {}, repository {} at {}{}", session.pid(), session.host(),
                spec.dbname(), spec.hostPort(), live > 1 ? " (controller c" + session.id() + " of " + live + ")" : "");
    }

    private void stopFromSignal() {
        if (finished.getCount() == 0) {
            return;
        }
        log.info("Stopping on a signal");
        stopRequested = true;
        try {
            finished.await(settings.stopWait().plusSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the main loop ------------------------------------------------------------------------

    private void loop() {
        long nextBalance = System.nanoTime() + BALANCE.toNanos();
        long nextSupervise = System.nanoTime() + SUPERVISE.toNanos();
        while (!stopRequested) {
            try {
                PGNotification[] ns = session.notifications(250);
                if (ns != null) {
                    for (PGNotification n : ns) {
                        handle(n.getName(), n.getParameter());
                    }
                }
                if (System.nanoTime() > nextBalance && !stopRequested) {
                    balance();
                    nextBalance = System.nanoTime() + BALANCE.toNanos();
                }
                if (System.nanoTime() > nextSupervise) {
                    kids.supervise(settings);
                    nextSupervise = System.nanoTime() + SUPERVISE.toNanos();
                }
            } catch (SQLException | RuntimeException e) {
                session.repo().rollback();
                if (stopRequested) {
                    break;
                }
                ControllerSession.Rejoined r = session.reconnect(e, settings, () -> stopRequested);
                if (r == ControllerSession.Rejoined.STOP) {
                    break;
                }
                if (r == ControllerSession.Rejoined.DECLARED_DEAD) {
                    log.warn("The other controllers took this one for dead while it was cut off: it keeps only the "
                            + "syncs none of them took");
                }
                nextBalance = 0;
                kids.kickAll();
            }
        }
    }

    /**
     * One round of {@link Claims}: heartbeat, the dead controllers' syncs, a fair share. The kids
     * of syncs given back stop (after their current run) before their claims go; the kids of syncs
     * taken start with a kick, once their capture is checked.
     */
    private void balance() {
        Repository repo = session.repo();
        Claims.Balance b = Claims.rebalance(repo, session.id(), settings.lease(), !stopRequested);
        repo.commit();
        if (b == null) {
            return;
        }
        boolean changed = !b.held().equals(held);
        if (b.live() != live) {
            log.info("{} controller(s) share the syncs; this one holds {}", b.live(), b.held().size());
        }
        live = b.live();
        held = b.held();
        for (String sync : b.taken()) {
            Claims.Claim c = held.get(sync);
            if (c.previous() != null) {
                log.info("Took sync {} over from controller c{}", sync, c.previous());
            }
        }
        checkCapture(Set.of(), b);
        if (giveBack(b) || changed) {
            reconcileKids(Set.of(), false);
            repo.commit();
        }
    }

    private void handle(String channel, String payload) {
        switch (channel) {
            case Channels.KICK -> {
                if (!kick(payload, true) && !heldElsewhere(payload)) {
                    // a sync added since the last reload: read it now rather than make the user reload;
                    // that starts its kid with a kick, which answers this one (a second, urgent kick
                    // could skip the back-off after a failed first run)
                    reload(payload, false);
                    if (!kids.has(payload)) {
                        log.warn("Kick of sync {} ignored: it is not active, or paused", payload);
                    }
                }
            }
            case Channels.STOP -> {
                // "@12 reason" is meant for controller c12 alone (`ibex stop` on its host)
                String reason = payload;
                if (payload.startsWith("@")) {
                    int space = payload.indexOf(' ');
                    String target = payload.substring(1, space < 0 ? payload.length() : space);
                    if (!target.equals(Integer.toString(session.id()))) {
                        log.debug("Stop of controller c{} ignored: this is c{}", target, session.id());
                        return;
                    }
                    reason = space < 0 ? "" : payload.substring(space + 1);
                }
                log.info("Stop requested{}", reason.isBlank() ? "" : ": " + reason);
                stopRequested = true;
            }
            case Channels.RELOAD -> {
                String syncs = Channels.reloadSyncs(payload);
                log.info("Reload requested{}", syncs.isBlank() ? "" : " for " + syncs);
                reload(syncs, false);
                // the request's payload, token and all: the answer to that request and no other
                new ControllerClient(session.repo()).notify(Channels.RELOADED, payload);
                session.repo().commit();
            }
            default -> log.debug("Ignoring notification {} {}", channel, payload);
        }
    }

    private boolean kick(String sync, boolean urgent) {
        return kids.kick(sync, urgent);
    }

    /**
     * The syncs above this controller's share, or no longer active: their kids stop after their
     * run, then the claims go. True when a sync given back is wanted again under the same claim
     * (resumed or activated before its claim went): it stays this controller's, and its kid is to
     * start. Releasing that claim instead let the reload that resumed it start a kid under the
     * claim just given back, whose first run then found it gone ("run by another controller").
     */
    private boolean giveBack(Claims.Balance b) {
        for (Claims.Claim c : b.surplus()) {
            // not waited for here: the main loop must go on beating the heartbeat while a long run ends
            leaving.computeIfAbsent(c.sync(), s -> new Leaving(c, kids.detach(s, why(s, "goes to another controller"))));
        }
        boolean kept = false;
        for (var it = leaving.values().iterator(); it.hasNext(); ) {
            Leaving l = it.next();
            if (l.kid() != null && l.kid().isAlive()) {
                continue;
            }
            it.remove();
            if (l.claim().equals(b.held().get(l.claim().sync()))) {
                kept = true;
            } else {
                Claims.release(session.repo(), session.id(), l.claim());
                session.repo().commit();
            }
        }
        return kept;
    }

    /** Whether another live controller holds the sync: its kicks are that one's to answer. */
    private boolean heldElsewhere(String sync) {
        Optional<Integer> owner = Claims.owner(session.repo(), sync);
        return owner.isPresent() && owner.get() != session.id();
    }

    // ---- reload -------------------------------------------------------------------------------

    /**
     * Makes the running kids, checktime timers and source watches match the repository.
     *
     * @param payload  empty for every sync, else the comma-separated syncs to re-activate (and kick)
     */
    private void reload(String payload, boolean starting) {
        Repository repo = session.repo();
        settings = ControllerSettings.read(repo);
        kids.settings(settings);
        Housekeeping.forgetChangedDbs(repo, pools, knownDbs);
        Set<String> named = payload.isBlank() ? Set.of() : Set.of(payload.split(","));
        // a sync activated since the last round is claimed now, not up to a round later
        Claims.Balance b = Claims.rebalance(repo, session.id(), settings.lease(), true);
        repo.commit();
        if (b != null) {
            // else another round held the claims' lock: the claims stay as they were until the next
            held = b.held();
            live = b.live();
            giveBack(b);
        }
        Map<String, Sync> wanted = wantedSyncs();
        checkCapture(named.isEmpty() ? wanted.keySet() : named, b);
        if (starting) {
            // syncs whose tables did not change while no controller ran start from now, not from the
            // whole log since their last run: every sync starts with a run
            purgeDeltas();
        }
        reconcileKids(named, starting);
        // after the update, so that a change the watch reports from now on kicks them too
        watches.update(repo, settings).forEach(s -> kick(s, false));
        repo.commit();
    }

    /**
     * Brings the capture of these syncs' sources, and of the syncs the round {@code b} (null: none)
     * took, up to date before their kids run. A sync taken from another controller needs it as much
     * as one named in a reload: that one may have died (or stopped) before its check went through,
     * and its retries went with it; a table joined without capture would be copied whole once and
     * then never log another write. Failed checks are tried again by the capture duty.
     */
    private void checkCapture(Set<String> syncs, Claims.Balance b) {
        Set<String> all = new LinkedHashSet<>(syncs);
        if (b != null) {
            all.addAll(b.taken());
        }
        captureRetries.add(Housekeeping.reconcileCapture(session.repo(), all));
    }

    /** Starts the kids of the syncs this controller holds (with a kick), and stops the others. */
    private void reconcileKids(Set<String> named, boolean starting) {
        Map<String, Sync> wanted = wantedSyncs();
        for (String name : kids.syncs()) {
            if (!wanted.containsKey(name)) {
                String why = why(name, live == 1 ? "is no longer claimed by this controller"
                        : "is run by another controller now");
                if (live == 1) {
                    kids.stop(name, settings.stopWait(), why);
                } else {
                    // with others, waiting here would stop the heartbeat and look like death
                    kids.detach(name, why);
                }
            }
        }
        for (Sync s : wanted.values()) {
            Claims.Claim c = held.get(s.name());
            if (kids.start(s.name(), settings, c.fence(session.id()), c.previous()) || starting
                    || named.contains(s.name())) {
                kids.kick(s.name(), false);
            }
            checktimes.schedule(s);
        }
        checktimes.keepOnly(wanted.keySet());
        log.info("Running {} sync(s): {}", wanted.size(), String.join(", ", wanted.keySet()));
    }

    /** Why the sync's kid stops: what happened to it, else {@code elsewhere} (it is still active). */
    private String why(String sync, String elsewhere) {
        return Departure.of(session.repo(), sync).map(Departure::text).orElse(elsewhere);
    }

    /** The active, unpaused syncs this controller holds, by name. */
    private Map<String, Sync> wantedSyncs() {
        Map<String, Sync> wanted = new LinkedHashMap<>();
        for (Sync s : session.repo().syncs()) {
            if (s.active() && !s.paused() && held.containsKey(s.name()) && !leaving.containsKey(s.name())) {
                wanted.put(s.name(), s);
            }
        }
        return wanted;
    }

    private void purgeDeltas() {
        Housekeeping.purgeDeltas(spec, session.application("purge"), pools, captureWatch, purgesPutOff);
    }

    // ---- start and stop -----------------------------------------------------------------------

    private void writePidFile() {
        long pid = session.pid();
        pidFile.read().filter(p -> p != pid).ifPresent(p -> log.info("Replacing the stale pid file {} (pid {})",
                pidFile.path(), p));
        try {
            pidFile.write(pid, invocation);
        } catch (IOException e) {
            log.warn("Cannot write the pid file {}: {}", pidFile.path(), e.getMessage());
        }
    }

    private void shutdown() {
        if (metrics != null) {
            metrics.close();
        }
        watches.stopAll();
        if (duties != null) {
            duties.close();
        }
        kids.stopAll(settings.stopWait());
        pools.closeAll();
        session.leave();
        pidFile.removeIfOwnedBy(session.pid());
        session.close();
        log.info("ibex controller stopped");
    }
}
