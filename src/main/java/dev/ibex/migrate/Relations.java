package dev.ibex.migrate;

import dev.ibex.IbexException;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.NamePattern;
import dev.ibex.repository.Db;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Relation;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** Finding tables and sequences (in a db's catalog or in the repository) and grouping them. */
public final class Relations {

    private final ModelWriter model;
    private final Catalogs catalogs;
    private final Consumer<String> out;

    public Relations(ModelWriter model, Catalogs catalogs, Consumer<String> out) {
        this.model = model;
        this.catalogs = catalogs;
        this.out = out;
    }

    private record Found(Catalog.Rel rel, Catalog.Key key) {
    }

    /**
     * Finds every term in the db's catalog and records the relations the repository lacks, with
     * their keys. Every term must match something, or nothing is recorded.
     *
     * @param kind {@link Catalog#TABLE}, {@link Catalog#SEQUENCE}, or null for either
     */
    public List<Relation> addFromCatalog(Db db, List<String> terms, String kind, Map<String, Object> options) {
        if (terms.isEmpty()) {
            throw IbexException.badInput("Which " + what(kind) + "? Name at least one, e.g. 'ibex add "
                    + (Catalog.SEQUENCE.equals(kind) ? "sequence public.s" : "table public.t crm.\"Line Items\" order%")
                    + " db=" + db.name() + "'");
        }
        List<NamePattern> patterns = terms.stream().map(NamePattern::parse).toList();
        List<Found> found = catalogs.with(db, catalog -> {
            Map<String, Catalog.Rel> out = new LinkedHashMap<>();
            List<String> missing = new ArrayList<>();
            for (NamePattern p : patterns) {
                List<Catalog.Rel> rels = new ArrayList<>();
                if (kind == null || kind.equals(Catalog.TABLE)) {
                    rels.addAll(catalog.find(p, Catalog.TABLE));
                }
                if (kind == null && rels.isEmpty() || Catalog.SEQUENCE.equals(kind)) {
                    rels.addAll(catalog.find(p, Catalog.SEQUENCE));
                }
                if (rels.isEmpty() && !Catalog.SEQUENCE.equals(kind)) {
                    notATable(catalog, db, p);
                }
                if (rels.isEmpty()) {
                    missing.add(p.term());
                }
                rels.forEach(r -> out.putIfAbsent(r.display(), r));
            }
            if (!missing.isEmpty()) {
                throw IbexException.badInput("No " + what(kind) + " " + missing.stream().map(m -> "\"" + m + "\"")
                        .collect(Collectors.joining(", ")) + " in db \"" + db.name() + "\": check the name "
                        + "(schema.name; quote mixed case as '\"Line Items\"'), or create it there first");
            }
            return found(catalog, out.values());
        });
        return record(db, found, options);
    }

    /**
     * A name that means a partitioned parent or a materialized view is refused with what to add
     * instead: "No table ..., create it there first" would send the user to make what exists.
     */
    private static void notATable(Catalog catalog, Db db, NamePattern p) {
        List<Catalog.Rel> parents = catalog.find(p, Catalog.PARTITIONED);
        if (!parents.isEmpty()) {
            throw IbexException.badInput("Table " + parents.get(0).display() + " in db \"" + db.name() + "\" is "
                    + "partitioned and holds no rows itself: add its partitions instead (psql's \\d+ "
                    + parents.get(0).display() + " lists them)");
        }
        List<Catalog.Rel> views = catalog.find(p, Catalog.MATERIALIZED_VIEW);
        if (!views.isEmpty()) {
            throw IbexException.badInput(views.get(0).display() + " in db \"" + db.name() + "\" is a materialized "
                    + "view, which ibex does not replicate: refresh it on the target instead");
        }
    }

    /** The relations with their keys, read in one query. */
    private static List<Found> found(Catalog catalog, Collection<Catalog.Rel> rels) {
        Map<Long, Catalog.Key> keys = catalog.keys(rels.stream().filter(r -> !r.isSequence()).toList());
        return rels.stream().map(r -> new Found(r, r.isSequence() ? null : keys.get(r.oid()))).toList();
    }

    /** What add all takes: -n/-N schemas, -t/-T tables, and --keyed-only. */
    public record Filter(List<String> schemas, List<String> notSchemas, List<String> tables, List<String> notTables,
                         boolean keyedOnly) {

        boolean wants(Catalog.Rel r) {
            return (schemas.isEmpty() || schemas.stream().anyMatch(p -> schemaMatches(p, r.schema())))
                    && notSchemas.stream().noneMatch(p -> schemaMatches(p, r.schema()))
                    && (tables.isEmpty() || tables.stream().anyMatch(p -> NamePattern.parse(p).matches(r.schema(), r.name())))
                    && notTables.stream().noneMatch(p -> NamePattern.parse(p).matches(r.schema(), r.name()));
        }

        boolean narrows() {
            return !(schemas.isEmpty() && notSchemas.isEmpty() && tables.isEmpty() && notTables.isEmpty());
        }

        private static boolean schemaMatches(String pattern, String schema) {
            return NamePattern.parse(pattern).matches("", schema);
        }
    }

    /** Every table (or sequence) of the db that the filter wants. */
    public List<Relation> addAll(Db db, String kind, Filter filter, Map<String, Object> options) {
        List<Found> found = catalogs.with(db, catalog -> {
            if (Catalog.TABLE.equals(kind)) {
                sayNotTables(catalog, filter);
            }
            List<Catalog.Rel> out = catalog.all(kind).stream().filter(filter::wants).toList();
            return found(catalog, out);
        });
        if (filter.keyedOnly()) {
            found = keyedOnly(found);
        }
        if (found.isEmpty()) {
            throw IbexException.badInput("No " + what(kind) + " found in db \"" + db.name() + "\""
                    + (filter.narrows() || filter.keyedOnly() ? " with these -n/-N/-t/-T/--keyed-only filters" : "")
                    + ": nothing added");
        }
        return record(db, found, options);
    }

    /** Partitioned parents and materialized views are not tables add all takes: the user hears which. */
    private void sayNotTables(Catalog catalog, Filter filter) {
        List<String> parents = catalog.all(Catalog.PARTITIONED).stream().filter(filter::wants).map(Catalog.Rel::display)
                .toList();
        List<String> views = catalog.all(Catalog.MATERIALIZED_VIEW).stream().filter(filter::wants)
                .map(Catalog.Rel::display).toList();
        if (!parents.isEmpty()) {
            out.accept("Not added: " + parents.size() + " partitioned table(s) (" + few(parents) + "): their partitions "
                    + "hold the rows and are added as tables");
        }
        if (!views.isEmpty()) {
            out.accept("Not added: " + views.size() + " materialized view(s) (" + few(views) + "): refresh them on "
                    + "the target instead");
        }
    }

    private List<Found> keyedOnly(List<Found> found) {
        List<String> keyless = found.stream().filter(f -> f.key() != null && f.key().isEmpty())
                .map(f -> f.rel().display()).toList();
        if (!keyless.isEmpty()) {
            out.accept("Left out " + keyless.size() + " table(s) without a primary key or unique index (" + few(keyless)
                    + "): feed them through a fullcopy sync");
        }
        return found.stream().filter(f -> f.key() == null || !f.key().isEmpty()).toList();
    }

    /** The first few names, and how many more. */
    private static String few(List<String> names) {
        int shown = Math.min(5, names.size());
        return String.join(", ", names.subList(0, shown)) + (names.size() > shown ? " and " + (names.size() - shown)
                + " more" : "");
    }

    private List<Relation> record(Db db, List<Found> found, Map<String, Object> options) {
        List<Relation> all = new ArrayList<>();
        List<String> added = new ArrayList<>();
        List<String> already = new ArrayList<>();
        for (Found f : found) {
            Catalog.Rel r = f.rel();
            Relation existing = model.relation(db.name(), r.schema(), r.name()).orElse(null);
            if (existing != null) {
                all.add(existing);
                already.add("  " + r.display() + " (DB: " + db.name() + ")");
                continue;
            }
            Map<String, Object> cols = new LinkedHashMap<>(options);
            if (f.key() != null) {
                cols.put("keycols", f.key().columns());
                cols.put("keytypes", f.key().types());
            }
            model.insertRelation(db.name(), r.schema(), r.name(), r.isSequence() ? "sequence" : "table", cols);
            Relation rel = model.relation(db.name(), r.schema(), r.name()).orElseThrow();
            all.add(rel);
            added.add("  " + r.display() + " (DB: " + db.name() + ")" + (f.key() == null ? ""
                    : f.key().isEmpty() ? "  no primary key or unique index: copied whole only (fullcopy role)"
                    : "  key: " + String.join(", ", f.key().columns())));
        }
        if (!added.isEmpty()) {
            out.accept("Added the following tables or sequences:");
            added.forEach(out);
        }
        if (!already.isEmpty()) {
            out.accept("Already added:");
            already.forEach(out);
        }
        return all;
    }

    /** The relations of the repository that the terms name; every term must name one. */
    public List<Relation> inRepository(List<String> terms, String reltype, String db) {
        List<Relation> candidates = model.relations(reltype).stream()
                .filter(r -> db == null || r.db().equals(db)).toList();
        Map<Integer, Relation> out = new LinkedHashMap<>();
        for (String term : terms) {
            NamePattern p = NamePattern.parse(term);
            List<Relation> m = candidates.stream().filter(r -> p.matches(r.schema(), r.name())).toList();
            if (!p.wild() && m.size() > 1 && p.schema() == null) {
                List<Relation> pub = m.stream().filter(r -> r.schema().equals("public")).toList();
                m = pub.isEmpty() ? m : pub;
            }
            if (!p.wild() && m.size() > 1) {
                throw IbexException.badInput("\"" + term + "\" means several " + reltype + "s ("
                        + m.stream().map(r -> r.display() + " in db " + r.db()).collect(Collectors.joining(", "))
                        + "): say which with schema.name and db=NAME");
            }
            if (m.isEmpty()) {
                throw IbexException.badInput("No " + reltype + " \"" + term + "\"" + (db == null ? "" : " of db \"" + db + "\"")
                        + " in the repository: see 'ibex list " + reltype + "s', or add it with 'ibex add " + reltype
                        + " " + term + " db=NAME'");
            }
            m.forEach(r -> out.put(r.id(), r));
        }
        return List.copyOf(out.values());
    }

    /** Adds the relations to the relgroup, creating it when missing; a relgroup keeps to one db. */
    public void putInRelgroup(String relgroup, List<Relation> relations) {
        if (!model.relgroupExists(relgroup)) {
            ModelWriter.checkName("relgroup", relgroup);
            model.insertRelgroup(relgroup);
            out.accept("Created the relgroup named \"" + relgroup + "\"");
        }
        List<String> dbs = new ArrayList<>(model.relgroupDbs(relgroup));
        relations.stream().map(Relation::db).distinct().filter(d -> !dbs.contains(d)).forEach(dbs::add);
        if (dbs.size() > 1) {
            throw IbexException.badInput("Relgroup \"" + relgroup + "\" would hold tables of several dbs ("
                    + String.join(", ", dbs) + "): a relgroup's tables come from one source db; use another relgroup");
        }
        List<String> now = new ArrayList<>();
        for (Relation r : relations) {
            if (model.addToRelgroup(relgroup, r.id())) {
                now.add("  " + r.display());
            }
        }
        if (!now.isEmpty()) {
            out.accept("The following tables or sequences are now part of the relgroup \"" + relgroup + "\":");
            now.forEach(out);
        }
    }

    private static String what(String kind) {
        return Catalog.TABLE.equals(kind) ? "table" : Catalog.SEQUENCE.equals(kind) ? "sequence" : "table or sequence";
    }
}
