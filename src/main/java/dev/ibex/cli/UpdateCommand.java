package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Db;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Role;
import dev.ibex.repository.Sync;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import picocli.CommandLine.Command;

@Command(name = "update",
        header = "Change a db, table, sequence, relgroup, dbgroup or sync, and print what changed.", aliases = {"upd", "udpate"}, description = {
    "Change a db, table, sequence, relgroup, dbgroup or sync; prints what changed:",
    "  update db NAME key=value...          (the keys of 'add db'; the connection is tested again)",
    "  update table|sequence NAME... [db=DB] autokick= rebuild_index= analyze_after_copy= strict_checking=",
    "         makedelta=   (empty: the db's setting)",
    "  update relgroup NAME name=NEWNAME",
    "  update dbgroup NAME [name=NEWNAME] [DB:ROLE...]",
    "  update sync NAME|all|PATTERN [active|inactive] key=value...   (the keys of 'add sync', relgroup=, dbs=)"})
public class UpdateCommand extends ModelVerb {

    private static final String USAGE = "ibex update db|table|sequence|relgroup|dbgroup|sync NAME key=value... "
            + "(see 'ibex help update')";
    private static final Set<String> CONNECTION = Set.of("dbname", "host", "port", "username", "password", "conn",
            "service");

    @Override
    public Integer call() {
        Noun noun = noun("update", USAGE);
        return edit(s -> {
            switch (noun) {
                case DB -> updateDb(s);
                case TABLE -> updateRelations(s, "table");
                case SEQUENCE -> updateRelations(s, "sequence");
                case RELGROUP -> updateRelgroup(s);
                case DBGROUP -> updateDbgroup(s);
                case SYNC -> updateSyncs(s);
                case ALL -> throw IbexException.badInput("'ibex update all' is not a thing: " + USAGE);
            }
        });
    }

    private void updateDb(Session s) {
        Words w = Words.parse("ibex update db", rest(), Words.Keys.of(DbSettings.KEYS));
        String name = oneName(w, "db", "ibex update db NAME key=value...");
        Db old = s.db(name);
        Map<String, Object> was = new LinkedHashMap<>();
        was.put("dbname", old.dbname());
        was.put("host", old.host());
        was.put("port", old.port());
        was.put("username", old.user());
        was.put("password", old.password());
        was.put("conn", old.conn());
        was.put("service", old.service());
        was.put("status", old.status());
        was.put("makedelta", s.repo.one("SELECT makedelta FROM ibex.db WHERE name = ?", rs -> rs.getBoolean(1), name)
                .orElse(false));
        Map<String, Object> changes = new LinkedHashMap<>();
        DbSettings.columns(w).forEach((col, value) -> {
            if (!Objects.equals(was.get(col), value)) {
                changes.put(col, value);
            }
        });
        if (changes.isEmpty()) {
            s.say("Nothing changed for db \"" + name + "\"");
            return;
        }
        Map<String, Object> now = new LinkedHashMap<>(was);
        now.putAll(changes);
        if (now.get("dbname") == null && now.get("service") == null) {
            throw IbexException.badInput("Db \"" + name + "\" needs a database name (dbname=) or a service (service=)");
        }
        if (changes.keySet().stream().anyMatch(CONNECTION::contains)) {
            DbSettings.testConnection(s, DbSettings.db(name, now, (String) now.get("status")));
        }
        s.model.updateDb(name, changes);
        changes.forEach((col, value) -> s.say(col.equals("password") ? "Changed db \"" + name + "\" password"
                : col.equals("conn") ? "Changed db \"" + name + "\" conn: " + show(ConnectionSpec.maskPasswords((String) was.get(col)))
                        + " -> " + show(ConnectionSpec.maskPasswords((String) value))
                : "Changed db \"" + name + "\" " + col + ": " + show(was.get(col)) + " -> " + show(value)));
    }

    private void updateRelations(Session s, String reltype) {
        Words w = Words.parse("ibex update " + reltype, rest(), Words.Keys.of("db|database", "autokick|ping",
                "rebuild_index|rebuildindex", "analyze_after_copy", "strict_checking", "makedelta"));
        if (w.nouns().isEmpty()) {
            throw IbexException.badInput("Missing " + reltype + " name: ibex update " + reltype + " NAME key=value...");
        }
        Map<String, Object> cols = new LinkedHashMap<>();
        for (String key : w.keys()) {
            if (key.equals("db")) {
                continue;
            }
            if (w.get(key) == null) {
                cols.put(key, null);
            } else {
                cols.put(key, key.equals("rebuild_index") ? (Object) (w.bool(key) ? 1 : 0) : w.bool(key));
            }
            // autokick= and makedelta= hand the choice back to the sync and the db
            if (cols.get(key) == null && !key.equals("autokick") && !key.equals("rebuild_index")
                    && !key.equals("makedelta")) {
                throw IbexException.badInput("Missing value for " + key + "=: use true or false");
            }
        }
        if (cols.isEmpty()) {
            throw IbexException.badInput("Nothing to change: give autokick=, rebuild_index=, analyze_after_copy=, "
                    + "strict_checking= or makedelta=");
        }
        List<Relation> rels = s.relations().inRepository(w.nouns(), reltype, w.get("db"));
        Set<String> syncs = new LinkedHashSet<>();
        for (Relation r : rels) {
            s.model.updateRelation(r.id(), cols);
            if (cols.containsKey("autokick")) {
                syncs.addAll(s.model.syncsUsingRelation(r.id()));
            }
            s.say("Changed " + reltype + " " + r.display() + " (DB: " + r.db() + "): " + String.join(" ",
                    cols.entrySet().stream().map(e -> e.getKey() + "=" + show(e.getValue())).toList()));
        }
        s.reconcile(s.model.sourcesOf(syncs));
    }

    private void updateRelgroup(Session s) {
        Words w = Words.parse("ibex update relgroup", rest(), Words.Keys.of("name"));
        String name = oneName(w, "relgroup", "ibex update relgroup NAME name=NEWNAME");
        if (!s.model.relgroupExists(name)) {
            throw IbexException.badInput("No relgroup named \"" + name + "\": see 'ibex list relgroups'");
        }
        String newName = w.get("name");
        if (newName == null) {
            throw IbexException.badInput("Nothing to change: give name=NEWNAME (add tables with 'ibex add relgroup "
                    + name + " TABLE...', remove them with 'ibex remove table')");
        }
        rename(s, "relgroup", name, newName);
        s.model.renameRelgroup(name, newName);
        s.say("Renamed relgroup \"" + name + "\" to \"" + newName + "\"");
    }

    private void updateDbgroup(Session s) {
        Words w = Words.parse("ibex update dbgroup", rest(), Words.Keys.of("name"));
        if (w.nouns().isEmpty()) {
            throw IbexException.badInput("Missing dbgroup name: ibex update dbgroup NAME [name=NEWNAME] [DB:ROLE...]");
        }
        String name = w.nouns().get(0);
        if (!s.model.dbgroupExists(name)) {
            throw IbexException.badInput("No dbgroup named \"" + name + "\": see 'ibex list dbgroups'");
        }
        List<String> members = w.nouns().subList(1, w.nouns().size());
        if (members.isEmpty() && w.get("name") == null) {
            throw IbexException.badInput("Nothing to change: give DB:ROLE words or name=NEWNAME");
        }
        List<String> syncs = s.model.syncsUsingDbgroup(name);
        List<String> before = s.model.sourcesOf(syncs);
        Map<String, Role> current = new LinkedHashMap<>();
        s.repo.members(name).forEach(m -> current.put(m.db(), m.role()));
        for (String member : members) {
            int colon = member.indexOf(':');
            String db = colon < 0 ? member : member.substring(0, colon);
            Role role = colon < 0 ? Role.TARGET : Role.of(member.substring(colon + 1));
            s.db(db);
            if (role == current.get(db)) {
                continue;
            }
            s.model.putInDbgroup(name, db, role);
            s.say(current.containsKey(db) ? "Changed the role of database \"" + db + "\" in dbgroup \"" + name + "\" to "
                    + role.word() : "Added database \"" + db + "\" to dbgroup \"" + name + "\" as " + role.word());
        }
        String newName = w.get("name");
        if (newName != null) {
            rename(s, "dbgroup", name, newName);
            s.model.renameDbgroup(name, newName);
            s.say("Renamed dbgroup \"" + name + "\" to \"" + newName + "\"");
        }
        s.recheck(syncs, before);
    }

    private static void rename(Session s, String what, String name, String newName) {
        ModelWriter.checkName(what, newName);
        boolean taken = what.equals("relgroup") ? s.model.relgroupExists(newName) : s.model.dbgroupExists(newName);
        if (taken) {
            throw IbexException.badInput("Cannot rename " + what + " \"" + name + "\": the name \"" + newName
                    + "\" already exists");
        }
    }

    // ---- sync ---------------------------------------------------------------------------------------

    private void updateSyncs(Session s) {
        Words w = Words.parse("ibex update sync", rest(), Words.Keys.of(SyncOptions.KEYS).plus("relgroup|herd",
                "dbs|db|database|databases|dbgroup")).nonEmpty("relgroup", "dbs");
        List<String> names = new ArrayList<>();
        String status = null;
        for (String noun : w.nouns()) {
            String l = noun.toLowerCase(Locale.ROOT);
            if (l.equals("active") || l.equals("inactive")) {
                status = l;
            } else {
                names.add(noun);
            }
        }
        if (names.isEmpty()) {
            throw IbexException.badInput("Missing sync name: ibex update sync NAME|all key=value...");
        }
        Map<String, Object> cols = SyncOptions.columns(s, w);
        if (status != null) {
            if (cols.containsKey("status") && !status.equals(cols.get("status"))) {
                throw IbexException.badInput("Give the status once: " + status + " or status=" + cols.get("status"));
            }
            cols.put("status", status);
        }
        if (cols.isEmpty() && !w.has("relgroup") && !w.has("dbs")) {
            throw IbexException.badInput("Nothing to change: give key=value words (see 'ibex help update') or "
                    + "active/inactive");
        }
        for (Sync sync : syncs(s, names)) {
            updateSync(s, sync, w, cols);
        }
    }

    private static List<Sync> syncs(Session s, List<String> names) {
        Map<String, Sync> out = new LinkedHashMap<>();
        List<Sync> all = s.repo.syncs();
        for (String n : names) {
            List<Sync> m = n.equalsIgnoreCase("all") ? all : all.stream().filter(sy -> matches(n, sy.name())).toList();
            if (m.isEmpty()) {
                throw IbexException.badInput("No sync named \"" + n + "\": see 'ibex list syncs'");
            }
            m.forEach(sy -> out.put(sy.name(), sy));
        }
        return List.copyOf(out.values());
    }

    static boolean matches(String pattern, String name) {
        if (!pattern.contains("*") && !pattern.contains("%")) {
            return pattern.equals(name);
        }
        return name.matches(("\\Q" + pattern + "\\E").replace("*", "\\E.*\\Q").replace("%", "\\E.*\\Q"));
    }

    private static void updateSync(Session s, Sync sync, Words w, Map<String, Object> given) {
        Map<String, Object> cols = new LinkedHashMap<>(given);
        if (w.has("relgroup")) {
            String r = w.get("relgroup");
            if (r == null || !s.model.relgroupExists(r)) {
                throw IbexException.badInput("No relgroup named \"" + r + "\": see 'ibex list relgroups'");
            }
            cols.put("relgroup", r);
        }
        if (w.has("dbs")) {
            if (w.get("dbs") == null) {
                throw IbexException.badInput("Missing value for dbs=: give a dbgroup name or A:source,B:target");
            }
            cols.put("dbgroup", DbList.dbgroup(s, sync.name(), w.get("dbs")));
        }
        Map<String, Object> was = current(sync);
        Map<String, Object> changes = new LinkedHashMap<>();
        cols.forEach((col, value) -> {
            Object comparable = col.equals("checktime") || col.equals("lifetime") ? s.interval(col, (String) value) : value;
            if (!Objects.equals(was.get(col), comparable)) {
                changes.put(col, value);
            }
        });
        if (changes.isEmpty()) {
            s.say("Nothing changed for sync \"" + sync.name() + "\"");
            return;
        }
        List<String> before = s.model.sourcesOf(List.of(sync.name()));
        if (changes.containsKey("relgroup")) {
            s.holdRuns(before);
        }
        s.model.updateSync(sync.name(), changes);
        changes.forEach((col, value) -> s.say(col.equals("conflict_strategy")
                ? "Set conflict strategy to '" + value + "' for sync \"" + sync.name() + "\""
                : "Changed sync \"" + sync.name() + "\" " + col + ": " + show(was.get(col)) + " -> " + show(value)));
        if (changes.containsKey("relgroup") || changes.containsKey("dbgroup") || changes.containsKey("strict_checking")) {
            s.recheck(List.of(sync.name()), before);
        } else if (changes.containsKey("autokick")) {
            s.reconcile(before);
        }
    }

    private static Map<String, Object> current(Sync y) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("relgroup", y.relgroup());
        m.put("dbgroup", y.dbgroup());
        m.put("status", y.status());
        m.put("autokick", y.autokick());
        m.put("checktime", y.checktime());
        m.put("onetimecopy", y.onetimecopy().code());
        m.put("stayalive", y.stayalive());
        m.put("kidsalive", y.kidsalive());
        m.put("conflict_strategy", y.conflictStrategy());
        m.put("lifetime", y.lifetime());
        m.put("maxkicks", y.maxkicks());
        m.put("isolation_level", y.isolationLevel());
        m.put("rebuild_index", y.rebuildIndex());
        m.put("analyze_after_copy", y.analyzeAfterCopy());
        m.put("strict_checking", y.strictChecking());
        m.put("priority", y.priority());
        return m;
    }

    private static String show(Object v) {
        return v == null ? "(none)" : v instanceof String str ? "\"" + str + "\"" : v.toString();
    }
}
