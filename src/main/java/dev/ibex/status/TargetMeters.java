package dev.ibex.status;

import dev.ibex.repository.Repository;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per sync, source and target: when the target's batch boundary (ibex.sync_state) last moved,
 * because a run applied a batch or the purge found nothing pending for it.
 */
final class TargetMeters {

    private static final String MARKS = """
            SELECT sync, source, target, (extract(epoch FROM updated) * 1000)::bigint FROM ibex.sync_state""";

    private record Key(String sync, String source, String target) {
    }

    private record Mark(Key key, long epochMillis) {
    }

    private final MeterRegistry registry;
    private final Map<Key, AtomicLong> marks = new HashMap<>();
    private final Map<Key, Gauge> gauges = new HashMap<>();

    TargetMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    void read(Repository repo) {
        List<Mark> now = repo.list(MARKS, rs -> new Mark(new Key(rs.getString(1), rs.getString(2), rs.getString(3)),
                rs.getLong(4)));
        Map<Key, Long> seen = new HashMap<>();
        now.forEach(m -> seen.put(m.key(), m.epochMillis()));
        for (Key gone : List.copyOf(gauges.keySet())) {
            if (!seen.containsKey(gone)) {
                registry.remove(gauges.remove(gone));
                marks.remove(gone);
            }
        }
        seen.forEach((key, millis) -> marks.computeIfAbsent(key, this::register).set(millis));
    }

    private AtomicLong register(Key key) {
        AtomicLong mark = new AtomicLong();
        gauges.put(key, Gauge.builder("ibex.sync.target.snapshot.timestamp", mark, m -> m.get() / 1000.0)
                .baseUnit("seconds").tag("sync", key.sync()).tag("source", key.source()).tag("target", key.target())
                .description("When the target's batch boundary last moved (a batch applied, or nothing was "
                        + "pending), in seconds since the epoch").strongReference(true).register(registry));
        return mark;
    }
}
