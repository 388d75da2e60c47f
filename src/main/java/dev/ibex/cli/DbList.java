package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.repository.Role;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sync's dbs= value: a dbgroup name, or a list {@code a,b,c} (the first a source, the rest
 * targets) or {@code a:source,b:target}. A list becomes a dbgroup: an existing one with the same
 * members and roles, else a new one named after the sync.
 */
final class DbList {

    private DbList() {
    }

    /** The dbgroup the value names or makes. */
    static String dbgroup(Session s, String sync, String value) {
        String v = value.trim();
        if (!v.contains(",") && !v.contains(":") && s.model.dbgroupExists(v)) {
            return v;
        }
        Map<String, Role> members = parse(s, v, true);
        if (members.size() == 1 && s.repo.db(v).isPresent()) {
            throw IbexException.badInput("dbs=" + value + " names only one db: a sync needs a source and a target, "
                    + "e.g. dbs=" + v + ":source,OTHER:target (or name a dbgroup)");
        }
        List<String> wanted = members.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue().word()).toList();
        List<String> same = s.model.dbgroupsWithMembers(wanted);
        if (!same.isEmpty()) {
            s.say("Using existing dbgroup \"" + same.get(0) + "\"");
            return same.get(0);
        }
        String name = Session.freeName(sync, new HashSet<>(s.repo.list("SELECT name FROM ibex.dbgroup",
                rs -> rs.getString(1))));
        s.model.insertDbgroup(name);
        s.say("Created a new dbgroup named \"" + name + "\"");
        members.forEach((db, role) -> {
            s.model.putInDbgroup(name, db, role);
            s.say("  Added database \"" + db + "\" to dbgroup \"" + name + "\" as " + role.word());
        });
        return name;
    }

    /** db[:role] words; without a role the first db is the source and the others targets. */
    static Map<String, Role> parse(Session s, String value, boolean orDbgroup) {
        Map<String, Role> out = new LinkedHashMap<>();
        List<String> items = new ArrayList<>(Words.list(value));
        for (String item : items) {
            int colon = item.indexOf(':');
            String db = colon < 0 ? item : item.substring(0, colon);
            Role role = colon < 0 ? (out.isEmpty() ? Role.SOURCE : Role.TARGET) : Role.of(item.substring(colon + 1));
            if (s.repo.db(db).isEmpty()) {
                if (orDbgroup && items.size() == 1 && colon < 0) {
                    throw IbexException.badInput("No dbgroup or db named \"" + db + "\": see 'ibex list dbgroups' and "
                            + "'ibex list dbs'");
                }
                s.db(db);
            }
            if (out.put(db, role) != null) {
                throw IbexException.badInput("Db \"" + db + "\" is listed twice in " + value + ": list each db once");
            }
        }
        if (out.isEmpty()) {
            throw IbexException.badInput("No dbs given: use dbs=A:source,B:target or a dbgroup name");
        }
        return out;
    }
}
