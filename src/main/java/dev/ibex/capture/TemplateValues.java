package dev.ibex.capture;

import dev.ibex.pg.Catalog;
import dev.ibex.pg.Identifiers;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The values of the placeholders in the capture files of one table, each quoted where it names something. */
final class TemplateValues {

    private TemplateValues() {
    }

    static Map<String, String> of(CapturedTable t, KeyTypes types, int tab) {
        List<String> keys = t.keys();
        Map<String, String> n = new LinkedHashMap<>();
        n.put("table", t.quoted());
        n.put("tab", Integer.toString(tab));
        n.put("delta", Identifiers.quote(t.delta()));
        n.put("delta_index", Identifiers.quote(t.deltaIndex()));
        n.put("function", Identifiers.quote(t.function()));
        // without length or precision: a key column widened in place must not make the trigger's insert fail
        n.put("key_defs", keys.stream().map(k -> Identifiers.quote(k) + " " + Catalog.withoutModifier(types.byName().get(k))
                + " NOT NULL")
                .collect(Collectors.joining(",\n  ")));
        n.put("keys", Identifiers.quoteList(keys));
        n.put("log_keys", String.join(", ", ChangeLog.keyColumns(keys.size())));
        for (String[] row : new String[][] {{"new", "NEW."}, {"old", "OLD."}, {"new_rows", "n."}, {"old_rows", "o."}}) {
            n.put(row[0] + "_keys", prefixed(row[1], keys, ""));
            n.put(row[0] + "_key", prefixed(row[1], keys, "::text"));
        }
        return n;
    }

    /** The key columns, each prefixed and suffixed: "NEW."id"::text, …". */
    private static String prefixed(String prefix, List<String> keys, String suffix) {
        return keys.stream().map(k -> prefix + Identifiers.quote(k) + suffix).collect(Collectors.joining(", "));
    }
}
