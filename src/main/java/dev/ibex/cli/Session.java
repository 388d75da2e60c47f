package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.capture.Capture;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import dev.ibex.repository.Db;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Repository;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/** One configuration command's work: the repository transaction, what it prints, --force. */
final class Session {

    static final String NAME = "[A-Za-z_][A-Za-z0-9_.-]*";

    final Repository repo;
    final ModelWriter model;
    final boolean force;
    /** Set by remove --force: a source that cannot be reached must not block removing it. */
    boolean tolerateCaptureFailure;
    private final Consumer<String> out;
    /** The old source dbs the user has been told about in this command. */
    private final Set<String> toldOld = new HashSet<>();

    Session(Repository repo, Consumer<String> out, boolean force) {
        this.repo = repo;
        this.model = new ModelWriter(repo);
        this.out = out;
        this.force = force;
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

    /**
     * Runs catalog lookups on one of the user's databases over a short-lived connection. A server
     * older than ibex supports is refused; of an old one, the user is told once what it lacks.
     */
    <T> T withCatalog(Db db, Function<Catalog, T> work) {
        try (Connection c = db.spec().connect("ibex")) {
            ServerVersion version = ServerVersion.of(c);
            version.requireSupportedSource(db.name());
            List<String> notes = SqlFeature.oldSourceNotes(version);
            if (!notes.isEmpty() && toldOld.add(db.name())) {
                say("Note: db \"" + db.name() + "\" runs PostgreSQL " + version + ", which ibex reads as an old source: "
                        + String.join("; ", notes));
            }
            c.setReadOnly(true);
            return work.apply(new Catalog(c, db.name()));
        } catch (SQLException e) {
            throw PgErrors.failed("Reading db \"" + db.name() + "\"", e);
        }
    }

    /** Brings the capture objects of these source dbs in line with the repository as it now stands. */
    void reconcile(Collection<String> sourceDbs) {
        for (String name : new LinkedHashSet<>(sourceDbs)) {
            Db db = repo.db(name).orElse(null);
            if (db == null) {
                continue;
            }
            try {
                Capture.reconcile(repo, db);
            } catch (IbexException e) {
                if (!tolerateCaptureFailure) {
                    throw e;
                }
                say("Warning: could not update the triggers on db \"" + name + "\" (" + e.getMessage()
                        + "); going on because of --force: remove its ibex schema by hand if the db is gone");
            }
        }
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

    static void checkName(String what, String name, String pattern) {
        if (!name.matches(pattern)) {
            throw IbexException.badInput("Invalid " + what + " name \"" + name + "\": use letters, digits and _"
                    + (pattern.equals(NAME) ? " . -" : "") + ", starting with a letter or _");
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
