package dev.ibex.status;

import dev.ibex.repository.RunLog;
import dev.ibex.repository.RunState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The meters of one sync: gauges of its last reading, counters and a histogram of its ended runs. */
final class SyncMeters {

    /** Runs take from milliseconds (nothing to do) to hours (a first copy of a large table). */
    private static final Duration[] RUN_BUCKETS = {Duration.ofMillis(10), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofHours(1)};

    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Counter deleted;
    private final Counter inserted;
    private final Counter conflicts;
    private final Map<RunState, Counter> runs = new EnumMap<>(RunState.class);
    private final Timer duration;
    private volatile SyncReading reading = SyncReading.UNKNOWN;

    /** @param source  the sync's source db (several, comma-separated, once a sync may have more) */
    SyncMeters(MeterRegistry registry, String sync, String source) {
        this.registry = registry;
        Tags tags = Tags.of("sync", sync);
        Tags sourced = tags.and("source", source);
        gauge("ibex.sync.lag", "seconds", sourced, "How far the targets may be behind the source: since the start "
                + "of the last good run while changes are pending, else 0; NaN when unknown", r -> r.lagSeconds());
        gauge("ibex.sync.backlog", "rows", sourced, "Captured changes (change log rows) the slowest target has not "
                + "applied yet; NaN when unknown", r -> r.backlogRows());
        gauge("ibex.sync.last.good.run.timestamp", "seconds", tags, "When the last good (or empty) run ended, "
                + "in seconds since the epoch; NaN before the first", r -> r.lastGoodEpochSeconds());
        gauge("ibex.sync.failing", null, tags, "1 while the newest ended run of the sync is bad",
                r -> r.failing() ? 1 : 0);
        gauge("ibex.sync.needs.person", null, tags, "1 while the sync waits for a person: paused, or failing "
                + "with an error retrying cannot fix (a grant, a table, a password)", r -> r.needsPerson() ? 1 : 0);
        gauge("ibex.sync.copy", "rows", tags, "Rows copied so far by the whole-table copies (onetimecopy, "
                + "fullcopy) of the running run", r -> r.copy().rows());
        gauge("ibex.sync.copy.expected", "rows", tags, "Rows the tables being copied whole are expected to "
                + "have", r -> r.copy().expected());
        deleted = counter(Counter.builder("ibex.sync.deleted").baseUnit("rows").tags(tags)
                .description("Rows deleted on the targets by ended runs"));
        inserted = counter(Counter.builder("ibex.sync.inserted").baseUnit("rows").tags(tags)
                .description("Rows inserted (copied) into the targets by ended runs"));
        conflicts = counter(Counter.builder("ibex.sync.conflicts").tags(tags)
                .description("Conflicts settled between sources by ended runs; 0 while a sync has one source"));
        for (RunState state : RunState.values()) {
            if (state != RunState.RUNNING) {
                runs.put(state, counter(Counter.builder("ibex.sync.runs").tags(tags).tag("state", state.sql())
                        .description("Ended runs by their state: good, empty or bad")));
            }
        }
        duration = Timer.builder("ibex.sync.run.duration").tags(tags).serviceLevelObjectives(RUN_BUCKETS)
                .description("How long ended runs took").register(registry);
        meters.add(duration);
    }

    void read(SyncReading r) {
        reading = r;
    }

    void ended(RunLog.Entry run) {
        deleted.increment(run.deletes());
        inserted.increment(run.inserts());
        conflicts.increment(run.conflicts());
        runs.get(run.state()).increment();
        duration.record(run.took());
    }

    /** The sync went away: so do its series. */
    void remove() {
        meters.forEach(registry::remove);
    }

    private void gauge(String name, String unit, Tags tags, String help, ToDoubleFunction<SyncReading> value) {
        meters.add(Gauge.builder(name, this, m -> value.applyAsDouble(m.reading)).baseUnit(unit).tags(tags)
                .description(help).strongReference(true).register(registry));
    }

    private Counter counter(Counter.Builder builder) {
        Counter c = builder.register(registry);
        meters.add(c);
        return c;
    }
}
