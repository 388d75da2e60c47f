package dev.ibex.controller;

import dev.ibex.IbexException;
import dev.ibex.capture.Capture;
import dev.ibex.capture.DeltaPurge;
import dev.ibex.metrics.MetricsAddress;
import dev.ibex.metrics.MetricsEndpoint;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.Sync;
import dev.ibex.status.Durations;
import java.io.IOException;
import java.net.InetAddress;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
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

    private static final String TRY_LOCK = "SELECT pg_try_advisory_lock(?, ?)";
    private static final String ANNOUNCE = """
            INSERT INTO ibex.controller (pid, host, started, heartbeat)
            VALUES (?, ?, coalesce(?, now()), now()) RETURNING started""";
    private static final String AUTOKICK_TABLES = """
            SELECT s.name, m.db, r.schemaname || '.' || r.tablename
              FROM ibex.sync s
              JOIN ibex.relgroup_member g ON g.relgroup = s.relgroup
              JOIN ibex.relation r ON r.id = g.relation
              JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup AND m.role = 'source'
             WHERE s.status = 'active' AND NOT s.paused AND coalesce(r.autokick, s.autokick)""";
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
    private final long pid = ProcessHandle.current().pid();
    private final String host = hostname();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Map<String, Kid> kids = new ConcurrentHashMap<>();
    private final Map<String, SourceWatch> watches = new HashMap<>();
    private final Map<String, Db> watchedDbs = new HashMap<>();
    private final Map<String, Long> checktimes = new HashMap<>();

    private volatile boolean stopRequested;
    /** "db\0schema.table" -> syncs that autokick on it. */
    private volatile Map<String, List<String>> autokick = Map.of();
    private Repository repo;
    private ControllerSettings settings = ControllerSettings.DEFAULTS;
    private OffsetDateTime started;
    private Duties duties;
    private Optional<MetricsAddress> metricsAddress = Optional.empty();
    private MetricsEndpoint metrics;

    public Controller(ConnectionSpec spec, PidFile pidFile, String invocation) {
        this.spec = spec;
        this.pidFile = pidFile;
        this.invocation = invocation;
    }

    /** Serves the metrics on this address while it runs; none: no endpoint. */
    public Controller metrics(Optional<MetricsAddress> address) {
        this.metricsAddress = address;
        return this;
    }

    /** Runs until stopped (`ibex stop`, SIGTERM) or until another controller has taken over. */
    public void run() {
        repo = Repository.open(spec, "ibex controller");
        if (!tryLock()) {
            IbexException e = alreadyRunning(repo);
            repo.close();
            throw e;
        }
        Thread hook = new Thread(this::stopFromSignal, "ibex-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            settings = ControllerSettings.read(repo);
            new RunLog(repo).endAllOpenRuns("Old entry ended (controller pid " + pid + " started)");
            // before it announces itself: a taken port fails the start instead of a controller that looks up
            metrics = metricsAddress.map(a -> MetricsEndpoint.start(a, spec, pools, kids::size)).orElse(null);
            announce();
            writePidFile();
            duties = new Duties();
            duties.every("purge", settings.purgeInterval(), this::purgeDeltas);
            duties.every("trim", settings.trimInterval(), this::trimRuns);
            reload("", true);
            log.info("ibex controller started: pid {} on {}, repository {} at {}", pid, host, spec.dbname(),
                    spec.hostPort());
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
                PGNotification[] ns = repo.connection().unwrap(PGConnection.class).getNotifications(500);
                if (ns != null) {
                    for (PGNotification n : ns) {
                        handle(n.getName(), n.getParameter());
                    }
                }
                if (System.nanoTime() > nextBeat) {
                    repo.update("UPDATE ibex.controller SET heartbeat = now() WHERE pid = ?", pid);
                    repo.commit();
                    superviseKids();
                    nextBeat = System.nanoTime() + HEARTBEAT.toNanos();
                }
            } catch (SQLException | RuntimeException e) {
                if (stopRequested) {
                    break;
                }
                if (!reconnect(e)) {
                    break;
                }
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
                    if (!kids.containsKey(payload)) {
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
                new ControllerClient(repo).notify(Channels.RELOADED, payload);
                repo.commit();
            }
            default -> log.debug("Ignoring notification {} {}", channel, payload);
        }
    }

    private boolean kick(String sync, boolean urgent) {
        Kid kid = kids.get(sync);
        if (kid == null) {
            return false;
        }
        kid.kick(urgent);
        return true;
    }

    /** Restarts a kid whose thread ended without being told to (a bug or an Error). */
    private void superviseKids() {
        for (Kid kid : List.copyOf(kids.values())) {
            if (!kid.isAlive()) {
                log.error("The kid of sync {} died; starting a new one", kid.sync());
                Kid fresh = new Kid(kid.sync(), spec, pools, settings);
                kids.put(kid.sync(), fresh);
                fresh.start();
                fresh.kick(false);
            }
        }
    }

    // ---- reload -------------------------------------------------------------------------------

    /**
     * Makes the running kids, checktime timers and source watches match the repository.
     *
     * @param payload  empty for every sync, else the comma-separated syncs to re-activate (and kick)
     */
    private void reload(String payload, boolean starting) {
        settings = ControllerSettings.read(repo);
        kids.values().forEach(k -> k.settings(settings));
        forgetChangedDbs();
        Set<String> named = payload.isBlank() ? Set.of() : Set.of(payload.split(","));
        Map<String, Sync> wanted = new LinkedHashMap<>();
        for (Sync s : repo.syncs()) {
            if (s.active() && !s.paused()) {
                wanted.put(s.name(), s);
            }
        }
        for (String name : List.copyOf(kids.keySet())) {
            if (!wanted.containsKey(name)) {
                stopKid(name);
            }
        }
        reconcileCapture(named.isEmpty() ? wanted.keySet() : named);
        if (starting) {
            // syncs whose tables did not change while no controller ran start from now, not from the
            // whole log since their last run: every sync starts with a run
            purgeDeltas();
        }
        for (Sync s : wanted.values()) {
            boolean isNew = !kids.containsKey(s.name());
            if (isNew) {
                Kid kid = new Kid(s.name(), spec, pools, settings);
                kids.put(s.name(), kid);
                kid.start();
            }
            if (isNew || starting || named.contains(s.name())) {
                kids.get(s.name()).kick(false);
            }
            scheduleChecktime(s);
        }
        for (String name : List.copyOf(checktimes.keySet())) {
            if (!wanted.containsKey(name)) {
                duties.cancel("checktime-" + name);
                checktimes.remove(name);
            }
        }
        watchForAutokick();
        repo.commit();
        log.info("Running {} sync(s): {}", wanted.size(), String.join(", ", wanted.keySet()));
    }

    /** A db whose connection settings changed (or that went away) gets fresh pooled connections. */
    private void forgetChangedDbs() {
        Map<String, Db> now = new HashMap<>();
        repo.dbs().forEach(d -> now.put(d.name(), d));
        knownDbs.forEach((name, before) -> {
            if (!before.equals(now.get(name))) {
                pools.close(before);
            }
        });
        knownDbs.clear();
        knownDbs.putAll(now);
    }

    private void stopKid(String name) {
        Kid kid = kids.remove(name);
        log.info("Sync {} is no longer active: waiting for its current run, if any", name);
        kid.stop();
        try {
            if (!kid.join(settings.stopWait())) {
                log.warn("Sync {} is still running after {}; it stops when its run ends", name,
                        Durations.age(settings.stopWait()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Bucardo validates a sync when it activates it; here the capture objects are brought up to date. */
    private void reconcileCapture(Set<String> syncs) {
        if (syncs.isEmpty()) {
            return;
        }
        List<String> dbs = repo.list(SOURCES, rs -> rs.getString(1), new ArrayList<>(syncs));
        for (String name : dbs) {
            try {
                Db db = repo.db(name).orElseThrow();
                Capture.reconcile(repo, db);
                repo.commit();
            } catch (RuntimeException e) {
                repo.rollback();
                log.warn("Could not check the capture triggers on db {}: {}; its syncs retry by themselves", name,
                        Kid.describe(e));
            }
        }
    }

    private void scheduleChecktime(Sync s) {
        Long previous = checktimes.get(s.name());
        if (java.util.Objects.equals(previous, s.checktime())) {
            return;
        }
        if (s.checktime() == null || s.checktime() <= 0) {
            duties.cancel("checktime-" + s.name());
            checktimes.remove(s.name());
            return;
        }
        String name = s.name();
        duties.every("checktime-" + name, Duration.ofSeconds(s.checktime()), () -> kick(name, false));
        checktimes.put(name, s.checktime());
    }

    private void watchForAutokick() {
        Map<String, List<String>> map = new HashMap<>();
        Map<String, Set<String>> tables = new LinkedHashMap<>();
        repo.list(AUTOKICK_TABLES, rs -> {
            map.computeIfAbsent(rs.getString(2) + "\0" + rs.getString(3), k -> new ArrayList<>()).add(rs.getString(1));
            tables.computeIfAbsent(rs.getString(2), k -> new HashSet<>()).add(rs.getString(3));
            return null;
        });
        autokick = map;
        for (String name : List.copyOf(watches.keySet())) {
            Db now = repo.db(name).orElse(null);
            if (!tables.containsKey(name) || now == null || !now.equals(watchedDbs.get(name))) {
                watches.remove(name).stop();
                watchedDbs.remove(name);
            }
        }
        tables.forEach((name, watched) -> {
            SourceWatch w = watches.get(name);
            if (w != null) {
                w.watch(watched, settings);
                return;
            }
            Db db = repo.db(name).orElseThrow();
            w = new SourceWatch(db, watched, settings, table -> autokick(name, table), () -> kickReaders(name));
            watches.put(name, w);
            watchedDbs.put(name, db);
            w.start();
        });
    }

    private void autokick(String db, String table) {
        List<String> syncs = autokick.get(db + "\0" + table);
        if (syncs == null) {
            log.debug("Change on {} in db {} concerns no running sync", table, db);
            return;
        }
        syncs.forEach(s -> kick(s, false));
    }

    private void kickReaders(String db) {
        autokick.entrySet().stream().filter(e -> e.getKey().startsWith(db + "\0"))
                .flatMap(e -> e.getValue().stream()).distinct().forEach(s -> kick(s, false));
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
                    log.warn("Could not purge applied changes on db {}: {}", name, Kid.describe(e));
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

    // ---- the repository connection ------------------------------------------------------------

    private boolean tryLock() {
        boolean got = repo.one(TRY_LOCK, rs -> rs.getBoolean(1), RunningController.LOCK_CLASS,
                RunningController.LOCK_ID).orElse(false);
        repo.commit();
        return got;
    }

    private void announce() {
        repo.update("DELETE FROM ibex.controller");
        started = repo.one(ANNOUNCE, rs -> rs.getObject(1, OffsetDateTime.class), pid, host, started).orElseThrow();
        try (Statement st = repo.connection().createStatement()) {
            for (String channel : List.of(Channels.KICK, Channels.STOP, Channels.RELOAD)) {
                st.execute("LISTEN " + channel);
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Listening on the repository", e);
        }
        repo.commit();
    }

    /**
     * The repository connection broke: the lock went with it. Reconnect, take the lock again and
     * carry on; if another controller took it meanwhile, give way to it.
     */
    private boolean reconnect(Exception cause) {
        log.error("Lost the repository connection: {}; reconnecting", Kid.describe(cause));
        repo.close();
        Backoff backoff = new Backoff(settings.retryMin(), settings.retryMax());
        while (!stopRequested) {
            try {
                Thread.sleep(backoff.next().toMillis());
                repo = Repository.open(spec, "ibex controller");
                if (!tryLock()) {
                    log.error("Another controller took the repository while this one was cut off ({}); stopping",
                            RunningController.find(repo.connection()).map(RunningController::describe).orElse("?"));
                    return false;
                }
                announce();
                log.info("Reconnected to the repository");
                kids.values().forEach(k -> k.kick(false));
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (RuntimeException e) {
                if (repo != null) {
                    repo.close();
                }
                log.debug("Repository still unreachable: {}", Kid.describe(e));
            }
        }
        return false;
    }

    private void writePidFile() {
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
        watches.values().forEach(SourceWatch::stop);
        if (duties != null) {
            duties.close();
        }
        kids.values().forEach(Kid::stop);
        long deadline = System.nanoTime() + settings.stopWait().toNanos();
        for (Kid kid : kids.values()) {
            try {
                if (!kid.join(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())))) {
                    log.warn("Sync {} did not finish its run within {}; its open transactions roll back as the "
                            + "controller exits", kid.sync(), Durations.age(settings.stopWait()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pools.closeAll();
        try {
            repo.rollback();
            repo.update("DELETE FROM ibex.controller WHERE pid = ?", pid);
            repo.commit();
        } catch (RuntimeException e) {
            log.debug("Could not remove the controller row: {}", Kid.describe(e));
        }
        pidFile.removeIfOwnedBy(pid);
        repo.close();
        log.info("ibex controller stopped");
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String h = System.getenv("HOSTNAME");
            return h == null ? "localhost" : h;
        }
    }
}
