package dev.ibex.controller;

import dev.ibex.pg.SqlState;
import dev.ibex.replicate.ClaimFence;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RunLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which controller runs which sync (ibex.sync_claim), shared out every couple of seconds by each
 * controller in one short repository transaction, serialized by a transaction advisory lock:
 * it finds the dead controllers (liveness lock free, or heartbeat older than the lease), cuts
 * their repository sessions off and removes them, takes unclaimed syncs and those of the dead up
 * to its fair share (ceil(active syncs / live controllers)), and names the syncs above its share
 * it is to give back once their kids have stopped.
 */
final class Claims {

    /** Logged as the controller: these are its decisions. */
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    /** pg_advisory_xact_lock(BALANCE_LOCK_CLASS, 0): 'ibcb' in ASCII. */
    static final int BALANCE_LOCK_CLASS = 0x69626362;

    /**
     * How long a round waits for another controller's: a round takes milliseconds, but one whose
     * controller stood still inside it (SIGSTOP) holds the lock until its session is cut off.
     */
    static final String ROUND_WAIT = "2s";

    /** A claim this controller holds; {@code previous} is the controller it was taken from, if any. */
    record Claim(String sync, long epoch, Integer previous) {
        ClaimFence fence(int controller) {
            return new ClaimFence(sync, controller, epoch);
        }
    }

    /**
     * @param held     the claims this controller holds on active, unpaused syncs (with those just taken)
     * @param taken    of those, the ones it took in this round
     * @param surplus  held syncs above its share, or no longer active: to give back after their kid stops
     * @param live     how many controllers live, this one included
     */
    record Balance(Map<String, Claim> held, List<String> taken, List<Claim> surplus, int live) {
    }

    private record Peer(int id, long pid, String host, boolean locked, boolean fresh, long silentSeconds) {
    }

    private static final String BEAT = "UPDATE ibex.controller SET heartbeat = now() WHERE id = ?";
    private static final String PEERS = """
            SELECT c.id, c.pid, c.host,""" + " " + RunningController.LOCKED + """
            , c.heartbeat > now() - make_interval(secs => ?),
                   extract(epoch FROM now() - c.heartbeat)::bigint
              FROM ibex.controller c ORDER BY c.id""";
    private static final String CUT_OFF = """
            SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
               AND (a.application_name = ? OR a.application_name LIKE ?
                    OR a.pid = (SELECT backend FROM ibex.controller WHERE id = ?))""";
    private static final String FORGET = "DELETE FROM ibex.controller WHERE id = ?";
    private static final String ACTIVE = """
            SELECT name FROM ibex.sync WHERE status = 'active' AND NOT paused ORDER BY priority DESC, name""";
    private static final String CLAIMS = "SELECT sync, controller, epoch, previous FROM ibex.sync_claim";
    private static final String TAKE = """
            INSERT INTO ibex.sync_claim AS k (sync, controller) VALUES (?, ?)
            ON CONFLICT (sync) DO UPDATE SET controller = excluded.controller,
                   epoch = nextval('ibex.sync_claim_epoch'), previous = k.controller, claimed = now()
            RETURNING epoch, previous""";
    private static final String RELEASE = "DELETE FROM ibex.sync_claim WHERE sync = ? AND controller = ? AND epoch = ?";

    private Claims() {
    }

    /** Serializes the claim changes: the first statement of every transaction that makes any. */
    static void serialize(Repository repo) {
        repo.one("SELECT pg_advisory_xact_lock(?, 0)", rs -> 1, BALANCE_LOCK_CLASS);
    }

    /**
     * One round; does not commit. {@code mayTake} false (stopping): takes nothing. One method, long:
     * its steps (beat, the dead, the share, take, give back) must see one another under the one
     * transaction lock that serializes every controller's round. Null when another round held that
     * lock past {@link #ROUND_WAIT}: then this controller only beats and cuts off the controllers
     * past their lease (one stopped inside its round holds the lock until then), and the next round
     * shares out.
     *
     * @throws IllegalStateException when this controller's row is gone: another controller declared
     *         it dead, and cut its session off, so this one is about to see its connection break
     */
    static Balance rebalance(Repository repo, int me, Duration lease, boolean mayTake) {
        if (!serializeWithin(repo)) {
            repo.rollback();
            beat(repo, me);
            for (Peer p : peers(repo, lease)) {
                if (p.id() != me && p.locked() && !p.fresh()) {
                    log.warn("Controller c{} (pid {} on host {}) has had no heartbeat for {} s and may hold the "
                            + "claims' lock: {} session(s) of it cut off", p.id(), p.pid(), p.host(), p.silentSeconds(),
                            cutOff(repo, p));
                }
            }
            return null;
        }
        beat(repo, me);
        List<Peer> peers = peers(repo, lease);
        List<Integer> live = new ArrayList<>();
        for (Peer p : peers) {
            if (p.id() == me || (p.locked() && p.fresh())) {
                live.add(p.id());
                continue;
            }
            // a stale controller whose lock is still held (stopped, cut off) must not come back to a
            // session that can still write: every repository backend of it goes first
            long cut = cutOff(repo, p);
            repo.update(FORGET, p.id());
            log.warn("Controller c{} (pid {} on host {}) is gone ({}){}: its syncs go to the live controllers",
                    p.id(), p.pid(), p.host(), p.locked() ? "no heartbeat for " + p.silentSeconds() + " s"
                            : "its repository session ended", cut > 0 ? ", " + cut + " session(s) of it cut off" : "");
        }
        List<String> active = repo.list(ACTIVE, rs -> rs.getString(1));
        Map<String, Integer> owner = new HashMap<>();
        Map<String, Claim> held = new LinkedHashMap<>();
        List<Claim> surplus = new ArrayList<>();
        for (var row : repo.list(CLAIMS, rs -> new Object[] {rs.getString(1), rs.getInt(2), rs.getLong(3),
            rs.getObject(4)})) {
            String sync = (String) row[0];
            int controller = (Integer) row[1];
            owner.put(sync, controller);
            if (controller == me) {
                Claim c = new Claim(sync, (Long) row[2], (Integer) row[3]);
                if (active.contains(sync)) {
                    held.put(sync, c);
                } else {
                    surplus.add(c);
                }
            }
        }
        int share = (active.size() + live.size() - 1) / live.size();
        List<String> taken = new ArrayList<>();
        if (mayTake) {
            for (String sync : active) {
                if (held.size() >= share) {
                    break;
                }
                Integer o = owner.get(sync);
                if (o != null && live.contains(o)) {
                    continue;
                }
                Claim c = repo.one(TAKE, rs -> new Claim(sync, rs.getLong(1), (Integer) rs.getObject(2)), sync, me)
                        .orElseThrow();
                // a run the dead controller left open ends here, as a lone controller's start ends them all
                new RunLog(repo).endOpenRuns(sync, "Old entry ended (sync taken by controller c" + me + ")");
                held.put(sync, c);
                taken.add(sync);
            }
        }
        // above its share: give back, the last first, so a controller that just started gets some
        List<String> mine = new ArrayList<>(held.keySet());
        for (int i = mine.size() - 1; i >= 0 && held.size() > share; i--) {
            surplus.add(held.remove(mine.get(i)));
        }
        return new Balance(held, taken, surplus, live.size());
    }

    private static void beat(Repository repo, int me) {
        if (repo.update(BEAT, me) == 0) {
            throw new IllegalStateException("another controller declared this one (c" + me + ") dead");
        }
    }

    private static List<Peer> peers(Repository repo, Duration lease) {
        return repo.list(PEERS, rs -> new Peer(rs.getInt(1), rs.getLong(2), rs.getString(3), rs.getBoolean(4),
                rs.getBoolean(5), rs.getLong(6)), lease.toMillis() / 1000.0);
    }

    /** Ends every repository session of controller {@code p} (its liveness lock and any round's lock go with them). */
    private static long cutOff(Repository repo, Peer p) {
        String app = ControllerSession.appPrefix(p.id());
        return repo.one(CUT_OFF, rs -> rs.getLong(1), app, app + " %", p.id()).orElse(0L);
    }

    /** {@link #serialize}, waiting at most {@link #ROUND_WAIT}; false when another round held the lock. */
    private static boolean serializeWithin(Repository repo) {
        String before = repo.one("SELECT current_setting('lock_timeout'), set_config('lock_timeout', ?, true)",
                rs -> rs.getString(1), ROUND_WAIT).orElseThrow();
        try {
            serialize(repo);
        } catch (RuntimeException e) {
            if (SqlState.of(SqlState.in(e)).orElse(null) == SqlState.LOCK_NOT_AVAILABLE) {
                return false;
            }
            throw e;
        }
        repo.one("SELECT set_config('lock_timeout', ?, true)", rs -> 1, before);
        return true;
    }

    /** The controller that holds the sync's claim, if any; commits. */
    static java.util.Optional<Integer> owner(Repository repo, String sync) {
        java.util.Optional<Integer> o = repo.one("SELECT controller FROM ibex.sync_claim WHERE sync = ?",
                rs -> rs.getInt(1), sync);
        repo.commit();
        return o;
    }

    /** Gives a claim back (its kid has stopped); does not commit. */
    static void release(Repository repo, int me, Claim c) {
        serialize(repo);
        repo.update(RELEASE, c.sync(), me, c.epoch());
    }
}
