package dev.ibex.migrate;

import java.util.ArrayList;
import java.util.List;

/**
 * A slice of a table by its first key column: low exclusive, high inclusive, null = unbounded. The
 * first and last ranges are open so rows beyond the source's keys on a target still land in one.
 */
record KeyRange(int index, String low, String high) {

    boolean whole() {
        return low == null && high == null;
    }

    /** Ranges between consecutive distinct boundaries (text of the first key column, in key order). */
    static List<KeyRange> between(List<String> boundaries) {
        List<String> distinct = new ArrayList<>();
        for (String b : boundaries) {
            if (distinct.isEmpty() || !distinct.get(distinct.size() - 1).equals(b)) {
                distinct.add(b);
            }
        }
        List<KeyRange> out = new ArrayList<>();
        String low = null;
        for (String b : distinct) {
            out.add(new KeyRange(out.size(), low, b));
            low = b;
        }
        out.add(new KeyRange(out.size(), low, null));
        return out;
    }

    /** The bound values in the order {@link TableSql} binds them. */
    List<String> params() {
        List<String> p = new ArrayList<>();
        if (low != null) {
            p.add(low);
        }
        if (high != null) {
            p.add(high);
        }
        return p;
    }

    String describe(String column) {
        if (whole()) {
            return "whole table";
        }
        return (low == null ? "" : column + " > " + low) + (low != null && high != null ? " and " : "")
                + (high == null ? "" : column + " <= " + high);
    }
}
