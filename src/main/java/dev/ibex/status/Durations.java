package dev.ibex.status;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Bucardo's ways of showing times: "26m 15s" ages and "19:32:21" / "Jun 04, 2025 19:32:21" times. */
public final class Durations {

    private static final DateTimeFormatter TODAY = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);
    private static final DateTimeFormatter OTHER_DAY = DateTimeFormatter.ofPattern("MMM dd, yyyy HH:mm:ss",
            Locale.ROOT);

    private Durations() {
    }

    /** "0s", "15s", "26m 15s", "3h 0m 5s", "2d 1h 0m 0s"; leading zero units are left out. */
    public static String age(Duration d) {
        long s = Math.max(0, d.getSeconds());
        long days = s / 86_400;
        long hours = s / 3600 % 24;
        long minutes = s / 60 % 60;
        long seconds = s % 60;
        StringBuilder b = new StringBuilder();
        if (days > 0) {
            b.append(days).append("d ");
        }
        if (days > 0 || hours > 0) {
            b.append(hours).append("h ");
        }
        if (days > 0 || hours > 0 || minutes > 0) {
            b.append(minutes).append("m ");
        }
        return b.append(seconds).append('s').toString();
    }

    /** A run's time of day if it was today (in the local zone, by the repository's clock), else with the date. */
    public static String when(Instant t, Instant now, ZoneId zone) {
        LocalDate day = t.atZone(zone).toLocalDate();
        LocalDate today = now.atZone(zone).toLocalDate();
        return (day.equals(today) ? TODAY : OTHER_DAY).format(t.atZone(zone));
    }
}
