package dev.ibex.controller;

import java.util.Arrays;

/** A txid_current_snapshot() value, "xmin:xmax:xip,...": every xid below xmax and not in xip had ended. */
record TxidSnapshot(long xmin, long xmax, long[] xip) {

    static TxidSnapshot parse(String text) {
        String[] parts = text.split(":", 3);
        long[] xip = parts.length < 3 || parts[2].isEmpty() ? new long[0]
                : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).toArray();
        return new TxidSnapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), xip);
    }

    /**
     * No transaction can have ended between {@code before} and this snapshot: none was in progress
     * then, and xmax (one past the latest ended xid) has not moved.
     */
    boolean nothingEndedSince(TxidSnapshot before) {
        return before.xip.length == 0 && xmax == before.xmax;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TxidSnapshot s && s.xmin == xmin && s.xmax == xmax && Arrays.equals(s.xip, xip);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(xmin) * 31 + Long.hashCode(xmax) * 17 + Arrays.hashCode(xip);
    }

    @Override
    public String toString() {
        return xmin + ":" + xmax + ":" + String.join(",", Arrays.stream(xip).mapToObj(Long::toString).toList());
    }
}
