package dev.ibex.controller;

import dev.ibex.repository.Sync;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/** Each sync with a checktime is kicked that often, changes or not (Bucardo's checktime). */
final class Checktimes {

    private final Duties duties;
    private final Consumer<String> kick;
    /** The checktime each sync's duty was scheduled with, in seconds. */
    private final Map<String, Long> scheduled = new HashMap<>();

    Checktimes(Duties duties, Consumer<String> kick) {
        this.duties = duties;
        this.kick = kick;
    }

    /** Schedules, reschedules or cancels the sync's duty as its checktime says. */
    void schedule(Sync s) {
        if (Objects.equals(scheduled.get(s.name()), s.checktime())) {
            return;
        }
        if (s.checktime() == null || s.checktime() <= 0) {
            cancel(s.name());
            return;
        }
        String name = s.name();
        duties.every(duty(name), Duration.ofSeconds(s.checktime()), () -> kick.accept(name));
        scheduled.put(name, s.checktime());
    }

    /** Cancels the duties of syncs not in {@code running}. */
    void keepOnly(Set<String> running) {
        for (String name : List.copyOf(scheduled.keySet())) {
            if (!running.contains(name)) {
                cancel(name);
            }
        }
    }

    private void cancel(String sync) {
        duties.cancel(duty(sync));
        scheduled.remove(sync);
    }

    private static String duty(String sync) {
        return "checktime-" + sync;
    }
}
