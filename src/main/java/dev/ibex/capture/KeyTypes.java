package dev.ibex.capture;

import dev.ibex.pg.Catalog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The key columns' base types, as format_type writes them (a domain is logged as its base type
 * so the domain can still be dropped), and whether the keys go to ibex.log as text: at most
 * four columns, each one's text reading back as the same value whatever the writer's settings.
 *
 * @param byName the type of each key column, by name
 * @param names  the types in key order
 */
record KeyTypes(Map<String, String> byName, List<String> names, boolean textSafe) {

    /** The types of the key columns {@code keys} of the table {@code oid}; a missing column has type "". */
    static KeyTypes of(Connection c, long oid, List<String> keys) throws SQLException {
        Map<String, String> byName = new LinkedHashMap<>();
        boolean safe = true;
        for (Catalog.KeyColumn k : new Catalog(c, "source").keyColumns(oid, keys)) {
            byName.put(k.name(), k.baseType());
            safe &= k.textSafe();
        }
        return new KeyTypes(byName, keys.stream().map(k -> byName.getOrDefault(k, "")).toList(),
                safe && keys.size() <= ChangeLog.KEY_COLUMNS);
    }
}
