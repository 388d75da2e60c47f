package dev.ibex.replicate;

import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The shapes of a source's tables as one batch needs them: those of an earlier run while the
 * catalog rows they were read from are unchanged (same fingerprint, read in this batch's snapshot),
 * else read from the source's catalog in one query. Read when a run needs them, for the tables it
 * copies: a run with nothing to apply reads no catalog at all, and one that applies rows of a few
 * tables reads theirs only.
 */
final class TableShapes {

    /**
     * Per table, its oid and every pg_attribute row (dropped ones too) by attnum and the row
     * version's xmin: adding, dropping, renaming or retyping a column, making a generated one plain,
     * or dropping and recreating the table, each writes a row version the fingerprint did not have.
     * The tables are found by schema and name, as the COPYs will find them, by index.
     */
    private static final String FINGERPRINTS = """
            SELECT n.nspname, c.relname, c.oid::text || ':' || coalesce(md5(array_to_string(array(
                     SELECT a.attnum || '.' || a.xmin::text FROM pg_catalog.pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 ORDER BY a.attnum), ',')), '')
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE (n.nspname, c.relname) IN (VALUES %s)""";

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
        String names = tables.stream().map(r -> "(" + Identifiers.literal(r.schema()) + ", "
                + Identifiers.literal(r.name()) + ")").collect(Collectors.joining(", "));
        Map<String, String> fingerprints = new HashMap<>();
        try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery(FINGERPRINTS.formatted(names))) {
            while (rs.next()) {
                fingerprints.put(TableCopy.key(rs.getString(1), rs.getString(2)), rs.getString(3));
            }
        }
        return fingerprints;
    }
}
