package dev.ibex.controller;

import dev.ibex.capture.Capture;
import dev.ibex.capture.DeltaPurge;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The controller's upkeep: purging applied changes on the sources, trimming run history, fresh pools. */
final class Housekeeping {

    /** Logged as the controller. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    private static final String ALL_SOURCES = """
            SELECT DISTINCT m.db FROM ibex.sync s JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup
             WHERE m.role = 'source' ORDER BY m.db""";

    private static final String SOURCES = """
            SELECT DISTINCT m.db FROM ibex.sync s JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup
             WHERE m.role = 'source' AND s.name = ANY(?) ORDER BY m.db""";

    private Housekeeping() {
    }

    /**
     * Bucardo validates a sync when it activates it; here the capture objects are brought up to date.
     *
     * @return the source dbs whose check failed (a lock not had under load, a source down): the
     *         controller tries them again, or their syncs' runs would fail until a reload
     */
    static Set<String> reconcileCapture(Repository repo, Set<String> syncs) {
        if (syncs.isEmpty()) {
            return Set.of();
        }
        return reconcileCaptureOn(repo, repo.list(SOURCES, rs -> rs.getString(1), new ArrayList<>(syncs)), true);
    }

    /** The check of {@link #reconcileCapture} on these dbs; a retry's failure is logged at DEBUG only. */
    static Set<String> reconcileCaptureOn(Repository repo, Collection<String> dbs, boolean first) {
        Set<String> failed = new LinkedHashSet<>();
        for (String name : dbs) {
            try {
                Capture.reconcile(repo, repo.db(name).orElseThrow());
                repo.commit();
                if (!first) {
                    log.info("The capture triggers on db {} are in place", name);
                }
            } catch (RuntimeException e) {
                repo.rollback();
                failed.add(name);
                if (first) {
                    log.warn("Could not check the capture triggers on db {}: {}; the controller tries again", name,
                            PgErrors.describe(e));
                } else {
                    log.debug("Capture triggers on db {} still not checked: {}", name, PgErrors.describe(e));
                }
            }
        }
        return failed;
    }

    /** Transient purge failures in a row after which they are logged as a warning: the log keeps growing meanwhile. */
    static final int PUT_OFF_WARN = 3;

    /**
     * Purges every active source's applied changes, then has {@code watch} check its capture
     * triggers; {@code putOff} counts each source's transient purge failures in a row.
     */
    static void purgeDeltas(ConnectionSpec spec, String application, DbPools pools, CaptureWatch watch,
            Map<String, Integer> putOff) {
        try (Repository r = Repository.open(spec, application)) {
            for (String name : r.list(ALL_SOURCES, rs -> rs.getString(1))) {
                Db db = r.db(name).orElse(null);
                if (db == null || !db.active()) {
                    continue;
                }
                try {
                    long n = DeltaPurge.purge(r, pools, db);
                    putOff.remove(name);
                    if (n > 0) {
                        log.info("Purged {} applied change(s) on db {}", n, name);
                    }
                } catch (RuntimeException e) {
                    boolean transientFailure = SqlState.kindOf(SqlState.in(e)) == SqlState.Kind.TRANSIENT;
                    int times = transientFailure ? putOff.merge(name, 1, Integer::sum) : 0;
                    if (transientFailure && times < PUT_OFF_WARN) {
                        // a deadlock with a DBA's DDL, a busy server: nothing is lost, the next round purges
                        log.info("Purge of applied changes on db {} put off to the next round: {}", name, PgErrors.describe(e));
                    } else {
                        log.warn("Could not purge applied changes on db {}{}: {}", name,
                                times > 0 ? " (" + times + " rounds in a row)" : "", PgErrors.describe(e));
                    }
                }
                try {
                    watch.check(r, pools, db);
                } catch (RuntimeException e) {
                    r.rollback();
                    log.debug("Could not check the capture triggers on db {}: {}", name, PgErrors.describe(e));
                }
            }
            r.rollback();
        }
    }

    /** A db whose connection settings changed (or that went away) gets fresh pooled connections. */
    static void forgetChangedDbs(Repository repo, DbPools pools, Map<String, Db> knownDbs) {
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

    static void trimRuns(ConnectionSpec spec, String application, ControllerSettings settings) {
        try (Repository r = Repository.open(spec, application)) {
            int n = RunHistory.trim(r, settings.keepRuns(), settings.keepDays());
            if (n > 0) {
                log.info("Deleted {} old run(s) from the history", n);
            }
        }
    }
}
