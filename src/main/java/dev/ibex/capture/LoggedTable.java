package dev.ibex.capture;

import java.util.List;

/**
 * A captured table as its source's ibex.captured records it.
 *
 * @param tab      the table's number in ibex.log
 * @param keycols  the key columns, in key order
 * @param keytypes their base types, as format_type writes them
 * @param delta    the table's own delta table in schema ibex, or null when its keys go to ibex.log
 */
public record LoggedTable(int tab, String schema, String table, List<String> keycols, List<String> keytypes,
                          String delta) {

    public boolean ownDelta() {
        return delta != null;
    }

    public String display() {
        return schema + "." + table;
    }
}
