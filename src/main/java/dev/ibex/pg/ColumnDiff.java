package dev.ibex.pg;

import dev.ibex.pg.Catalog.Column;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How a target table's columns differ from its source's, as findings that each caller grades:
 * adding a sync refuses them, validate fails or warns, compare cannot hash.
 */
public final class ColumnDiff {

    /** What differs about one column. */
    public enum Kind {
        /** The source has the column, the target lacks it: rows cannot be copied. */
        MISSING,
        /** Both have it, with different types. */
        TYPE_DIFFERS,
        /** Only the target has it, NOT NULL without default and not generated: every copied row would fail. */
        EXTRA_REQUIRED,
        /** Only the target has it, and it can hold its default. */
        EXTRA
    }

    /** @param source null for an extra column; target null for a missing one */
    public record Finding(Kind kind, Column source, Column target) {
        public String column() {
            return source != null ? source.name() : target.name();
        }
    }

    private ColumnDiff() {
    }

    /** The findings, the source's columns in table order first, then the target's extra ones. */
    public static List<Finding> of(List<Column> source, List<Column> target) {
        Map<String, Column> theirs = target.stream().collect(Collectors.toMap(Column::name, Function.identity()));
        Map<String, Column> ours = source.stream().collect(Collectors.toMap(Column::name, Function.identity()));
        List<Finding> out = new ArrayList<>();
        for (Column c : source) {
            Column t = theirs.get(c.name());
            if (t == null) {
                out.add(new Finding(Kind.MISSING, c, null));
            } else if (!t.type().equals(c.type())) {
                out.add(new Finding(Kind.TYPE_DIFFERS, c, t));
            }
        }
        for (Column t : target) {
            if (!ours.containsKey(t.name())) {
                boolean required = t.notNull() && !t.hasDefault() && !t.generated();
                out.add(new Finding(required ? Kind.EXTRA_REQUIRED : Kind.EXTRA, null, t));
            }
        }
        return out;
    }
}
