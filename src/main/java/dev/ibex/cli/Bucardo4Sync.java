package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.repository.DbgroupMember;
import dev.ibex.repository.Role;
import java.util.List;
import java.util.Locale;

/** Bucardo 4's words for a sync: type=, source=, targetdb= or targetgroup=, made into a relgroup and a dbgroup. */
final class Bucardo4Sync {

    private Bucardo4Sync() {
    }

    /**
     * Bucardo 4: type=pushdelta|fullcopy|swap source=RELGROUP (a db when tables= is given)
     * targetdb=DB or targetgroup=DBGROUP.
     */
    static AddCommand.Groups groups(Session s, String name, Words w) {
        Role role = bucardo4Role(w.get("type"));
        String source = w.get("source");
        if (source == null) {
            throw IbexException.badInput("Need to specify a source for this sync (source=RELGROUP, or source=DB with "
                    + "tables=...)");
        }
        if (w.has("targetdb") == w.has("targetgroup") || w.get(w.has("targetdb") ? "targetdb" : "targetgroup") == null) {
            throw IbexException.badInput("Need to specify a targetdb or a targetgroup for this sync (one of them)");
        }
        String sourceDb = w.has("tables") ? s.db(source).name() : relgroupDb(s, source);
        List<String> targets = bucardo4Targets(s, w, sourceDb);
        if (role == Role.SOURCE && targets.size() != 1) {
            throw IbexException.badInput("A swap sync joins exactly two dbs: give one targetdb=");
        }
        StringBuilder dbs = new StringBuilder(sourceDb + ":source");
        targets.forEach(t -> dbs.append(',').append(t).append(':').append(role.word()));
        String dbgroup = DbList.dbgroup(s, name, dbs.toString());
        String relgroup = w.has("tables") ? AddCommand.relgroupFromTables(s, name, sourceDb, w.get("tables")) : source;
        return new AddCommand.Groups(relgroup, dbgroup);
    }

    private static Role bucardo4Role(String type) {
        if (type == null) {
            throw IbexException.badInput("Need to specify the type of sync: pushdelta, fullcopy, or swap (type=...)");
        }
        return switch (type.toLowerCase(Locale.ROOT)) {
            case "pushdelta", "delta" -> Role.TARGET;
            case "fullcopy", "copy" -> Role.FULLCOPY;
            case "swap" -> Role.SOURCE;
            default -> throw IbexException.badInput("Invalid type=" + type + ": use pushdelta, fullcopy or swap");
        };
    }

    /** The db an existing relgroup's tables belong to. */
    private static String relgroupDb(Session s, String relgroup) {
        AddCommand.existingRelgroup(s, relgroup);
        List<String> dbs = s.model.relgroupDbs(relgroup);
        if (dbs.isEmpty()) {
            throw IbexException.badInput("Relgroup \"" + relgroup + "\" has no tables: add some with 'ibex add table "
                    + "T db=DB relgroup=" + relgroup + "'");
        }
        return dbs.get(0);
    }

    /** targetdb=, or every db of targetgroup= but the source. */
    private static List<String> bucardo4Targets(Session s, Words w, String sourceDb) {
        if (w.has("targetdb")) {
            return List.of(s.db(w.get("targetdb")).name());
        }
        String g = w.get("targetgroup");
        if (!s.model.dbgroupExists(g)) {
            throw IbexException.badInput("No dbgroup named \"" + g + "\" (targetgroup=): see 'ibex list dbgroups'");
        }
        return s.repo.members(g).stream().map(DbgroupMember::db).filter(d -> !d.equals(sourceDb)).toList();
    }
}
