package dev.ibex.migrate;

import dev.ibex.repository.Relation;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The comparison of one table on one target. JSON fields (stable): sync, table, target, status
 * (MATCH|DIFF), source_rows, target_rows, ranges, differing_ranges, key, missing, extra, changed
 * (lists of key value lists, at most --max-rows each), differing_rows, notes.
 */
public record TableResult(String sync, Relation table, String target, boolean match, long sourceRows,
                          long targetRows, int ranges, int differingRanges, List<String> keyColumns,
                          List<RowDiff> diffs, List<String> notes) {

    public String status() {
        return match ? "MATCH" : "DIFF";
    }

    public List<RowDiff> diffs(RowDiff.Kind kind) {
        return diffs.stream().filter(d -> d.kind() == kind).toList();
    }

    public String line() {
        StringBuilder sb = new StringBuilder(String.format("%-5s  %s  %s  ", status(), table.display(), target));
        if (match) {
            sb.append(sourceRows).append(" rows");
        } else {
            sb.append("source ").append(sourceRows).append(" rows, target ").append(targetRows);
            if (ranges > 1) {
                sb.append("; ").append(differingRanges).append(" of ").append(ranges).append(" ranges differ");
            }
            if (!diffs.isEmpty()) {
                sb.append(": ").append(diffs(RowDiff.Kind.MISSING).size()).append(" missing, ")
                        .append(diffs(RowDiff.Kind.EXTRA).size()).append(" extra, ")
                        .append(diffs(RowDiff.Kind.CHANGED).size()).append(" changed");
            }
        }
        if (!notes.isEmpty()) {
            sb.append(" (").append(String.join("; ", notes)).append(")");
        }
        return sb.toString();
    }

    public Map<String, Object> json(int maxRows) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sync", sync);
        m.put("table", table.display());
        m.put("target", target);
        m.put("status", status());
        m.put("source_rows", sourceRows);
        m.put("target_rows", targetRows);
        m.put("ranges", ranges);
        m.put("differing_ranges", differingRanges);
        m.put("key", keyColumns);
        for (RowDiff.Kind k : RowDiff.Kind.values()) {
            m.put(k.name().toLowerCase(java.util.Locale.ROOT),
                    diffs(k).stream().limit(maxRows).map(RowDiff::key).toList());
        }
        m.put("differing_rows", diffs.size());
        m.put("notes", notes);
        return m;
    }
}
