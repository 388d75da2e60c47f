package dev.ibex.controller;

import dev.ibex.IbexException;
import dev.ibex.capture.Capture;
import dev.ibex.capture.DeltaPurge;
import dev.ibex.status.MetricsAddress;
import dev.ibex.status.MetricsEndpoint;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.Sync;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon: holds the repository's advisory lock, runs one {@link Kid} per active, unpaused sync,
 * listens for kicks, reloads and stop on the repository, watches the sources for autokick, and
 * runs the periodic duties. Everything but the kids, source watches and duties happens on the
 * calling thread.
 */
public final class Controller {

    private static final Logger log = LoggerFactory.getLogger(Controller.class);
    private static final Duration HEARTBEAT = Duration.ofSeconds(10);

    private static final String SOURCES = """
            SELECT DISTINCT m.db FROM ibex.sync s JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup
             WHERE m.role = 'source' AND s.name = ANY(?) ORDER BY m.db""";

    private static final String ALL_SOURCES = """
            SELECT DISTINCT m.db FROM ibex.sync s JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup
             WHERE m.role = 'source' ORDER BY m.db""";

    private final ConnectionSpec spec;
    /** Shared by the kids and the duties; the source watches have connections of their own. */
    private final DbPools pools = new DbPools();
    private final Map<String, Db> knownDbs = new HashMap<>();
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
        if (!session.tryLock()) {
            IbexException e = alreadyRunning(session.repo());
            session.close();
            throw e;
        }
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
        new RunLog(repo).endAllOpenRuns("Old entry ended (controller pid " + session.pid() + " started)");
        // before it announces itself: a taken port fails the start instead of a controller that looks up
        metrics = metricsAddress.map(a -> MetricsEndpoint.start(a, spec, pools, kids::size)).orElse(null);
        session.announce();
        writePidFile();
        duties = new Duties();
        duties.every("purge", settings.purgeInterval(), this::purgeDeltas);
        duties.every("trim", settings.trimInterval(), this::trimRuns);
        checktimes = new Checktimes(duties, sync -> kick(sync, false));
        reload("", true);
        log.info("ibex controller started: pid {} on {}, repository {} at {}", session.pid(), session.host(),
                spec.dbname(), spec.hostPort());
    }

    /** Tells the controller found holding the lock, with the one fix. */
    public static IbexException alreadyRunning(Repository repo) {
        String who = RunningController.find(repo.connection()).map(RunningController::describe)
                .orElse("it just went away; try again");
        repo.rollback();
        return IbexException.badInput("Another ibex controller is running on this repository (" + who
                + "): stop it with 'ibex stop' first, or use 'ibex restart'");
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
        long nextBeat = System.nanoTime() + HEARTBEAT.toNanos();
        while (!stopRequested) {
            try {
                PGNotification[] ns = session.notifications(500);
                if (ns != null) {
                    for (PGNotification n : ns) {
                        handle(n.getName(), n.getParameter());
                    }
                }
                if (System.nanoTime() > nextBeat) {
                    session.heartbeat();
                    kids.supervise(settings);
                    nextBeat = System.nanoTime() + HEARTBEAT.toNanos();
                }
            } catch (SQLException | RuntimeException e) {
                if (stopRequested || !session.reconnect(e, settings, () -> stopRequested)) {
                    break;
                }
                kids.kickAll();
            }
        }
    }

    private void handle(String channel, String payload) {
        switch (channel) {
            case Channels.KICK -> {
                if (!kick(payload, true)) {
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
                log.info("Stop requested{}", payload.isBlank() ? "" : ": " + payload);
                stopRequested = true;
            }
            case Channels.RELOAD -> {
                log.info("Reload requested{}", payload.isBlank() ? "" : " for " + payload);
                reload(payload, false);
                new ControllerClient(session.repo()).notify(Channels.RELOADED, payload);
                session.repo().commit();
            }
            default -> log.debug("Ignoring notification {} {}", channel, payload);
        }
    }

    private boolean kick(String sync, boolean urgent) {
        return kids.kick(sync, urgent);
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
        forgetChangedDbs();
        Set<String> named = payload.isBlank() ? Set.of() : Set.of(payload.split(","));
        Map<String, Sync> wanted = wantedSyncs();
        for (String name : kids.syncs()) {
            if (!wanted.containsKey(name)) {
                kids.stop(name, settings.stopWait());
            }
        }
        reconcileCapture(named.isEmpty() ? wanted.keySet() : named);
        if (starting) {
            // syncs whose tables did not change while no controller ran start from now, not from the
            // whole log since their last run: every sync starts with a run
            purgeDeltas();
        }
        for (Sync s : wanted.values()) {
            if (kids.start(s.name(), settings) || starting || named.contains(s.name())) {
                kids.kick(s.name(), false);
            }
            checktimes.schedule(s);
        }
        checktimes.keepOnly(wanted.keySet());
        watches.update(repo, settings);
        repo.commit();
        log.info("Running {} sync(s): {}", wanted.size(), String.join(", ", wanted.keySet()));
    }

    /** The active, unpaused syncs, by name. */
    private Map<String, Sync> wantedSyncs() {
        Map<String, Sync> wanted = new LinkedHashMap<>();
        for (Sync s : session.repo().syncs()) {
            if (s.active() && !s.paused()) {
                wanted.put(s.name(), s);
            }
        }
        return wanted;
    }

    /** A db whose connection settings changed (or that went away) gets fresh pooled connections. */
    private void forgetChangedDbs() {
        Map<String, Db> now = new HashMap<>();
        session.repo().dbs().forEach(d -> now.put(d.name(), d));
        knownDbs.forEach((name, before) -> {
            if (!before.equals(now.get(name))) {
                pools.close(before);
            }
        });
        knownDbs.clear();
        knownDbs.putAll(now);
    }

    /** Bucardo validates a sync when it activates it; here the capture objects are brought up to date. */
    private void reconcileCapture(Set<String> syncs) {
        if (syncs.isEmpty()) {
            return;
        }
        Repository repo = session.repo();
        List<String> dbs = repo.list(SOURCES, rs -> rs.getString(1), new ArrayList<>(syncs));
        for (String name : dbs) {
            try {
                Db db = repo.db(name).orElseThrow();
                Capture.reconcile(repo, db);
                repo.commit();
            } catch (RuntimeException e) {
                repo.rollback();
                log.warn("Could not check the capture triggers on db {}: {}; its syncs retry by themselves", name,
                        PgErrors.describe(e));
            }
        }
    }

    // ---- duties -------------------------------------------------------------------------------

    private void purgeDeltas() {
        try (Repository r = Repository.open(spec, "ibex purge")) {
            for (String name : r.list(ALL_SOURCES, rs -> rs.getString(1))) {
                Db db = r.db(name).orElse(null);
                if (db == null || !db.active()) {
                    continue;
                }
                try {
                    long n = DeltaPurge.purge(r, pools, db);
                    if (n > 0) {
                        log.info("Purged {} applied change(s) on db {}", n, name);
                    }
                } catch (RuntimeException e) {
                    log.warn("Could not purge applied changes on db {}: {}", name, PgErrors.describe(e));
                }
            }
            r.rollback();
        }
    }

    private void trimRuns() {
        try (Repository r = Repository.open(spec, "ibex trim")) {
            int n = RunHistory.trim(r, settings.keepRuns(), settings.keepDays());
            if (n > 0) {
                log.info("Deleted {} old run(s) from the history", n);
            }
        }
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
