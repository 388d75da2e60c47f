package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Db;
import dev.ibex.repository.DbgroupMember;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Role;
import dev.ibex.repository.Sync;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;

/**
 * Checks, before a sync is saved, that it can run: its relgroup's tables exist on every db of its
 * dbgroup with matching columns, and tables sent as changes have a key. Refreshes recorded keys
 * that changed on the source since the table was added.
 */
final class SyncChecker {

    private final Session s;

    SyncChecker(Session s) {
        this.s = s;
    }

    private record Shape(Catalog.Rel rel, Catalog.Key key, List<Catalog.Column> columns) {
    }

    /** @return the source dbs */
    List<String> check(String sync, String relgroup, String dbgroup, boolean syncStrict) {
        List<DbgroupMember> members = s.repo.members(dbgroup);
        List<String> sources = members.stream().filter(m -> m.role() == Role.SOURCE).map(DbgroupMember::db).toList();
        if (sources.isEmpty()) {
            throw IbexException.badInput("Dbgroup \"" + dbgroup + "\" has no source db: give one db the source role "
                    + "(ibex update dbgroup " + dbgroup + " DB:source)");
        }
        if (members.size() < 2) {
            throw IbexException.badInput("Dbgroup \"" + dbgroup + "\" has only db \"" + members.get(0).db()
                    + "\": a sync needs a target too (ibex update dbgroup " + dbgroup + " DB:target)");
        }
        List<Relation> relations = s.repo.relations(relgroup);
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
        Map<Integer, Boolean> strict = new HashMap<>();
        s.repo.list("SELECT id, strict_checking FROM ibex.relation WHERE id IN (SELECT relation FROM "
                + "ibex.relgroup_member WHERE relgroup = ?)", rs -> strict.put(rs.getInt(1), rs.getBoolean(2)), relgroup);

        Map<Integer, Shape> origin = shapes(s.db(home), relations, null);
        refreshKeys(relations, origin);
        for (DbgroupMember m : members) {
            boolean needsKey = m.role() == Role.TARGET || (m.role() == Role.SOURCE && sources.size() > 1);
            for (Relation r : relations) {
                Shape o = origin.get(r.id());
                if (needsKey && !r.isSequence() && o.key().isEmpty()) {
                    throw IbexException.badInput("Table " + r.display() + " has no primary key or unique index, so sync \""
                            + sync + "\" cannot send its changes to db \"" + m.db() + "\" (" + m.role().word()
                            + "): add a primary key (ALTER TABLE " + r.quoted() + " ADD PRIMARY KEY (...)) on db \""
                            + home + "\", or give " + m.db() + " the fullcopy role (dbs=" + home + ":source,"
                            + m.db() + ":fullcopy)");
                }
            }
            if (m.db().equals(home)) {
                continue;
            }
            Map<Integer, Shape> there = shapes(s.db(m.db()), relations, home);
            for (Relation r : relations) {
                if (!r.isSequence()) {
                    compare(r, home, origin.get(r.id()), m.db(), there.get(r.id()),
                            syncStrict && strict.getOrDefault(r.id(), true));
                }
            }
        }
        return sources;
    }

    /**
     * Checks syncs again after their relgroup or dbgroup changed, then brings the triggers of their
     * sources, old and new, in line.
     */
    void recheck(Collection<String> syncs, Collection<String> sourcesBefore) {
        Set<String> sources = new LinkedHashSet<>(sourcesBefore);
        for (String name : syncs) {
            Sync sync = s.repo.sync(name).orElseThrow();
            sources.addAll(check(name, sync.relgroup(), sync.dbgroup(), sync.strictChecking()));
        }
        s.reconcile(sources);
    }

    private Map<Integer, Shape> shapes(Db db, List<Relation> relations, String home) {
        return s.withCatalog(db, catalog -> {
            Map<Relation, Catalog.Rel> found = new java.util.LinkedHashMap<>();
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
                s.model.updateRelation(r.id(), Map.of("keycols", o.key().columns(), "keytypes", o.key().types()));
                s.say("Key of " + r.display() + " is now " + (o.key().isEmpty() ? "none"
                        : "(" + String.join(", ", o.key().columns()) + ")"));
            }
        }
    }

    private static void compare(Relation r, String home, Shape o, String db, Shape t, boolean strict) {
        Map<String, Catalog.Column> theirs = new HashMap<>();
        t.columns().forEach(c -> theirs.put(c.name(), c));
        for (Catalog.Column c : o.columns()) {
            Catalog.Column tc = theirs.remove(c.name());
            if (tc == null) {
                throw IbexException.badInput("Table " + r.display() + " on db \"" + db + "\" has no column \"" + c.name()
                        + "\" (db \"" + home + "\" has it): add it there (ALTER TABLE " + r.quoted() + " ADD COLUMN "
                        + Identifiers.quote(c.name()) + " " + c.type() + ")");
            }
            if (strict && !tc.type().equals(c.type())) {
                throw IbexException.badInput("Column \"" + c.name() + "\" of " + r.display() + " is " + c.type()
                        + " on db \"" + home + "\" but " + tc.type() + " on db \"" + db + "\": make the types match, "
                        + "or set strict_checking=false");
            }
        }
        if (strict && !theirs.isEmpty()) {
            throw IbexException.badInput("Table " + r.display() + " on db \"" + db + "\" has column \""
                    + theirs.keySet().iterator().next() + "\" that db \"" + home + "\" lacks: drop it there, or set "
                    + "strict_checking=false");
        }
    }
}
