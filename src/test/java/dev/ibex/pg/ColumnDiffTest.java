package dev.ibex.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.pg.Catalog.Column;
import dev.ibex.pg.ColumnDiff.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class ColumnDiffTest {

    private static Column col(String name, String type, boolean notNull, boolean hasDefault, boolean generated) {
        return new Column(name, type, notNull, hasDefault, false, false, generated, type);
    }

    @Test
    void findsEachKindInSourceOrderThenTheTargetsExtras() {
        List<Column> source = List.of(col("id", "integer", true, false, false), col("name", "text", false, false, false),
                col("price", "numeric(10,2)", false, false, false));
        List<Column> target = List.of(col("id", "integer", true, false, false), col("price", "numeric", false, false, false),
                col("note", "text", false, false, false), col("owner", "integer", true, false, false),
                col("born", "date", true, true, false), col("total", "numeric", true, false, true));
        List<ColumnDiff.Finding> found = ColumnDiff.of(source, target);
        assertEquals(List.of(Kind.MISSING, Kind.TYPE_DIFFERS, Kind.EXTRA, Kind.EXTRA_REQUIRED, Kind.EXTRA, Kind.EXTRA),
                found.stream().map(ColumnDiff.Finding::kind).toList());
        assertEquals(List.of("name", "price", "note", "owner", "born", "total"),
                found.stream().map(ColumnDiff.Finding::column).toList());
    }

    @Test
    void sameColumnsInAnotherOrderAreNoFinding() {
        Column a = col("a", "integer", true, false, false);
        Column b = col("b", "text", false, false, false);
        assertEquals(List.of(), ColumnDiff.of(List.of(a, b), List.of(b, a)));
    }
}
