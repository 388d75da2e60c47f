package dev.ibex.pg;

import java.util.Arrays;

/** A txid_current_snapshot() value, "xmin:xmax:xip,...": every xid below xmax and not in xip had ended. */
public record TxidSnapshot(long xmin, long xmax, long[] xip) {

    public static TxidSnapshot parse(String text) {
        String[] parts = text.split(":", 3);
        long[] xip = parts.length < 3 || parts[2].isEmpty() ? new long[0]
                : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).toArray();
        return new TxidSnapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), xip);
    }

    /**
     * The one that sees least of snapshots taken on one server over time (a later one sees all an
     * earlier one saw): the smallest xmax, then the most transactions in progress.
     */
    public static String oldest(java.util.Collection<String> snapshots) {
        return snapshots.stream().min(java.util.Comparator.comparingLong((String s) -> parse(s).xmax)
                .thenComparing(s -> -parse(s).xip.length)).orElse(null);
    }

    /** Whether a committed transaction's txid is visible in this snapshot: below xmax and not in progress. */
    public boolean sees(long txid) {
        return txid < xmax && Arrays.stream(xip).noneMatch(x -> x == txid);
    }

    /**
     * Whether this snapshot lies ahead of {@code now}, a later one of the same database: its
     * transaction ids went back (the database restored on another server, or a crash lost the
     * end of its WAL). Read by this snapshot, the changes from {@code now} on would look seen.
     */
    public boolean aheadOf(TxidSnapshot now) {
        return xmax > now.xmax;
    }

    /**
     * No transaction can have ended between {@code before} and this snapshot: none was in progress
     * then, and xmax (one past the latest ended xid) has not moved.
     */
    public boolean nothingEndedSince(TxidSnapshot before) {
        return before.xip.length == 0 && xmax == before.xmax;
    }

    /**
     * The rows of a delta table (or the truncate log) whose txid a snapshot did not see, by the
     * txid index: at or above its xmax, or one of its in-progress xids. That is the same as "txid
     * at or above its xmin and not visible in it", without reading again the rows between xmin and
     * xmax that it did see (a long write transaction keeps xmin back for its whole life). Binds the
     * snapshot's text twice.
     */
    public static String rowsNotSeenSql(String columns, String table) {
        return "SELECT " + columns + " FROM " + table + " WHERE txid >= txid_snapshot_xmax(?::txid_snapshot)"
                + " UNION ALL SELECT " + columns + " FROM " + table
                + " WHERE txid = ANY(ARRAY(SELECT txid_snapshot_xip(?::txid_snapshot)))";
    }
}
