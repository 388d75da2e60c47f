package dev.ibex.repository;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The run log, ibex.run: one row per run of a sync, written by the runner as it starts, progresses
 * and ends, ended for it by the kid or the controller when the runner could not, trimmed by the
 * controller, read by status and kick. Every statement on ibex.run is here; states are bound as
 * parameters from {@link RunState}, so no SQL spells them. Nothing here commits: the caller owns
 * the transaction.
 */
public final class RunLog {

    /**
     * Inserts a row in the column's default state, {@link RunState#RUNNING}, and returns its id;
     * no row for an unknown sync. Public for the runner, which sends it in one round trip with the
     * statements that take the sync's lock and read its state. txid_current() in the filter runs
     * before the id's nextval() in the projection: a transaction holds an xid before it holds a run
     * id, which is what lets {@link #look} tell when no smaller id can still appear.
     */
    public static final String START = """
            INSERT INTO ibex.run (sync) SELECT name FROM ibex.sync WHERE name = ? AND txid_current() IS NOT NULL
            RETURNING id""";

    private static final String PROGRESS = """
            UPDATE ibex.run SET detail = ?, deletes = ?, inserts = ?, truncates = ?, conflicts = ? WHERE id = ?""";
    private static final String END = """
            UPDATE ibex.run SET ended = clock_timestamp(), state = ?, deletes = ?, inserts = ?, truncates = ?,
                   conflicts = ?, snapshot = ?, detail = ?, error = ?, sqlstate = ? WHERE id = ?""";
    private static final String END_OPEN_RUNS = """
            UPDATE ibex.run SET state = ?, ended = clock_timestamp(), error = ?, sqlstate = ?
             WHERE sync = ? AND state = ?""";
    private static final String END_IF_OPEN = """
            UPDATE ibex.run SET state = ?, ended = clock_timestamp(), error = ? WHERE id = ? AND state = ?""";
    /** The xid before the id, as in {@link #START}. */
    private static final String INSERT_ENDED = """
            INSERT INTO ibex.run (sync, state, ended, error, sqlstate)
            SELECT ?, ?, clock_timestamp(), ?, ? WHERE txid_current() IS NOT NULL""";
    private static final String END_ALL_OPEN_RUNS = """
            UPDATE ibex.run SET state = ?, ended = clock_timestamp(), error = ?
             WHERE state = ?""";
    /** Keeps the newest run of each state per sync, whatever its age, so status can show it. */
    private static final String TRIM = """
            DELETE FROM ibex.run r
             WHERE r.state <> ?
               AND r.id NOT IN (SELECT DISTINCT ON (sync, state) id FROM ibex.run ORDER BY sync, state, started DESC, id DESC)
               AND (r.started < now() - ? * interval '1 day'
                    OR r.id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY sync ORDER BY started DESC, id DESC) AS n
                                                  FROM ibex.run) ranked
                                 WHERE n > ?))""";
    private static final String ENDED_SINCE = """
            SELECT id, started, ended, state, deletes, inserts, truncates, conflicts, detail, error, sqlstate FROM ibex.run
             WHERE sync = ? AND started >= ? AND ended IS NOT NULL
             ORDER BY started, id LIMIT 1""";
    private static final String RUNNING_DETAIL = """
            SELECT detail FROM ibex.run WHERE sync = ? AND state = ? ORDER BY id DESC LIMIT 1""";
    /** The newest run per sync and kind ({@link RunState#kind()}: an empty run is of the good kind). */
    private static final String LATEST = """
            SELECT DISTINCT ON (sync, kind) sync, id, started, ended, state, deletes, inserts, truncates, conflicts,
                   detail, error, sqlstate
              FROM (SELECT r.*, CASE WHEN state = ? THEN ? ELSE state END AS kind
                      FROM ibex.run r WHERE sync = ANY(?)) runs
             ORDER BY sync, kind, started DESC, id DESC""";

    /**
     * The runs above an id, open or ended, in one snapshot with that snapshot's xmin and xmax and
     * the largest run id it sees (a row with no run when there is none above).
     */
    private static final String LOOK = """
            WITH look AS (SELECT txid_snapshot_xmin(txid_current_snapshot()) AS xmin,
                                 txid_snapshot_xmax(txid_current_snapshot()) AS xmax,
                                 (SELECT coalesce(max(id), 0) FROM ibex.run) AS newest)
            SELECT look.xmin, look.xmax, look.newest, r.sync, r.id, r.started, r.ended, r.state, r.deletes,
                   r.inserts, r.truncates, r.conflicts, r.detail, r.error, r.sqlstate
              FROM look LEFT JOIN ibex.run r ON r.id > ?
             ORDER BY r.id""";
    private static final String NEWEST_ID = "SELECT coalesce(max(id), 0) FROM ibex.run";

    /**
     * One row of ibex.run.
     *
     * @param conflicts keys changed on several sources that the run settled (0 with one source)
     * @param sqlstate  of a failed run's first database error; null when there was none
     */
    public record Entry(long id, Instant started, Instant ended, RunState state, long deletes, long inserts,
                        long truncates, long conflicts, String detail, String error, String sqlstate) {

        public Duration took() {
            return ended == null ? Duration.ZERO : Duration.between(started, ended);
        }
    }

    /** An ended run of a sync (null when the sync was dropped). */
    public record Ended(String sync, Entry entry) {
    }

    /**
     * The run log above an id as one snapshot saw it.
     *
     * @param xmin      every transaction with a smaller xid had ended when the snapshot was taken
     * @param xmax      every xid handed out before the snapshot is smaller
     * @param newest    the largest run id the snapshot sees, 0 when none; with a sequence, every
     *                  smaller id had been handed out before it, so to a transaction with an xid below
     *                  {@code xmax} ({@link #START})
     * @param ended     the runs above the id that had ended, oldest first
     * @param firstOpen the smallest id above the id of a run still open, {@link Long#MAX_VALUE} when none
     */
    public record Look(long xmin, long xmax, long newest, List<Ended> ended, long firstOpen) {
    }

    /** What a run did, as its end records it. */
    public record Counts(long deletes, long inserts, long truncates, long conflicts) {
    }

    private final Repository repo;

    public RunLog(Repository repo) {
        this.repo = repo;
    }

    /** Shows what the open run is doing and its counts so far. */
    public void progress(long id, String detail, Counts counts) {
        repo.update(PROGRESS, detail, counts.deletes(), counts.inserts(), counts.truncates(), counts.conflicts(), id);
    }

    /**
     * Ends the run. With a channel, the same statement sends NOTIFY channel with the sync's name,
     * so listeners hear of the end exactly when it commits.
     */
    public void end(long id, RunState state, Counts counts, String snapshot, String detail, String error,
                    String sqlstate, String sync, String announceChannel) {
        if (announceChannel == null) {
            repo.update(END, state.sql(), counts.deletes(), counts.inserts(), counts.truncates(), counts.conflicts(),
                    snapshot, detail,
                    error, sqlstate, id);
        } else {
            repo.one(END + " RETURNING pg_notify(?, ?)", rs -> rs.getString(1), state.sql(), counts.deletes(),
                    counts.inserts(), counts.truncates(), counts.conflicts(), snapshot, detail, error, sqlstate, id,
                    announceChannel,
                    sync);
        }
    }

    /**
     * Records a run that failed where its runner could not record it: ends the sync's open run as
     * bad, or, when none is open (it failed before its row was inserted), adds an ended bad one.
     */
    public void recordFailure(String sync, String error, String sqlstate) {
        if (repo.update(END_OPEN_RUNS, RunState.BAD.sql(), error, sqlstate, sync, RunState.RUNNING.sql()) == 0) {
            repo.update(INSERT_ENDED, sync, RunState.BAD.sql(), error, sqlstate);
        }
    }

    /** Ends the sync's open runs as bad: another controller's, whose sync this one has taken. */
    public int endOpenRuns(String sync, String error) {
        return repo.update(END_OPEN_RUNS, RunState.BAD.sql(), error, null, sync, RunState.RUNNING.sql());
    }

    /** Ends the run as bad if it is still open: a run that lost its claim records nothing else. */
    public void endIfOpen(long id, String error) {
        repo.update(END_IF_OPEN, RunState.BAD.sql(), error, id, RunState.RUNNING.sql());
    }

    /** Ends every open run as bad: a controller that starts knows no runner of an earlier one is left. */
    public int endAllOpenRuns(String error) {
        return repo.update(END_ALL_OPEN_RUNS, RunState.BAD.sql(), error, RunState.RUNNING.sql());
    }

    /**
     * Deletes ended runs beyond the newest {@code keep} per sync or older than {@code days}; the
     * newest run of each state per sync stays. Returns how many went.
     */
    public int trim(int keep, int days) {
        return repo.update(TRIM, RunState.RUNNING.sql(), days, keep);
    }

    /** The first run of the sync that started at or after {@code since} and has ended. */
    public Optional<Entry> endedSince(String sync, OffsetDateTime since) {
        return repo.one(ENDED_SINCE, RunLog::entry, sync, since);
    }

    /** What the sync's open run is doing (ibex.run.detail), if it runs and said. */
    public Optional<String> runningDetail(String sync) {
        return repo.one(RUNNING_DETAIL, rs -> rs.getString(1), sync, RunState.RUNNING.sql());
    }

    /** Per sync, its newest run of each kind: {@link RunState#RUNNING}, GOOD (or empty) and BAD. */
    public Map<String, Map<RunState, Entry>> latest(List<String> syncs) {
        Map<String, Map<RunState, Entry>> out = new HashMap<>();
        repo.list(LATEST, rs -> out.computeIfAbsent(rs.getString("sync"), k -> new EnumMap<>(RunState.class))
                        .put(RunState.of(rs.getString("state")).kind(), entry(rs)),
                RunState.EMPTY.sql(), RunState.GOOD.sql(), syncs);
        return out;
    }

    /** The runs with an id above {@code id}, as one snapshot sees them; see {@link Look}. */
    public Look look(long id) {
        List<LookRow> rows = repo.list(LOOK, rs -> new LookRow(rs.getLong("xmin"), rs.getLong("xmax"),
                rs.getLong("newest"), rs.getObject("id") == null ? null : new Ended(rs.getString("sync"), entry(rs))),
                id);
        LookRow first = rows.get(0);
        List<Ended> ended = rows.stream().map(LookRow::run).filter(r -> r != null && r.entry().ended() != null)
                .toList();
        long firstOpen = rows.stream().map(LookRow::run).filter(r -> r != null && r.entry().ended() == null)
                .mapToLong(r -> r.entry().id()).min().orElse(Long.MAX_VALUE);
        return new Look(first.xmin(), first.xmax(), first.newest(), ended, firstOpen);
    }

    /** A row of {@link #LOOK}: the snapshot, repeated, and a run above the id, if any. */
    private record LookRow(long xmin, long xmax, long newest, Ended run) {
    }

    /** The largest run id so far, 0 when there are none. */
    public long newestId() {
        return repo.one(NEWEST_ID, rs -> rs.getLong(1)).orElse(0L);
    }

    private static Entry entry(ResultSet rs) throws SQLException {
        return new Entry(rs.getLong("id"), instant(rs, "started"), instant(rs, "ended"),
                RunState.of(rs.getString("state")), rs.getLong("deletes"), rs.getLong("inserts"),
                rs.getLong("truncates"), rs.getLong("conflicts"), rs.getString("detail"), rs.getString("error"),
                rs.getString("sqlstate"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
