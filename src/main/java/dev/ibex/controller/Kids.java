package dev.ibex.controller;

import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.replicate.ClaimFence;
import dev.ibex.status.Durations;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The controller's kids, one per active, unpaused sync: started, kicked, replaced when dead, stopped. */
final class Kids {

    /** Logged as the controller: these are its decisions. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    private final ConnectionSpec spec;
    private final DbPools pools;
    private final Map<String, Kid> kids = new ConcurrentHashMap<>();
    /** The application_name prefix of this controller's connections, e.g. "ibex c12". */
    private volatile String application = "ibex";

    Kids(ConnectionSpec spec, DbPools pools) {
        this.spec = spec;
        this.pools = pools;
    }

    void application(String prefix) {
        this.application = prefix;
    }

    /** How many syncs this controller holds a kid for. */
    int size() {
        return kids.size();
    }

    boolean has(String sync) {
        return kids.containsKey(sync);
    }

    Set<String> syncs() {
        return Set.copyOf(kids.keySet());
    }

    /** Asks the sync's kid for a run; false when the sync has none (not active, paused, or new). */
    boolean kick(String sync, boolean urgent) {
        Kid kid = kids.get(sync);
        if (kid == null) {
            return false;
        }
        kid.kick(urgent);
        return true;
    }

    void kickAll() {
        kids.values().forEach(k -> k.kick(false));
    }

    /**
     * Starts a kid for the sync under this claim unless it has one under it; true when it started
     * one. A kid under an older claim of the same sync (lost and taken again) is stopped first.
     *
     * @param fence     the claim its runs must still hold
     * @param previous  the controller the claim was taken from, whose target sessions the kid cuts
     *                  off before its first run; null when none
     */
    boolean start(String sync, ControllerSettings settings, ClaimFence fence, Integer previous) {
        Kid old = kids.get(sync);
        if (old != null && old.fence().equals(fence) && !old.gaveUp()) {
            return false;
        }
        if (old != null) {
            stop(sync, settings.stopWait(), "is claimed anew");
        }
        Kid kid = new Kid(sync, spec, pools, settings, application, fence, previous);
        kids.put(sync, kid);
        kid.start();
        return true;
    }

    /** On every reload: the kids' run caches go with the old settings. */
    void settings(ControllerSettings settings) {
        kids.values().forEach(k -> k.settings(settings));
    }

    /** Restarts a kid whose thread ended without being told to (a bug or an Error). */
    void supervise(ControllerSettings settings) {
        for (Kid kid : List.copyOf(kids.values())) {
            if (kid.gaveUp()) {
                // it found its claim taken: the next rebalance sees that too
                continue;
            }
            if (!kid.isAlive()) {
                log.error("The kid of sync {} died; starting a new one", kid.sync());
                Kid fresh = new Kid(kid.sync(), spec, pools, settings, application, kid.fence(), kid.previous());
                kids.put(kid.sync(), fresh);
                fresh.start();
                fresh.kick(false);
            }
        }
    }

    /** A sync this controller no longer runs: its kid ends after its current run, waited for up to {@code wait}. */
    void stop(String sync, Duration wait, String why) {
        Kid kid = kids.remove(sync);
        if (kid == null) {
            return;
        }
        log.info("Sync {} {}: waiting for its current run, if any", sync, why);
        kid.stop();
        try {
            if (!kid.join(wait)) {
                log.warn("Sync {} is still running after {}; it stops when its run ends", sync, Durations.age(wait));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The sync's kid ends after its current run, not waited for; returns it, or null when there was none. */
    Kid detach(String sync, String why) {
        Kid kid = kids.remove(sync);
        if (kid != null) {
            log.info("Sync {} {}: its kid stops after its current run, if any", sync, why);
            kid.stop();
        }
        return kid;
    }

    /** The controller stops: every kid ends its run, all within {@code wait}. */
    void stopAll(Duration wait) {
        kids.values().forEach(Kid::stop);
        long deadline = System.nanoTime() + wait.toNanos();
        for (Kid kid : kids.values()) {
            try {
                if (!kid.join(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())))) {
                    log.warn("Sync {} did not finish its run within {}; its open transactions roll back as the "
                            + "controller exits", kid.sync(), Durations.age(wait));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
