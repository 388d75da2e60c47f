package dev.ibex.migrate;

import dev.ibex.IbexException;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.ColumnDiff;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.repository.Db;
import dev.ibex.repository.DbgroupMember;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Role;
import dev.ibex.repository.Sync;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Checks, before a sync is saved, that it can run: its relgroup's tables exist on every db of its
 * dbgroup with matching columns, and tables sent as changes have a key. Refreshes recorded keys
 * that changed on the source since the table was added.
 */
public final class SyncChecker {

    private final Repository repo;
    private final ModelWriter model;
    private final Catalogs catalogs;
    private final Consumer<String> out;

    public SyncChecker(Repository repo, ModelWriter model, Catalogs catalogs, Consumer<String> out) {
        this.repo = repo;
        this.model = model;
        this.catalogs = catalogs;
        this.out = out;
    }

    private record Shape(Catalog.Rel rel, Catalog.Key key, List<Catalog.Column> columns) {
    }

    /** @return the source dbs */
    public List<String> check(String sync, String relgroup, String dbgroup, boolean syncStrict) {
        List<DbgroupMember> members = repo.members(dbgroup);
        List<String> sources = sources(dbgroup, members);
        List<Relation> relations = repo.relations(relgroup);
        String home = home(relgroup, dbgroup, relations, sources);
        Map<Integer, Boolean> strict = new HashMap<>();
        repo.list(STRICT_CHECKING, rs -> strict.put(rs.getInt(1), rs.getBoolean(2)), relgroup);

        Map<Integer, Shape> origin = shapes(db(home), relations, null);
        requireColumns(home, relations, origin);
        refreshKeys(relations, origin);
        for (DbgroupMember m : members) {
            if (m.role() == Role.TARGET || (m.role() == Role.SOURCE && sources.size() > 1)) {
                requireKeys(sync, home, m, relations, origin);
            }
            if (m.role() != Role.SOURCE || sources.size() > 1) {
                requireWritable(m);
            }
            if (m.db().equals(home)) {
                continue;
            }
            Map<Integer, Shape> there = shapes(db(m.db()), relations, home);
            for (Relation r : relations) {
                if (!r.isSequence()) {
                    compare(r, home, origin.get(r.id()), m.db(), there.get(r.id()),
                            syncStrict && strict.getOrDefault(r.id(), true));
                    if (m.role() == Role.SOURCE) {
                        requireSameKey(r, home, origin.get(r.id()), m.db(), there.get(r.id()));
                    }
                }
            }
        }
        return sources;
    }

    private static final String STRICT_CHECKING = """
            SELECT id, strict_checking FROM ibex.relation
             WHERE id IN (SELECT relation FROM ibex.relgroup_member WHERE relgroup = ?)""";

    /** ibex's apply (trigger suppression, its SQL) needs {@link ServerVersion#OLDEST_TARGET}. */
    private void requireWritable(DbgroupMember m) {
        ServerVersion v;
        try (Connection c = db(m.db()).spec().connect("ibex")) {
            v = ServerVersion.of(c);
        } catch (SQLException e) {
            throw PgErrors.failed("Reading db \"" + m.db() + "\"", e);
        }
        if (v.compareTo(ServerVersion.OLDEST_TARGET) < 0) {
            throw IbexException.badInput("Db \"" + m.db() + "\" runs PostgreSQL " + v.majorText() + ", and ibex writes "
                    + "to dbs from PostgreSQL " + ServerVersion.OLDEST_TARGET.majorText() + " on"
                    + (m.role() == Role.SOURCE ? " (with several sources, each source is written to as well)" : "")
                    + ": upgrade it, or " + (m.role() == Role.SOURCE ? "keep it the only source" : "use a newer server"));
        }
    }

    /** Several sources send each other keys: a key must name the same row on each of them. */
    private static void requireSameKey(Relation r, String home, Shape o, String db, Shape t) {
        if (!o.key().columns().equals(t.key().columns())) {
            throw IbexException.badInput("Table " + r.display() + " has key " + keyText(o.key()) + " on source db \""
                    + home + "\" but " + keyText(t.key()) + " on source db \"" + db + "\": sources of one sync must "
                    + "have the same primary key (or unique index) on each table; make them match");
        }
    }

    private static String keyText(Catalog.Key k) {
        return k.isEmpty() ? "none" : "(" + String.join(", ", k.columns()) + ")";
    }

    private static List<String> sources(String dbgroup, List<DbgroupMember> members) {
        List<String> sources = members.stream().filter(m -> m.role() == Role.SOURCE).map(DbgroupMember::db).toList();
        if (sources.size() > 1 && members.stream().anyMatch(m -> m.role() == Role.FULLCOPY)) {
            throw IbexException.badInput("Dbgroup \"" + dbgroup + "\" has several sources and a fullcopy db: a fullcopy "
                    + "db takes whole tables from one source; give it the target role, or feed it from a sync with "
                    + "one source");
        }
        if (sources.isEmpty()) {
            throw IbexException.badInput("Dbgroup \"" + dbgroup + "\" has no source db: give one db the source role "
                    + "(ibex update dbgroup " + dbgroup + " DB:source)");
        }
        if (members.size() < 2) {
            throw IbexException.badInput("Dbgroup \"" + dbgroup + "\" has only db \"" + members.get(0).db()
                    + "\": a sync needs a target too (ibex update dbgroup " + dbgroup + " DB:target)");
        }
        return sources;
    }

    /** The source db whose tables the relgroup holds. */
    private static String home(String relgroup, String dbgroup, List<Relation> relations, List<String> sources) {
        if (relations.isEmpty()) {
            throw IbexException.badInput("Relgroup \"" + relgroup + "\" has no tables or sequences: add some with "
                    + "'ibex add table T db=DB relgroup=" + relgroup + "'");
        }
        String home = relations.get(0).db();
        if (!sources.contains(home)) {
            throw IbexException.badInput("Relgroup \"" + relgroup + "\" holds tables of db \"" + home
                    + "\", which is not a source in dbgroup \"" + dbgroup + "\": make it the source (" + home
                    + ":source) or use a relgroup of a source db");
        }
        return home;
    }

    /** A table without columns (CREATE TABLE t ()) has only a row count, which COPY cannot carry. */
    private static void requireColumns(String home, List<Relation> relations, Map<Integer, Shape> origin) {
        for (Relation r : relations) {
            if (!r.isSequence() && origin.get(r.id()).columns().stream().allMatch(Catalog.Column::generated)) {
                throw IbexException.badInput("Table " + r.display() + " on db \"" + home + "\" has no column that can "
                        + "be copied, so ibex cannot replicate it: remove it from the relgroup ('ibex remove table "
                        + r.display() + " db=" + home + "')");
            }
        }
    }

    /** A db that gets changes by key needs every table to have one; all keyless tables are named at once. */
    private static void requireKeys(String sync, String home, DbgroupMember m, List<Relation> relations,
                                    Map<Integer, Shape> origin) {
        List<Relation> keyless = relations.stream()
                .filter(r -> !r.isSequence() && origin.get(r.id()).key().isEmpty()).toList();
        if (keyless.isEmpty()) {
            return;
        }
        String fullcopy = "give " + m.db() + " the fullcopy role (dbs=" + home + ":source," + m.db() + ":fullcopy)";
        if (keyless.size() == 1) {
            Relation r = keyless.get(0);
            throw IbexException.badInput("Table " + r.display() + " has no primary key or unique index, so sync \""
                    + sync + "\" cannot send its changes to db \"" + m.db() + "\" (" + m.role().word()
                    + "): add a primary key (ALTER TABLE " + r.quoted() + " ADD PRIMARY KEY (...)) on db \""
                    + home + "\", or " + fullcopy);
        }
        int shown = Math.min(5, keyless.size());
        String names = String.join(", ", keyless.subList(0, shown).stream().map(Relation::display).toList())
                + (keyless.size() > shown ? " and " + (keyless.size() - shown) + " more" : "");
        throw IbexException.badInput(keyless.size() + " tables have no primary key or unique index (" + names
                + "), so sync \"" + sync + "\" cannot send their changes to db \"" + m.db() + "\" (" + m.role().word()
                + "): add primary keys on db \"" + home + "\"; or " + fullcopy + "; or sync the keyed tables only, "
                + "in a relgroup made with 'ibex add all tables db=" + home + " relgroup=NAME --keyed-only', and the "
                + "others through a fullcopy sync");
    }

    /**
     * Checks syncs again after their relgroup or dbgroup changed.
     *
     * @return their sources, old and new, whose triggers must be brought in line
     */
    public Set<String> recheck(Collection<String> syncs, Collection<String> sourcesBefore) {
        Set<String> sources = new LinkedHashSet<>(sourcesBefore);
        for (String name : syncs) {
            Sync sync = repo.sync(name).orElseThrow();
            sources.addAll(check(name, sync.relgroup(), sync.dbgroup(), sync.strictChecking()));
        }
        return sources;
    }

    private Db db(String name) {
        return repo.db(name).orElseThrow(() -> IbexException.badInput("No db named \"" + name
                + "\": see 'ibex list dbs', or add it with 'ibex add db " + name + " dbname=... host=...'"));
    }

    private Map<Integer, Shape> shapes(Db db, List<Relation> relations, String home) {
        return catalogs.with(db, catalog -> {
            Map<Relation, Catalog.Rel> found = new LinkedHashMap<>();
            for (Relation r : relations) {
                String kind = r.isSequence() ? Catalog.SEQUENCE : Catalog.TABLE;
                Catalog.Rel rel = catalog.exact(r.schema(), r.name(), kind);
                if (rel == null) {
                    throw IbexException.badInput("The " + r.reltype() + " " + r.display() + " does not exist on db \""
                            + db.name() + "\": " + (home == null ? "create it again there, or remove it with 'ibex remove "
                            + r.reltype() + " " + r.display() + "'"
                            : "create it there with the same columns as on db \"" + home + "\" (pg_dump --schema-only "
                            + "-t " + r.display() + "), or remove db \"" + db.name() + "\" from the dbgroup"));
                }
                found.put(r, rel);
            }
            List<Catalog.Rel> tables = found.values().stream().filter(rel -> !rel.isSequence()).toList();
            Map<Long, Catalog.Key> keys = catalog.keys(tables);
            Map<Long, List<Catalog.Column>> columns = catalog.columns(tables);
            Map<Integer, Shape> out = new HashMap<>();
            found.forEach((r, rel) -> out.put(r.id(), rel.isSequence() ? new Shape(rel, null, List.of())
                    : new Shape(rel, keys.get(rel.oid()), columns.get(rel.oid()))));
            return out;
        });
    }

    private void refreshKeys(List<Relation> relations, Map<Integer, Shape> origin) {
        for (int i = 0; i < relations.size(); i++) {
            Relation r = relations.get(i);
            Shape o = origin.get(r.id());
            if (!r.isSequence() && !o.key().columns().equals(r.keyColumns())) {
                model.updateRelation(r.id(), Map.of("keycols", o.key().columns(), "keytypes", o.key().types()));
                out.accept("Key of " + r.display() + " is now " + (o.key().isEmpty() ? "none"
                        : "(" + String.join(", ", o.key().columns()) + ")"));
            }
        }
    }

    /** A missing column always refuses the sync; a type or an extra column only under strict checking. */
    private static void compare(Relation r, String home, Shape o, String db, Shape t, boolean strict) {
        for (ColumnDiff.Finding f : ColumnDiff.of(o.columns(), t.columns())) {
            switch (f.kind()) {
                case MISSING -> throw IbexException.badInput("Table " + r.display() + " on db \"" + db
                        + "\" has no column \"" + f.column() + "\" (db \"" + home + "\" has it): add it there (ALTER TABLE "
                        + r.quoted() + " ADD COLUMN " + Identifiers.quote(f.column()) + " " + f.source().type() + ")");
                case TYPE_DIFFERS -> {
                    if (strict) {
                        throw IbexException.badInput("Column \"" + f.column() + "\" of " + r.display() + " is "
                                + f.source().type() + " on db \"" + home + "\" but " + f.target().type() + " on db \""
                                + db + "\": make the types match, or set strict_checking=false");
                    }
                }
                case EXTRA, EXTRA_REQUIRED -> {
                    if (strict) {
                        throw IbexException.badInput("Table " + r.display() + " on db \"" + db + "\" has column \""
                                + f.column() + "\" that db \"" + home + "\" lacks: drop it there, or set "
                                + "strict_checking=false");
                    }
                }
            }
        }
    }
}
