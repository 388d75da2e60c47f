package dev.ibex.migrate;

import dev.ibex.IbexException;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.SyncPlan;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pre-flight checks of `ibex validate` for one sync. Every check runs even after another
 * failed; a check that cannot reach a database it needs is skipped (the connection check already
 * failed for it).
 */
public final class Validator {

    private final SyncPlan plan;
    private final String sync;
    private final List<CheckResult> results = new ArrayList<>();
    private final Map<String, DbSession> sessions = new LinkedHashMap<>();
    private final boolean wayBack;

    public Validator(SyncPlan plan) {
        this(plan, false);
    }

    private Validator(SyncPlan plan, boolean wayBack) {
        this.plan = plan;
        this.sync = plan.sync().name();
        this.wayBack = wayBack;
    }

    /**
     * The checks for the way back of a cutover (`cutover --reverse`): the new server is the source
     * and the old one the target. The tables on the old server are where the new ones came from,
     * so an older target is expected, and its extensions and languages are not compared.
     */
    public static Validator wayBack(SyncPlan plan) {
        return new Validator(plan, true);
    }

    boolean isWayBack() {
        return wayBack;
    }

    public List<CheckResult> run() {
        try {
            connectAll();
            List<DbSession> sources = sessionsOf(plan.sources());
            List<DbSession> targets = sessionsOf(allTargets());
            for (DbSession source : sources) {
                for (DbSession target : targets) {
                    guarded(() -> new ServerChecks(this, source, target).run());
                }
            }
            guarded(() -> new TableChecks(this, plan, sessions).run());
            for (DbSession source : sources) {
                guarded(() -> new PrivilegeChecks(this, plan).source(source));
                guarded(() -> new ServerChecks(this, source, null).sourceOnly());
            }
            for (DbSession target : targets) {
                if (target.serverVersion().compareTo(ServerVersion.OLDEST_TARGET) >= 0) { // else the version check failed
                    guarded(() -> new PrivilegeChecks(this, plan).target(target));
                }
            }
            return List.copyOf(results);
        } finally {
            sessions.values().forEach(DbSession::close);
        }
    }

    /** Delta targets and fullcopy targets: every db that receives rows. */
    List<Db> allTargets() {
        List<Db> out = new ArrayList<>(plan.targets());
        out.addAll(plan.fullcopyTargets());
        return out;
    }

    List<Relation> tables() {
        return plan.tables();
    }

    void add(CheckResult r) {
        results.add(r);
    }

    void pass(String check, String detail) {
        add(CheckResult.pass(sync, check, detail));
    }

    void warn(String check, String detail, String fix) {
        add(CheckResult.warn(sync, check, detail, fix));
    }

    void fail(String check, String detail, String fix) {
        add(CheckResult.fail(sync, check, detail, fix));
    }

    private void connectAll() {
        List<Db> all = new ArrayList<>(plan.sources());
        all.addAll(allTargets());
        for (Db db : all) {
            if (sessions.containsKey(db.name())) {
                continue;
            }
            try {
                DbSession s = DbSession.open(db, "ibex validate");
                sessions.put(db.name(), s);
                pass("connection", "db " + db.name() + ": connected to " + db.spec().hostPort() + " as \"" + s.user()
                        + "\", PostgreSQL " + s.version());
            } catch (IbexException e) {
                fail("connection", e.getMessage(), "fix the db with 'ibex update db " + db.name() + " ...'");
            }
        }
    }

    private List<DbSession> sessionsOf(List<Db> dbs) {
        return dbs.stream().map(d -> sessions.get(d.name())).filter(s -> s != null).toList();
    }

    @FunctionalInterface
    interface Check {
        void run() throws SQLException;
    }

    /** A query that fails inside one check becomes that check's FAIL; the others still run. */
    private void guarded(Check check) {
        try {
            check.run();
        } catch (SQLException e) {
            fail("internal", "a catalog query failed: " + PgErrors.firstLine(e.getMessage()),
                    "report this with the output of --debug");
        }
    }
}
