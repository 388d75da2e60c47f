package dev.ibex.replicate;

import dev.ibex.repository.Repository;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The counters and errors of one run, and its row in ibex.run. */
final class RunRecord {

    /** Logged as the runner: these are the run's errors. */
    private static final Logger LOG = LoggerFactory.getLogger(SyncRunner.class);

    private final Repository repo;
    private final String sync;
    final long id;
    long deletes;
    long inserts;
    long truncates;
    long sequences;
    long keys;
    int steps;
    String snapshot;
    final List<String> errors = new ArrayList<>();

    /** The run whose row {@link RunStart} inserted. */
    RunRecord(Repository repo, String sync, long id) {
        this.repo = repo;
        this.sync = sync;
        this.id = id;
    }

    void error(String message) {
        LOG.warn("{}", message);
        errors.add(message);
    }

    void progress(String detail) {
        repo.update("UPDATE ibex.run SET detail = ?, deletes = ?, inserts = ?, truncates = ? WHERE id = ?",
                detail, deletes, inserts, truncates, id);
        repo.commit();
    }

    /** Records the run's end and commits; with a channel, listeners hear of it when that commits. */
    SyncRunner.Result finish(String announceChannel) {
        String state = !errors.isEmpty() ? "bad" : keys + deletes + inserts + truncates > 0 ? "good" : "empty";
        String error = errors.isEmpty() ? null : String.join("; ", errors);
        String detail = keys + " keys in " + steps + (steps == 1 ? " step" : " steps")
                + (sequences == 0 ? "" : ", " + sequences + " sequence value" + (sequences == 1 ? "" : "s") + " set");
        String end = """
                UPDATE ibex.run SET ended = clock_timestamp(), state = ?, deletes = ?, inserts = ?, truncates = ?,
                       snapshot = ?, detail = ?, error = ? WHERE id = ?""";
        if (announceChannel == null) {
            repo.update(end, state, deletes, inserts, truncates, snapshot, detail, error, id);
        } else {
            repo.one(end + " RETURNING pg_notify(?, ?)", rs -> rs.getString(1), state, deletes, inserts, truncates,
                    snapshot, detail, error, id, announceChannel, sync);
        }
        repo.commit();
        return new SyncRunner.Result(id, state, deletes, inserts, error);
    }
}
