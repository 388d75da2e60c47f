package dev.ibex.migrate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Db;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Role;
import dev.ibex.repository.Sync;
import dev.ibex.repository.SyncPlan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The way back of `ibex cutover SYNC --reverse`: a sync from the forward sync's target (the new
 * db) back to its source (the old db), so the old db stays current after the applications moved.
 *
 * <p>Names: the sync, its relgroup and its dbgroup are all called {@code <sync>_reverse} unless
 * --reverse-name says otherwise; the name follows the sync name rules and, like an identifier,
 * stays within 63 bytes, so it is never cut where PostgreSQL shows it (application_name). An
 * existing sync of that name is refused; an existing relgroup or dbgroup of that name is taken
 * over only when it holds exactly what the way back needs (what 'ibex remove sync' of an earlier
 * way back leaves), else refused. The relgroup holds the forward sync's tables and sequences as
 * relations of the new db, with the forward keys; the dbgroup is new:source, old:target.
 *
 * <p>Everything is checked before anything is created ({@link #preflight}): the model is written
 * in the repository transaction, checked as 'ibex add sync' and 'ibex validate' check a sync (the
 * new db must take capture objects, the old db must let ibex suppress its triggers), and rolled
 * back.
 */
public final class WayBackPlan {

    private final SyncPlan forward;
    private final Db from;
    private final Db to;
    private final String name;

    private WayBackPlan(SyncPlan forward, Db from, Db to, String name) {
        this.forward = forward;
        this.from = from;
        this.to = to;
        this.name = name;
    }

    /** The forward sync's shape and the names, checked in the repository only; throws one line. */
    public static WayBackPlan of(Repository repo, String forwardSync, String requestedName) {
        SyncPlan forward = repo.plan(forwardSync);
        String sync = forward.sync().name();
        if (forward.sources().size() != 1 || forward.targets().size() != 1 || !forward.fullcopyTargets().isEmpty()) {
            throw refused(sync, "--reverse needs a sync from one source db to one target db, and it has "
                    + members(forward) + ": set up a way back by hand with 'ibex add sync'");
        }
        String name = requestedName == null ? sync + "_reverse" : requestedName;
        WayBackPlan p = new WayBackPlan(forward, forward.targets().get(0), forward.sources().get(0), name);
        p.checkName(requestedName != null);
        p.checkFree(repo, new ModelWriter(repo));
        return p;
    }

    /** The way back's sync, relgroup and dbgroup name. */
    public String name() {
        return name;
    }

    public String forwardSync() {
        return forward.sync().name();
    }

    /** The new db: the way back's source. */
    public Db from() {
        return from;
    }

    /** The old db: the way back's target. */
    public Db to() {
        return to;
    }

    /**
     * Everything the way back needs, checked with nothing kept: the model written and checked in
     * the repository's transaction, then rolled back. Throws one line naming every problem.
     */
    public void preflight(Repository repo) {
        try {
            ModelWriter model = new ModelWriter(repo);
            writeModel(model);
            List<CheckResult> fails = Validator.wayBack(repo.plan(name)).run().stream()
                    .filter(r -> r.status() == CheckStatus.FAIL).toList();
            if (!fails.isEmpty()) {
                boolean unreachable = fails.stream().anyMatch(f -> f.check().equals("connection"));
                throw new IbexException(unreachable ? ExitCode.DATABASE : ExitCode.BAD_INPUT, refusal(fails));
            }
            check(repo, model, line -> { });
        } catch (IbexException e) {
            throw e.getMessage().startsWith("Cannot reverse") ? e
                    : new IbexException(e.exit(), prefix() + e.getMessage(), e.causeLine(), e);
        } finally {
            repo.rollback();
        }
    }

    /** The same checks 'ibex add sync' makes; returns the way back's sources (the new db). */
    public List<String> check(Repository repo, ModelWriter model, Consumer<String> out) {
        return syncChecker(repo, model, out).check(name, name, name, forward.sync().strictChecking());
    }

    private static SyncChecker syncChecker(Repository repo, ModelWriter model, Consumer<String> out) {
        return new SyncChecker(repo, model, new Catalogs(out), out);
    }

    /**
     * Writes the way back in the repository's open transaction: relations of the new db (those it
     * has already are used as they are), the relgroup and dbgroup unless they exist (checked to be
     * the same), and the sync, active, with no one-time copy (the cutover check proved the old db
     * equal) and the forward sync's autokick, checktime and strict checking.
     */
    public void writeModel(ModelWriter model) {
        List<Integer> ids = new ArrayList<>();
        for (Relation r : forward.relations()) {
            Optional<Relation> there = model.relation(from.name(), r.schema(), r.name());
            ids.add(there.isPresent() ? there.get().id() : model.insertRelation(from.name(), r.schema(), r.name(),
                    r.reltype(), r.isSequence() ? Map.of() : Map.of("keycols", r.keyColumns(), "keytypes", r.keyTypes())));
        }
        if (!model.relgroupExists(name)) {
            model.insertRelgroup(name);
            ids.forEach(id -> model.addToRelgroup(name, id));
        }
        if (!model.dbgroupExists(name)) {
            model.insertDbgroup(name);
            model.putInDbgroup(name, from.name(), Role.SOURCE);
            model.putInDbgroup(name, to.name(), Role.TARGET);
        }
        model.insertSync(name, syncColumns(forward.sync(), name));
    }

    private static Map<String, Object> syncColumns(Sync fwd, String name) {
        Map<String, Object> cols = new LinkedHashMap<>();
        cols.put("relgroup", name);
        cols.put("dbgroup", name);
        cols.put("status", "active");
        cols.put("onetimecopy", 0);
        cols.put("autokick", fwd.autokick());
        if (fwd.checktime() != null) {
            cols.put("checktime", fwd.checktime() + " seconds");
        }
        cols.put("strict_checking", fwd.strictChecking());
        return cols;
    }

    private void checkName(boolean requested) {
        String sync = forward.sync().name();
        if (!name.matches(ModelWriter.SYNC_NAME) || ModelWriter.RESERVED_SYNC_NAMES.contains(name.toLowerCase(Locale.ROOT))) {
            throw refused(sync, "\"" + name + "\" is not a sync name: use letters, digits and _, starting with a "
                    + "letter or _, and not pushdelta, fullcopy, swap, sync or all");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > Identifiers.MAX_BYTES) {
            throw refused(sync, "the way back's name \"" + name + "\" is " + bytes + " bytes, over " + Identifiers.MAX_BYTES + ": "
                    + (requested ? "choose a shorter --reverse-name" : "name the way back with --reverse-name=NAME"));
        }
    }

    private void checkFree(Repository repo, ModelWriter model) {
        String sync = forward.sync().name();
        String other = "remove it, or name the way back with --reverse-name=NAME";
        if (model.syncExists(name)) {
            throw refused(sync, "a sync named \"" + name + "\" exists already: " + other + " ('ibex remove sync "
                    + name + "')");
        }
        if (model.relgroupExists(name) && !sameRelations(model)) {
            throw refused(sync, "relgroup \"" + name + "\" exists and holds other tables than the way back needs (those "
                    + "of sync \"" + sync + "\" on db " + from.name() + "): " + other + " ('ibex remove relgroup " + name
                    + "')");
        }
        if (model.dbgroupExists(name) && !sameDbs(repo)) {
            throw refused(sync, "dbgroup \"" + name + "\" exists and holds other dbs than the way back needs ("
                    + from.name() + ":source, " + to.name() + ":target): " + other + " ('ibex remove dbgroup " + name
                    + "')");
        }
    }

    private boolean sameRelations(ModelWriter model) {
        Set<Integer> wanted = new HashSet<>();
        for (Relation r : forward.relations()) {
            Optional<Relation> there = model.relation(from.name(), r.schema(), r.name());
            if (there.isEmpty()) {
                return false;
            }
            wanted.add(there.get().id());
        }
        return wanted.equals(new HashSet<>(model.relgroupMembers(name)));
    }

    private boolean sameDbs(Repository repo) {
        Set<String> have = repo.members(name).stream().map(m -> m.db() + ":" + m.role().word()).collect(Collectors.toSet());
        return have.equals(Set.of(from.name() + ":source", to.name() + ":target"));
    }

    private static String members(SyncPlan p) {
        List<String> parts = new ArrayList<>();
        parts.add("source(s) " + names(p.sources()));
        parts.add("target(s) " + names(p.targets()));
        if (!p.fullcopyTargets().isEmpty()) {
            parts.add("fullcopy target(s) " + names(p.fullcopyTargets()));
        }
        return String.join(", ", parts);
    }

    private static String names(List<Db> dbs) {
        return dbs.isEmpty() ? "none" : dbs.stream().map(Db::name).collect(Collectors.joining(", "));
    }

    private String prefix() {
        return "Cannot reverse sync \"" + forward.sync().name() + "\" (the way back: sync \"" + name + "\" from db "
                + from.name() + " to db " + to.name() + "): ";
    }

    private String refusal(List<CheckResult> fails) {
        return prefix() + fails.stream().map(f -> f.detail() + "; fix: " + f.fix()).collect(Collectors.joining("; also: "));
    }

    private static IbexException refused(String sync, String why) {
        return IbexException.badInput("Cannot reverse sync \"" + sync + "\": " + why);
    }
}
