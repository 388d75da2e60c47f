package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.capture.Capture;
import dev.ibex.capture.ModelLocks;
import dev.ibex.migrate.Catalogs;
import dev.ibex.migrate.Relations;
import dev.ibex.migrate.SyncChecker;
import dev.ibex.pg.Catalog;
import dev.ibex.repository.Db;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Repository;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/** One configuration command's work: the repository transaction, what it prints, --force. */
final class Session {

    final Repository repo;
    final ModelWriter model;
    final boolean force;
    /** Set by remove --force: a source that cannot be reached must not block removing it. */
    boolean tolerateCaptureFailure;
    private final Consumer<String> out;
    private final Catalogs catalogs;
    /** Sources this command reconciled (their capture committed on the source at once). */
    private final List<Db> reconciled = new ArrayList<>();

    Session(Repository repo, Consumer<String> out, boolean force) {
        this.repo = repo;
        this.model = new ModelWriter(repo);
        this.out = out;
        this.force = force;
        this.catalogs = new Catalogs(out);
    }

    void say(String line) {
        out.accept(line);
    }

    Db db(String name) {
        return repo.db(name).orElseThrow(() -> IbexException.badInput("No db named \"" + name
                + "\": see 'ibex list dbs', or add it with 'ibex add db " + name + " dbname=... host=...'"));
    }

    /** The db named by db=, or the only db when there is one. */
    Db dbOrOnly(String name, String command) {
        if (name != null) {
            return db(name);
        }
        List<Db> all = repo.dbs();
        if (all.size() == 1) {
            return all.get(0);
        }
        if (all.isEmpty()) {
            throw IbexException.badInput("No db yet for '" + command + "': add one first with 'ibex add db NAME dbname=...'");
        }
        throw IbexException.badInput("Which db? '" + command + "' needs db=NAME when there are several ("
                + String.join(", ", all.stream().map(Db::name).toList()) + ")");
    }

    /** Catalog lookups on the user's databases, for this command. */
    <T> T withCatalog(Db db, Function<Catalog, T> work) {
        return catalogs.with(db, work);
    }

    SyncChecker syncChecker() {
        return new SyncChecker(repo, model, catalogs, out);
    }

    Relations relations() {
        return new Relations(model, catalogs, out);
    }

    /** Checks syncs again after their relgroup or dbgroup changed, then brings their sources' triggers in line. */
    void recheck(Collection<String> syncs, Collection<String> sourcesBefore) {
        reconcile(syncChecker().recheck(syncs, sourcesBefore));
    }

    /**
     * Before taking tables out of syncs: waits for the runs of the syncs reading these sources and
     * keeps new ones off until the command commits ({@link ModelLocks}). A run under way read the
     * tables as they were and would record its snapshot as covering them after the command, when
     * nothing reads their changes for the sync any more.
     */
    void holdRuns(Collection<String> sourceDbs) {
        new LinkedHashSet<>(sourceDbs).forEach(db -> ModelLocks.holdForChange(repo, db));
    }

    /** Brings the capture objects of these source dbs in line with the repository as it now stands. */
    void reconcile(Collection<String> sourceDbs) {
        for (String name : new LinkedHashSet<>(sourceDbs)) {
            Db db = repo.db(name).orElse(null);
            if (db == null) {
                continue;
            }
            try {
                // the source's transaction commits here, the repository's with the command
                Capture.reconcile(repo, db);
                reconciled.add(db);
            } catch (IbexException e) {
                if (!tolerateCaptureFailure) {
                    throw e;
                }
                say("Warning: could not update the triggers on db \"" + name + "\" (" + e.getMessage()
                        + "); going on because of --force: remove its ibex schema by hand if the db is gone");
            }
        }
    }

    /**
     * The command failed after reconciling sources, each of which committed on its own: rolls the
     * repository back and brings those sources back in line with it, so that a refused command
     * leaves no capture behind (triggers, a logged truncate) for a table the repository does not
     * have. Returns what could not be put back, as a sentence to add to the error; empty if all was.
     */
    String putCaptureBack() {
        if (reconciled.isEmpty()) {
            return "";
        }
        repo.rollback();
        StringBuilder left = new StringBuilder();
        for (Db db : reconciled) {
            try {
                Capture.reconcile(repo, db);
                repo.commit();
            } catch (RuntimeException e) {
                repo.rollback();
                left.append("; the capture on db \"").append(db.name()).append("\" could not be put back as the "
                        + "repository has it (").append(e.getMessage()).append("): run 'ibex reload' once it is reachable");
            }
        }
        reconciled.clear();
        return left.toString();
    }

    /** Seconds in an interval such as "30s", "5 minutes", "1 hour"; null for 0 or none. */
    Long interval(String key, String value) {
        if (value == null || value.equalsIgnoreCase("none") || value.equals("0")) {
            return null;
        }
        Connection c = repo.connection();
        Savepoint sp = null;
        try {
            sp = c.setSavepoint();
            Long s = repo.one("SELECT extract(epoch FROM CAST(? AS interval))::bigint", rs -> rs.getLong(1), value)
                    .orElseThrow();
            c.releaseSavepoint(sp);
            if (s < 0) {
                throw IbexException.badInput("Invalid " + key + "=" + value + ": use a positive interval such as 30s or 5 minutes");
            }
            return s;
        } catch (IbexException | SQLException e) {
            if (e instanceof IbexException ie && ie.exit() == ExitCode.BAD_INPUT) {
                throw ie;
            }
            try {
                if (sp != null) {
                    c.rollback(sp);
                }
            } catch (SQLException ignored) {
                // the outer transaction rolls back anyway
            }
            throw IbexException.badInput("Invalid " + key + "=" + value + ": use an interval such as 30s, 5 minutes or 1 hour");
        }
    }

    /** name, or name_2, name_3 ... whichever is free. */
    static String freeName(String base, Set<String> taken) {
        String n = base;
        for (int i = 2; taken.contains(n); i++) {
            n = base + "_" + i;
        }
        return n;
    }
}
