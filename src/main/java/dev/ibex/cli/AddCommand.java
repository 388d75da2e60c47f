package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.migrate.Relations;
import dev.ibex.pg.Catalog;
import dev.ibex.repository.Db;
import dev.ibex.repository.DbgroupMember;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Role;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "add",
        header = "Add a db, tables or sequences, a relgroup (herd), a dbgroup or a sync.", description = {
    "Add a db, tables or sequences, a relgroup (herd), a dbgroup or a sync, in Bucardo's words:",
    "  add db NAME dbname=DB [host=H] [port=P] [user=U] [pass=PW] [conn='sslmode=require'] [service=S]",
    "         [status=active|inactive] [makedelta=0|1] [group=DBGROUP[:ROLE]]   (Bucardo 4: add db DBNAME name=NAME)",
    "  add table|sequence NAME... [db=DB] [relgroup=R] [makedelta=0|1]   (schema.name, '\"Quoted Name\"', wildcards * %%)",
    "  add all tables|sequences [db=DB] [relgroup=R] [-n SCHEMA] [-N SCHEMA] [-t TABLE] [-T TABLE] [--keyed-only]",
    "  add relgroup R [TABLE...] [db=DB]",
    "  add dbgroup G DB:source DB:target DB:fullcopy ...",
    "  add sync S relgroup=R dbs=G|A:source,B:target [tables=T1,T2] [autokick=] [checktime=] [onetimecopy=0|1|2]",
    "         [status=] [stayalive=] [kidsalive=] [conflict_strategy=latest|source|target|skip|random|abort|DB,DB]",
    "         [lifetime=] [maxkicks=]",
    "         [isolation_level=] [rebuild_index=] [analyze_after_copy=] [strict_checking=] [priority=]",
    "         (Bucardo 4: add sync S type=pushdelta|fullcopy|swap source=R targetdb=DB|targetgroup=G [tables=])",
    "A dbgroup with several sources makes them feed each other and the targets (conflicts: conflict_strategy);",
    "makedelta=1 on a db makes the rows ibex applies there captured too, for syncs that read from it.",
    "key=value and key:value both work; booleans take t/f, true/false, on/off, yes/no, 1/0."})
public class AddCommand extends ModelVerb {

    private static final String USAGE = "ibex add db|table|sequence|all|relgroup|dbgroup|sync NAME key=value... "
            + "(see 'ibex help add')";
    private static final String[] RELATION_KEYS = {"db|database", "relgroup|herd", "autokick|ping",
        "rebuild_index|rebuildindex", "analyze_after_copy", "strict_checking", "makedelta"};
    /** The keys of RELATION_KEYS as the words say them; none may be empty in an add. */
    private static final String[] RELATION_WORDS = {"db", "relgroup", "autokick", "rebuild_index", "analyze_after_copy",
        "strict_checking", "makedelta"};

    @Option(names = {"-n", "--schema"}, split = ",", paramLabel = "SCHEMA", description = "add all: only these schemas.")
    List<String> schemas = new ArrayList<>();

    @Option(names = {"-N", "--exclude-schema"}, split = ",", paramLabel = "SCHEMA", description = "add all: not these schemas.")
    List<String> notSchemas = new ArrayList<>();

    @Option(names = {"-t", "--table"}, split = ",", paramLabel = "TABLE", description = "add all: only these tables.")
    List<String> tables = new ArrayList<>();

    @Option(names = {"-T", "--exclude-table"}, split = ",", paramLabel = "TABLE", description = "add all: not these tables.")
    List<String> notTables = new ArrayList<>();

    @Option(names = "--keyed-only", description = "add all tables: leave out tables without a primary key or unique index.")
    boolean keyedOnly;

    @Override
    public Integer call() {
        Noun noun = noun("add", USAGE);
        return edit(s -> {
            switch (noun) {
                case DB -> addDb(s);
                case TABLE -> addRelations(s, Catalog.TABLE);
                case SEQUENCE -> addRelations(s, Catalog.SEQUENCE);
                case ALL -> addAll(s);
                case RELGROUP -> addRelgroup(s);
                case DBGROUP -> addDbgroup(s);
                case SYNC -> addSync(s);
            }
        });
    }

    // ---- db -----------------------------------------------------------------------------------------

    private void addDb(Session s) {
        Words w = Words.parse("ibex add db", rest(), Words.Keys.of(DbSettings.KEYS).plus("name", "group|dbgroup"));
        String usage = "ibex add db NAME dbname=DATABASE [host=...] [port=...] [user=...] [pass=...]";
        String name = oneName(w, "db", usage);
        Map<String, Object> cols = DbSettings.columns(w);
        if (w.has("name")) {
            if (w.get("name") == null || cols.get("dbname") != null) {
                throw IbexException.badInput("Give the database name once: 'ibex add db NAME dbname=DATABASE', or "
                        + "Bucardo 4's 'ibex add db DATABASE name=NAME'");
            }
            cols.put("dbname", name);
            name = w.get("name");
        }
        ModelWriter.checkName("db", name);
        if (s.repo.db(name).isPresent()) {
            throw IbexException.badInput("Cannot add database: the name \"" + name + "\" already exists: choose another "
                    + "name, or change it with 'ibex update db " + name + " key=value'");
        }
        if (cols.get("dbname") == null && cols.get("service") == null) {
            throw IbexException.badInput("Cannot add database \"" + name + "\": must supply a database name to connect "
                    + "to (dbname=DATABASE) or a service (service=NAME)");
        }
        cols.values().removeIf(v -> v == null);
        String status = (String) cols.getOrDefault("status", "active");
        DbSettings.testConnection(s, DbSettings.db(name, cols, status));
        s.model.insertDb(name, cols);
        s.say("Added database \"" + name + "\"");
        if (w.get("group") != null) {
            joinDbgroup(s, name, w.get("group"));
        }
    }

    /** group=DBGROUP[:ROLE] of add db: the dbgroup is made when missing, the role is target unless given. */
    private static void joinDbgroup(Session s, String db, String groupWord) {
        int colon = groupWord.indexOf(':');
        String group = colon < 0 ? groupWord : groupWord.substring(0, colon);
        Role role = colon < 0 ? Role.TARGET : Role.of(groupWord.substring(colon + 1));
        List<String> syncs = s.model.syncsUsingDbgroup(group);
        List<String> before = s.model.sourcesOf(syncs);
        if (!s.model.dbgroupExists(group)) {
            ModelWriter.checkName("dbgroup", group);
            s.model.insertDbgroup(group);
            s.say("Created dbgroup \"" + group + "\"");
        }
        s.model.putInDbgroup(group, db, role);
        s.say("  Added database \"" + db + "\" to dbgroup \"" + group + "\" as " + role.word());
        s.recheck(syncs, before);
    }

    // ---- tables and sequences -----------------------------------------------------------------------

    private void addRelations(Session s, String kind) {
        String what = Catalog.TABLE.equals(kind) ? "table" : "sequence";
        Words w = Words.parse("ibex add " + what, rest(), Words.Keys.of(RELATION_KEYS)).nonEmpty(RELATION_WORDS);
        Db db = s.dbOrOnly(w.get("db"), "ibex add " + what);
        List<Relation> rels = s.relations().addFromCatalog(db, w.nouns(), kind, relationOptions(w));
        intoRelgroup(s, w.get("relgroup"), rels);
    }

    private void addAll(Session s) {
        List<String> r = rest();
        Noun what = r.isEmpty() ? null : Noun.of(r.get(0), "add all");
        if (what != Noun.TABLE && what != Noun.SEQUENCE) {
            throw IbexException.badInput("Add all what? Use 'ibex add all tables' or 'ibex add all sequences'");
        }
        String kind = what == Noun.TABLE ? Catalog.TABLE : Catalog.SEQUENCE;
        Words w = Words.parse("ibex add all " + what.word + "s", r.subList(1, r.size()), Words.Keys.of(RELATION_KEYS))
                .nonEmpty(RELATION_WORDS);
        if (!w.nouns().isEmpty()) {
            throw IbexException.badInput("Unexpected word \"" + w.nouns().get(0) + "\" after 'ibex add all " + what.word
                    + "s': choose tables with -n/-N SCHEMA and -t/-T TABLE");
        }
        Db db = s.dbOrOnly(w.get("db"), "ibex add all " + what.word + "s");
        List<Relation> rels = s.relations().addAll(db, kind,
                new Relations.Filter(schemas, notSchemas, tables, notTables, keyedOnly), relationOptions(w));
        intoRelgroup(s, w.get("relgroup"), rels);
    }

    private static Map<String, Object> relationOptions(Words w) {
        Map<String, Object> o = new LinkedHashMap<>();
        for (String key : List.of("autokick", "analyze_after_copy", "strict_checking", "makedelta")) {
            if (w.get(key) != null) {
                o.put(key, w.bool(key));
            }
        }
        if (w.get("rebuild_index") != null) {
            o.put("rebuild_index", w.bool("rebuild_index") ? 1 : 0);
        }
        return o;
    }

    /** Puts the relations in the relgroup; syncs reading it are checked again. */
    private static void intoRelgroup(Session s, String relgroup, List<Relation> rels) {
        if (relgroup == null) {
            return;
        }
        List<String> syncs = s.model.syncsUsingRelgroup(relgroup);
        List<String> before = s.model.sourcesOf(syncs);
        s.relations().putInRelgroup(relgroup, rels);
        s.recheck(syncs, before);
    }

    // ---- groups -------------------------------------------------------------------------------------

    private void addRelgroup(Session s) {
        Words w = Words.parse("ibex add relgroup", rest(), Words.Keys.of("db|database")).nonEmpty("db");
        List<String> nouns = w.nouns();
        if (nouns.isEmpty()) {
            throw IbexException.badInput("Missing relgroup name: ibex add relgroup NAME [TABLE...] [db=DB]");
        }
        String name = nouns.get(0);
        List<String> terms = nouns.subList(1, nouns.size());
        ModelWriter.checkName("relgroup", name);
        boolean exists = s.model.relgroupExists(name);
        if (exists && terms.isEmpty()) {
            throw IbexException.badInput("Relgroup \"" + name + "\" already exists: add tables to it with 'ibex add "
                    + "relgroup " + name + " TABLE...', or choose another name");
        }
        if (!exists) {
            s.model.insertRelgroup(name);
            s.say("Created relgroup \"" + name + "\"");
        }
        if (terms.isEmpty()) {
            return;
        }
        String dbName = w.get("db");
        if (dbName == null && exists && !s.model.relgroupDbs(name).isEmpty()) {
            dbName = s.model.relgroupDbs(name).get(0);
        }
        Db db = s.dbOrOnly(dbName, "ibex add relgroup");
        intoRelgroup(s, name, s.relations().addFromCatalog(db, terms, null, Map.of()));
    }

    private void addDbgroup(Session s) {
        Words w = Words.parse("ibex add dbgroup", rest(), Words.Keys.of());
        List<String> nouns = w.nouns();
        if (nouns.isEmpty()) {
            throw IbexException.badInput("Missing dbgroup name: ibex add dbgroup NAME DB:source DB:target ...");
        }
        String name = nouns.get(0);
        ModelWriter.checkName("dbgroup", name);
        if (s.model.dbgroupExists(name)) {
            throw IbexException.badInput("Cannot add dbgroup: the name \"" + name + "\" already exists: choose another "
                    + "name, or change it with 'ibex update dbgroup " + name + " DB:ROLE'");
        }
        s.model.insertDbgroup(name);
        s.say("Created dbgroup \"" + name + "\"");
        List<String> members = nouns.subList(1, nouns.size());
        if (!members.isEmpty()) {
            DbList.parse(s, String.join(",", members), false).forEach((db, role) -> {
                s.model.putInDbgroup(name, db, role);
                s.say("Added database \"" + db + "\" to dbgroup \"" + name + "\" as " + role.word());
            });
        }
    }

    // ---- sync ---------------------------------------------------------------------------------------

    private void addSync(Session s) {
        Words.Keys keys = Words.Keys.of(SyncOptions.KEYS).plus("relgroup|herd", "dbs|db|database|databases|dbgroup",
                "tables|table|relation|relations", "type|synctype", "source", "targetdb", "targetgroup");
        Words w = Words.parse("ibex add sync", rest(), keys).nonEmpty("relgroup", "dbs", "tables", "type", "source",
                "targetdb", "targetgroup");
        String name = newSyncName(s, oneName(w, "sync", "ibex add sync NAME relgroup=R dbs=A:source,B:target"));
        Map<String, Object> cols = SyncOptions.columns(s, w);
        Groups groups = isBucardo4(w) ? Bucardo4Sync.groups(s, name, w) : groups(s, name, w);
        if (onlyFullcopy(s, groups.dbgroup())) {
            cols.putIfAbsent("stayalive", false);
            cols.putIfAbsent("kidsalive", false);
        }
        cols.put("relgroup", groups.relgroup());
        cols.put("dbgroup", groups.dbgroup());
        s.model.insertSync(name, cols);
        boolean strict = !Boolean.FALSE.equals(cols.get("strict_checking"));
        s.reconcile(s.syncChecker().check(name, groups.relgroup(), groups.dbgroup(), strict));
        s.say("Added sync \"" + name + "\"");
    }

    /** The relgroup and dbgroup a sync reads. */
    record Groups(String relgroup, String dbgroup) {
    }

    private static String newSyncName(Session s, String name) {
        if (!name.matches(ModelWriter.SYNC_NAME)
                || ModelWriter.RESERVED_SYNC_NAMES.contains(name.toLowerCase(Locale.ROOT))) {
            throw IbexException.badInput("Invalid sync name \"" + name + "\": use letters, digits and _, starting with a "
                    + "letter or _, and not pushdelta, fullcopy, swap, sync or all");
        }
        if (s.model.syncExists(name)) {
            throw IbexException.badInput("Cannot add sync: the name \"" + name + "\" already exists: choose another name, "
                    + "or change it with 'ibex update sync " + name + " key=value'");
        }
        return name;
    }

    private static boolean isBucardo4(Words w) {
        boolean legacy = w.has("type") || w.has("source") || w.has("targetdb") || w.has("targetgroup");
        if (legacy && (w.has("relgroup") || w.has("dbs"))) {
            throw IbexException.badInput("Use either Bucardo 4's type=, source=, targetdb=/targetgroup= or "
                    + "relgroup= and dbs=, not both");
        }
        return legacy;
    }

    /** dbs= (a dbgroup or DB:ROLE list) and relgroup= or tables=. */
    private static Groups groups(Session s, String name, Words w) {
        if (w.get("dbs") == null) {
            throw IbexException.badInput("Cannot add sync \"" + name + "\": need dbs=A:source,B:target (or a dbgroup "
                    + "name)");
        }
        if (w.has("relgroup") == w.has("tables")) {
            throw IbexException.badInput("Cannot add sync \"" + name + "\": need " + (w.has("relgroup")
                    ? "either relgroup= or tables=, not both" : "relgroup=NAME or tables=T1,T2"));
        }
        String dbgroup = DbList.dbgroup(s, name, w.get("dbs"));
        if (w.has("relgroup")) {
            return new Groups(existingRelgroup(s, w.get("relgroup")), dbgroup);
        }
        String source = s.repo.members(dbgroup).stream().filter(m -> m.role() == Role.SOURCE)
                .map(DbgroupMember::db).findFirst().orElseThrow(() -> IbexException.badInput("Dbgroup \""
                        + dbgroup + "\" has no source db: give one db the source role (DB:source)"));
        return new Groups(relgroupFromTables(s, name, source, w.get("tables")), dbgroup);
    }

    /** A dbgroup of one source and fullcopy targets only: each run copies everything, so no kid stays alive. */
    private static boolean onlyFullcopy(Session s, String dbgroup) {
        List<DbgroupMember> members = s.repo.members(dbgroup);
        return members.stream().allMatch(m -> m.role() != Role.TARGET)
                && members.stream().filter(m -> m.role() == Role.SOURCE).count() == 1;
    }

    static String existingRelgroup(Session s, String relgroup) {
        if (relgroup == null || !s.model.relgroupExists(relgroup)) {
            throw IbexException.badInput("No relgroup named \"" + relgroup + "\": see 'ibex list relgroups', or make it "
                    + "with 'ibex add table T... db=DB relgroup=" + relgroup + "'");
        }
        return relgroup;
    }

    /** A relgroup of the listed tables of the source db: an identical one, else one named after the sync. */
    static String relgroupFromTables(Session s, String sync, String sourceDb, String tablesValue) {
        if (tablesValue == null) {
            throw IbexException.badInput("Missing value for tables=: list tables, e.g. tables=public.a,public.b");
        }
        List<Relation> rels = s.relations().addFromCatalog(s.db(sourceDb), Words.list(tablesValue), null, Map.of());
        List<String> same = s.model.relgroupsWithMembers(rels.stream().map(Relation::id).toList());
        if (!same.isEmpty()) {
            s.say("Using existing relgroup \"" + same.get(0) + "\"");
            return same.get(0);
        }
        String name = Session.freeName(sync, new HashSet<>(s.repo.list("SELECT name FROM ibex.relgroup",
                rs -> rs.getString(1))));
        s.model.insertRelgroup(name);
        s.say("Created a new relgroup named \"" + name + "\"");
        s.relations().putInRelgroup(name, rels);
        return name;
    }

}
