package dev.ibex.replicate;

import dev.ibex.repository.Relation;
import dev.ibex.repository.SyncPlan;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the runs of one sync would otherwise read again on every run, whatever the number of
 * changes: the plan from the repository, each source's table shapes, and the shapes each target
 * was checked for. Kept by whoever runs the sync repeatedly (the controller's kid), cleared on a
 * reload and after a failed run.
 *
 * <p>Every entry is tied to a fingerprint of the rows it was read from (their xmin: any change
 * of a catalog or repository row writes a new row version), which each run that uses the entry
 * reads again: the plan's with the run's start, the shapes' when the batch has rows to copy. So
 * an ALTER TABLE, a dropped and recreated table or a changed sync between two runs is seen by the
 * next run: a cached column list never leaves a new column uncopied.
 * A target's check is not fingerprinted: a target that lost a column fails the COPY, which
 * clears the cache, and the next run's check says what is missing.
 */
public final class RunCache {

    /** One source's table shapes, and the fingerprint of the catalog rows they were read from. */
    private record Shapes(List<Relation> tables, String fingerprint, Map<Relation, TableCopy> byRelation) {
    }

    private SyncPlan plan;
    private String planFingerprint;
    private final Map<String, Shapes> shapes = new HashMap<>();
    private final Map<String, Set<TableCopy>> checked = new HashMap<>();

    /** Forgets everything: after a reload, or a failed run. */
    public synchronized void clear() {
        plan = null;
        planFingerprint = null;
        shapes.clear();
        checked.clear();
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

    /** The shapes of {@code tables} on {@code source} read when its catalog had this fingerprint, or null. */
    synchronized Map<Relation, TableCopy> shapes(String source, List<Relation> tables, String fingerprint) {
        Shapes s = shapes.get(source);
        return s != null && s.tables().equals(tables) && s.fingerprint().equals(fingerprint) ? s.byRelation() : null;
    }

    synchronized void shapes(String source, List<Relation> tables, String fingerprint,
                             Map<Relation, TableCopy> byRelation) {
        shapes.put(source, new Shapes(List.copyOf(tables), fingerprint, Collections.unmodifiableMap(byRelation)));
        // checks of the shapes replaced are of no use any more
        checked.clear();
    }

    /** The shapes target {@code db} was found to hold every column of (identity: a new shape is checked again). */
    synchronized Set<TableCopy> checked(String db) {
        return checked.computeIfAbsent(db, k -> Collections.synchronizedSet(
                Collections.newSetFromMap(new IdentityHashMap<>())));
    }
}
