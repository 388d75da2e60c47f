package dev.ibex.replicate;

import dev.ibex.repository.Relation;
import dev.ibex.repository.SyncPlan;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What the runs of one sync would otherwise read again on every run, whatever the number of
 * changes: the plan from the repository, each source's table shapes, the shapes each target
 * was checked for, and the targets that already took a one-time copy still pending for others.
 * Kept by whoever runs the sync repeatedly (the controller's kid), cleared on a reload and after
 * a failed run.
 *
 * <p>Every entry is tied to a fingerprint of the rows it was read from (their xmin: any change
 * of a catalog or repository row writes a new row version), which each run that uses the entry
 * reads again: the plan's with the run's start, a table's shape when the batch has rows of it to
 * copy. So
 * an ALTER TABLE, a dropped and recreated table or a changed sync between two runs is seen by the
 * next run: a cached column list never leaves a new column uncopied.
 * A target's check is not fingerprinted: a target that lost a column fails the COPY, which
 * clears the cache, and the next run's check says what is missing.
 */
public final class RunCache {

    /** One table's shape, and the fingerprint of the catalog rows it was read from. */
    private record Shape(String fingerprint, TableCopy table) {
    }

    private SyncPlan plan;
    private String planFingerprint;
    /** By source db, then by table. */
    private final Map<String, Map<Relation, Shape>> shapes = new HashMap<>();
    private final Map<String, Set<TableCopy>> checked = new HashMap<>();
    /**
     * Targets that took the pending one-time copy (onetimecopy=1) in an earlier run: it stays
     * pending while another target is down, and without this every run copied every table whole to
     * them again. Forgotten with the rest, which only costs one more copy.
     */
    private final Set<String> copiedOnce = new HashSet<>();

    /** Forgets everything: after a reload, or a failed run. */
    public synchronized void clear() {
        plan = null;
        planFingerprint = null;
        shapes.clear();
        checked.clear();
        copiedOnce.clear();
    }

    /** Whether {@code target} took the pending one-time copy in an earlier run. */
    synchronized boolean copiedOnce(String target) {
        return copiedOnce.contains(target);
    }

    /** {@code target} took the pending one-time copy: its S_prev is recorded as of that copy. */
    synchronized void tookOneTimeCopy(String target) {
        copiedOnce.add(target);
    }

    /** No one-time copy is pending (any more): a new one copies to every target again. */
    synchronized void noOneTimeCopy() {
        copiedOnce.clear();
    }

    /** The plan read when the repository rows had this fingerprint, or null. */
    synchronized SyncPlan plan(String fingerprint) {
        return fingerprint != null && fingerprint.equals(planFingerprint) ? plan : null;
    }

    /** A plan read afresh: its dbs may be other servers now, so their checks go too. */
    synchronized void plan(String fingerprint, SyncPlan read) {
        planFingerprint = fingerprint;
        plan = read;
        checked.clear();
    }

    /** The shape of {@code table} on {@code source} read when its catalog rows had this fingerprint, or null. */
    synchronized TableCopy shape(String source, Relation table, String fingerprint) {
        Shape s = shapes.getOrDefault(source, Map.of()).get(table);
        return s != null && s.fingerprint().equals(fingerprint) ? s.table() : null;
    }

    synchronized void shape(String source, String fingerprint, TableCopy read) {
        Shape old = shapes.computeIfAbsent(source, k -> new HashMap<>()).put(read.relation, new Shape(fingerprint, read));
        if (old != null) {
            // the check of the shape replaced is of no use any more
            checked.values().forEach(set -> set.remove(old.table()));
        }
    }

    /** The shapes target {@code db} was found to hold every column of (identity: a new shape is checked again). */
    synchronized Set<TableCopy> checked(String db) {
        return checked.computeIfAbsent(db, k -> Collections.synchronizedSet(
                Collections.newSetFromMap(new IdentityHashMap<>())));
    }
}
