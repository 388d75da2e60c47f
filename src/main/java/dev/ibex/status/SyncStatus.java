package dev.ibex.status;

import dev.ibex.pg.SqlState;
import dev.ibex.repository.OneTimeCopy;
import dev.ibex.repository.RunLog.Entry;
import dev.ibex.repository.RunState;
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
                         boolean kidsalive, boolean autokick, OneTimeCopy onetimecopy, Entry running,
                         Entry lastGood, Entry lastBad, Long backlog, Map<String, String> suppression, Instant now) {

    /** What status says of a failing sync that waits for a person. */
    public static final String NEEDS_ATTENTION = "needs attention";

    /**
     * good, bad, running or none: the open run, else whichever of last good and last bad ended
     * last. "needs attention" before all of them while the newest ended run failed in a way
     * retrying cannot fix: the retries' runs must not hide it.
     */
    public String state() {
        if (needsAttention()) {
            return NEEDS_ATTENTION;
        }
        RunState kind = kind();
        return kind == null ? "none" : kind.sql();
    }

    /** The newest ended run was bad; a run in progress does not clear that until it ends well. */
    public boolean failing() {
        return lastBad != null && (lastGood == null || lastBad.ended().isAfter(lastGood.ended()));
    }

    /**
     * It fails with an error retrying cannot fix (a password, a grant, a table): someone must act,
     * and ibex goes on by itself once they have.
     */
    public boolean needsAttention() {
        return failing() && SqlState.needsAPerson(lastBad.sqlstate());
    }

    /** What to do about the failure that needs attention; null when none does. */
    public String fix() {
        return needsAttention() ? SqlState.fixFor(lastBad.sqlstate()) : null;
    }

    /** RUNNING, GOOD or BAD as {@link #state()} explains; null when the sync has no runs. */
    private RunState kind() {
        if (running != null) {
            return RunState.RUNNING;
        }
        if (lastGood == null && lastBad == null) {
            return null;
        }
        if (lastBad == null) {
            return RunState.GOOD;
        }
        if (lastGood == null) {
            return RunState.BAD;
        }
        return lastGood.ended().isAfter(lastBad.ended()) ? RunState.GOOD : RunState.BAD;
    }

    /** Bucardo's words: Good, Bad, running, No records found. */
    public String stateText() {
        if (needsAttention()) {
            return "Needs attention";
        }
        RunState kind = kind();
        if (kind == null) {
            return "No records found";
        }
        return switch (kind) {
            case GOOD, EMPTY -> "Good";
            case BAD -> "Bad";
            case RUNNING -> RunState.RUNNING.sql();
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
