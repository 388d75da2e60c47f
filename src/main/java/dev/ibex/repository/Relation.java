package dev.ibex.repository;

import dev.ibex.pg.Identifiers;
import java.util.List;

/** One replicated table or sequence (Bucardo: goat) with its key columns; no key = copy-only. */
public record Relation(int id, String db, String schema, String name, String reltype, List<String> keyColumns,
                       List<String> keyTypes) {

    public boolean isSequence() {
        return "sequence".equals(reltype);
    }

    public boolean hasKey() {
        return !keyColumns.isEmpty();
    }

    /** "schema"."name", quoted for SQL. */
    public String quoted() {
        return Identifiers.qualified(schema, name);
    }

    /** schema.name, for messages. */
    public String display() {
        return schema + "." + name;
    }
}
