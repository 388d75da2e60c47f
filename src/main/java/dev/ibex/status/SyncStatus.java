package dev.ibex.status;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What `ibex status` shows of one sync: its settings, its open run, its last good and last bad run.
 *
 * @param backlog      changes captured on the sources and not yet applied, null when unknown
 * @param suppression  per target db, how its triggers are suppressed (ibex.sync_state.suppression)
 * @param now          the repository's clock, so ages do not depend on this machine's
 */
public record SyncStatus(String name, String status, boolean paused, String relgroup, String dbgroup,
                         List<String> sources, List<String> targets, int tables, Long checktime, boolean stayalive,
                         boolean kidsalive, boolean autokick, int onetimecopy, Run running, Run lastGood,
                         Run lastBad, Long backlog, Map<String, String> suppression, Instant now) {

    /** One row of ibex.run. */
    public record Run(long id, Instant started, Instant ended, String state, long deletes, long inserts,
                      long truncates, String detail, String error) {

        public Duration took() {
            return ended == null ? Duration.ZERO : Duration.between(started, ended);
        }
    }

    /** good, bad, running or none: the open run, else whichever of last good and last bad ended last. */
    public String state() {
        if (running != null) {
            return "running";
        }
        if (lastGood == null && lastBad == null) {
            return "none";
        }
        if (lastBad == null) {
            return "good";
        }
        if (lastGood == null) {
            return "bad";
        }
        return lastGood.ended().isAfter(lastBad.ended()) ? "good" : "bad";
    }

    /** Bucardo's words: Good, Bad, running, No records found. */
    public String stateText() {
        return switch (state()) {
            case "good" -> "Good";
            case "bad" -> "Bad";
            case "running" -> "running";
            default -> "No records found";
        };
    }

    /** Active, Inactive or Paused. */
    public String statusText() {
        if (!"active".equals(status)) {
            return "Inactive";
        }
        return paused ? "Paused" : "Active";
    }

    /**
     * How far the targets may be behind: the targets hold the sources' state as of the last good
     * run's snapshot, taken as that run started. Zero when nothing is pending; null when unknown.
     */
    public Duration lag() {
        if (backlog != null && backlog == 0) {
            return Duration.ZERO;
        }
        return lastGood == null ? null : Duration.between(lastGood.started(), now);
    }
}
