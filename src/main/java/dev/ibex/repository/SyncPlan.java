package dev.ibex.repository;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/** A sync with its dbs and relations: everything a kid needs to run it. */
public record SyncPlan(Sync sync, List<Member> members, List<Relation> relations, MakeDelta makedelta) {

    public record Member(Db db, Role role) {
    }

    /**
     * Where the rows ibex applies are captured again (Bucardo's makedelta): the dbs with makedelta
     * on, and the relations that say so themselves (true or false; absent: their db decides).
     */
    public record MakeDelta(Set<String> dbs, Map<Integer, Boolean> relations) {

        public static final MakeDelta NONE = new MakeDelta(Set.of(), Map.of());

        public boolean at(String db, Relation r) {
            Boolean own = relations.get(r.id());
            return own != null ? own : dbs.contains(db);
        }

        public boolean any() {
            return !dbs.isEmpty() || relations.containsValue(true);
        }
    }

    public SyncPlan(Sync sync, List<Member> members, List<Relation> relations) {
        this(sync, members, relations, MakeDelta.NONE);
    }

    /** In the dbgroup's order: the first one is the one whose one-time copy the others take. */
    public List<Db> sources() {
        return members.stream().filter(m -> m.role() == Role.SOURCE).map(Member::db).toList();
    }

    /** Whether the sources also feed each other (Bucardo's swap and multi-master). */
    public boolean severalSources() {
        return sources().size() > 1;
    }

    /** Dbs fed from the delta stream. */
    public List<Db> targets() {
        return members.stream().filter(m -> m.role() == Role.TARGET).map(Member::db).toList();
    }

    /** The dbs that take {@code source}'s changes: the other sources, then the targets. */
    public List<Db> targetsOf(Db source) {
        return Stream.concat(sources().stream().filter(d -> !d.name().equals(source.name())), targets().stream())
                .toList();
    }

    /** Dbs that get whole tables on every run. */
    public List<Db> fullcopyTargets() {
        return members.stream().filter(m -> m.role() == Role.FULLCOPY).map(Member::db).toList();
    }

    public ConflictStrategy conflictStrategy() {
        return ConflictStrategy.of(sync.conflictStrategy());
    }

    public List<Relation> tables() {
        return relations.stream().filter(r -> !r.isSequence()).toList();
    }

    public List<Relation> sequences() {
        return relations.stream().filter(Relation::isSequence).toList();
    }
}
