package dev.ibex.status;

import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import dev.ibex.repository.Sync;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's meters, brought up to date on each scrape from the repository: what
 * `ibex status` reads (lag, backlog, last runs) and the runs that ended since the last scrape. A
 * scrape that cannot read the repository serves the values of the last one that could.
 */
final class IbexMetrics implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(IbexMetrics.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConnectionSpec spec;
    private final DbPools pools;
    private final Map<String, SyncMeters> syncs = new HashMap<>();
    private final Map<String, String> sourceOf = new HashMap<>();
    private final TargetMeters targets = new TargetMeters(registry);
    private final RunTally tally;
    private Repository repo;

    /**
     * @param pools      the controller's, to count backlogs on the sources
     * @param syncsHeld  how many syncs the controller runs a worker for
     */
    IbexMetrics(ConnectionSpec spec, DbPools pools, IntSupplier syncsHeld) {
        this.spec = spec;
        this.pools = pools;
        this.tally = new RunTally(repository());
        repo.commit();
        Gauge.builder("ibex.up", () -> 1).description("1 while the controller serves metrics").register(registry);
        Gauge.builder("ibex.controller.syncs", syncsHeld::getAsInt)
                .description("Syncs the controller runs a worker for (active and not paused)").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
    }

    /** The Prometheus text of every meter, read afresh. */
    synchronized String scrape() {
        try {
            read(repository());
        } catch (RuntimeException e) {
            log.warn("Metrics could not read the repository ({}); serving the last values", e.getMessage());
            closeRepository();
        }
        return registry.scrape();
    }

    private void read(Repository r) {
        List<SyncStatus> statuses = statuses(r);
        forgetGone(statuses);
        statuses.forEach(s -> meters(s).read(SyncReading.of(s)));
        tally.ended(r, this::count);
        targets.read(r);
        r.commit();
    }

    /** As `ibex status` reads them, with backlogs counted on the sources of the syncs that can reach them. */
    private List<SyncStatus> statuses(Repository r) {
        List<Sync> all = r.syncs();
        List<SyncStatus> quick = new StatusReader(r, null).read(all);
        Set<String> cutOff = quick.stream().filter(SyncReading::cutOff).map(SyncStatus::name)
                .collect(Collectors.toSet());
        Map<String, SyncStatus> counted = new HashMap<>();
        new StatusReader(r, pools).read(all.stream().filter(s -> !cutOff.contains(s.name())).toList())
                .forEach(s -> counted.put(s.name(), s));
        return quick.stream().map(s -> counted.getOrDefault(s.name(), s)).toList();
    }

    private void count(RunLog.Ended run) {
        SyncMeters m = run.sync() == null ? null : syncs.get(run.sync());
        if (m != null) {
            m.ended(run.entry());
        }
    }

    /** A sync's meters, made anew when it is new or now reads another source. */
    private SyncMeters meters(SyncStatus s) {
        String source = String.join(",", s.sources());
        if (!source.equals(sourceOf.get(s.name()))) {
            SyncMeters old = syncs.remove(s.name());
            if (old != null) {
                old.remove();
            }
            syncs.put(s.name(), new SyncMeters(registry, s.name(), source));
            sourceOf.put(s.name(), source);
        }
        return syncs.get(s.name());
    }

    private void forgetGone(List<SyncStatus> statuses) {
        List<String> names = statuses.stream().map(SyncStatus::name).toList();
        for (String gone : List.copyOf(syncs.keySet())) {
            if (!names.contains(gone)) {
                syncs.remove(gone).remove();
                sourceOf.remove(gone);
            }
        }
    }

    private Repository repository() {
        if (repo == null) {
            repo = Repository.open(spec, "ibex metrics");
        }
        return repo;
    }

    private void closeRepository() {
        if (repo != null) {
            repo.close();
            repo = null;
        }
    }

    @Override
    public synchronized void close() {
        closeRepository();
        registry.close();
    }
}
