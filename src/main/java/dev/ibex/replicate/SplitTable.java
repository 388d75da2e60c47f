package dev.ibex.replicate;

import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A large table read in parts by several workers. It is emptied on every target once, committed
 * before any part is written (a part's insert must not wait on another transaction's delete of
 * the same key); the last part to end logs the copy and runs ANALYZE.
 */
final class SplitTable {

    /** Logged as the copy it is part of. */
    private static final Logger LOG = LoggerFactory.getLogger(WholeTables.class);

    final TableCopy table;
    final List<String> parts;
    final TableParts.Size size;
    private final WholeTables copy;
    private CopyProgress progress;
    private int done;

    SplitTable(WholeTables copy, TableCopy table, List<String> parts, TableParts.Size size) {
        this.copy = copy;
        this.table = table;
        this.parts = parts;
        this.size = size;
    }

    synchronized CopyProgress progress() {
        return progress;
    }

    /** The first worker to reach the table empties it on every live target; the others wait for that. */
    synchronized void prepare(List<TargetSession> sessions) {
        if (progress != null) {
            return;
        }
        progress = new CopyProgress(table.display(), size.estimatedRows() > 0 ? size.estimatedRows() : -1,
                System.nanoTime());
        copy.started(progress);
        for (TargetSession ts : sessions) {
            if (ts.alive()) {
                try {
                    ts.check(List.of(table));
                    ts.emptyTable(table);
                } catch (SQLException | RuntimeException e) {
                    copy.fail(ts, e);
                }
            }
        }
    }

    void partDone(List<TargetSession> live) {
        synchronized (this) {
            if (++done < parts.size()) {
                return;
            }
        }
        if (live.isEmpty()) {
            copy.ended(progress);
            return; // the last part failed on every target: the failures are the run's error
        }
        long copiedAt = System.nanoTime();
        copy.analyze(table, live);
        LOG.info("Copied {}: {} rows in {} s, ANALYZE {} s ({} parts)", table.display(), progress.rows(),
                CopyWorker.seconds(copiedAt - progress.started), CopyWorker.seconds(System.nanoTime() - copiedAt),
                parts.size());
        copy.ended(progress);
        copy.tableCopied();
    }
}
