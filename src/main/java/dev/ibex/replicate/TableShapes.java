package dev.ibex.replicate;

import dev.ibex.pg.Catalog;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shapes of a source's tables as one batch needs them: those of an earlier run while the
 * catalog rows they were read from are unchanged (same fingerprint, read in this batch's snapshot),
 * else read from the source's catalog in one query. Read when a run needs them, for the tables it
 * copies: a run with nothing to apply reads no catalog at all, and one that applies rows of a few
 * tables reads theirs only.
 */
final class TableShapes {

    /** The batch's source transaction. */
    private final Connection s;
    private final String source;
    private final RunCache cache;
    /** The shapes this batch has needed so far. */
    private final Map<Relation, TableCopy> shapes = new HashMap<>();

    TableShapes(Connection s, String source, RunCache cache) {
        this.s = s;
        this.source = source;
        this.cache = cache;
    }

    /** The shapes of these tables, in their order. */
    Map<Relation, TableCopy> of(Collection<Relation> tables) throws SQLException {
        List<Relation> missing = tables.stream().distinct().filter(r -> !shapes.containsKey(r)).toList();
        if (!missing.isEmpty()) {
            find(missing);
        }
        Map<Relation, TableCopy> out = new LinkedHashMap<>();
        for (Relation r : tables) {
            out.put(r, shapes.get(r));
        }
        return out;
    }

    /** Takes the cached shapes whose fingerprint still holds and reads the others. */
    private void find(List<Relation> missing) throws SQLException {
        Map<String, String> fingerprints = fingerprints(missing);
        List<Relation> read = new ArrayList<>();
        for (Relation r : missing) {
            String fingerprint = fingerprints.get(TableCopy.key(r));
            TableCopy cached = fingerprint == null ? null : cache.shape(source, r, fingerprint);
            if (cached != null) {
                shapes.put(r, cached);
            } else {
                read.add(r);
            }
        }
        for (TableCopy t : read.isEmpty() ? List.<TableCopy>of() : TableCopy.readAll(s, source, read)) {
            shapes.put(t.relation, t);
            cache.shape(source, fingerprints.get(TableCopy.key(t.relation)), t);
        }
    }

    /** By {@link TableCopy#key}; a table the source does not have is left out. */
    private Map<String, String> fingerprints(Collection<Relation> tables) throws SQLException {
        Map<String, String> out = new HashMap<>();
        new Catalog(s, source).fingerprints(TableCopy.names(tables))
                .forEach((name, fingerprint) -> out.put(TableCopy.key(name.schema(), name.name()), fingerprint));
        return out;
    }
}
