package dev.ibex.repository;

import java.util.List;

/** A sync with its dbs and relations: everything a kid needs to run it. */
public record SyncPlan(Sync sync, List<Member> members, List<Relation> relations) {

    public record Member(Db db, Role role) {
    }

    public List<Db> sources() {
        return members.stream().filter(m -> m.role() == Role.SOURCE).map(Member::db).toList();
    }

    /** Dbs fed from the delta stream. */
    public List<Db> targets() {
        return members.stream().filter(m -> m.role() == Role.TARGET).map(Member::db).toList();
    }

    /** Dbs that get whole tables on every run. */
    public List<Db> fullcopyTargets() {
        return members.stream().filter(m -> m.role() == Role.FULLCOPY).map(Member::db).toList();
    }

    public List<Relation> tables() {
        return relations.stream().filter(r -> !r.isSequence()).toList();
    }

    public List<Relation> sequences() {
        return relations.stream().filter(Relation::isSequence).toList();
    }
}
