package dev.ibex.status;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How far the whole-table copies of a running run are, read from the progress line the runner
 * writes to ibex.run.detail (replicate's CopyProgress): "copy public.a 1200/5000 rows 3.1 MB/s
 * ETA 00:04; copy public.b 10/10 rows (1 of 3 tables copied)". Reading that line, not hooking the
 * copy, keeps the metrics a reader of the repository like `ibex status`.
 *
 * @param rows      rows copied so far in the tables being copied now
 * @param expected  rows those tables are expected to have (the rows so far where unknown)
 */
record CopyDetail(long rows, long expected) {

    static final CopyDetail NONE = new CopyDetail(0, 0);

    private static final Pattern TABLE = Pattern.compile("(?:^|; )copy .+? (\\d+)(?:/(\\d+))? rows");

    static CopyDetail of(String detail) {
        if (detail == null) {
            return NONE;
        }
        long rows = 0;
        long expected = 0;
        Matcher m = TABLE.matcher(detail);
        while (m.find()) {
            long r = Long.parseLong(m.group(1));
            rows += r;
            expected += m.group(2) == null ? r : Long.parseLong(m.group(2));
        }
        return new CopyDetail(rows, expected);
    }
}
