package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;

@Command(name = "remove",
        header = "Remove dbs, tables, sequences, relgroups, dbgroups or syncs.", aliases = {"delete", "del"}, description = {
    "Remove dbs, tables, sequences, relgroups, dbgroups or syncs:",
    "  remove db|relgroup|dbgroup|sync NAME...",
    "  remove table|sequence NAME... [db=DB]",
    "Refuses to remove what a sync still uses and names the sync; --force removes the syncs too",
    "(for a table: takes it out of their relgroups). Triggers on sources follow the repository."})
public class RemoveCommand extends ModelVerb {

    private static final String USAGE = "ibex remove db|table|sequence|relgroup|dbgroup|sync NAME... "
            + "(see 'ibex help remove')";

    @Override
    public Integer call() {
        Noun noun = noun("remove", USAGE);
        return edit(s -> {
            s.tolerateCaptureFailure = force;
            switch (noun) {
                case DB -> names(s, "db").forEach(n -> removeDb(s, n));
                case TABLE -> removeRelations(s, "table");
                case SEQUENCE -> removeRelations(s, "sequence");
                case RELGROUP -> names(s, "relgroup").forEach(n -> removeGroup(s, "relgroup", n));
                case DBGROUP -> names(s, "dbgroup").forEach(n -> removeGroup(s, "dbgroup", n));
                case SYNC -> removeSyncs(s, names(s, "sync"));
                case ALL -> throw IbexException.badInput("'ibex remove all' is not supported: " + USAGE);
            }
        });
    }

    private List<String> names(Session s, String what) {
        Words w = Words.parse("ibex remove " + what, rest(), Words.Keys.of());
        if (w.nouns().isEmpty()) {
            throw IbexException.badInput("Missing " + what + " name: ibex remove " + what + " NAME...");
        }
        return w.nouns();
    }

    private static String users(List<String> syncs) {
        return (syncs.size() == 1 ? "sync \"" : "syncs \"") + String.join("\", \"", syncs) + "\"";
    }

    private static IbexException inUse(String what, List<String> syncs) {
        return inUse(what, syncs, "to remove " + (syncs.size() == 1 ? "it" : "them") + " too");
    }

    private static IbexException inUse(String what, List<String> syncs, String forceDoes) {
        return IbexException.badInput("Cannot remove " + what + ": " + users(syncs) + (syncs.size() == 1 ? " uses" : " use")
                + " it: remove " + (syncs.size() == 1 ? "that sync" : "those syncs") + " first ('ibex remove sync "
                + String.join(" ", syncs) + "'), or use --force " + forceDoes);
    }

    private void removeDb(Session s, String name) {
        Db db = s.db(name);
        List<String> syncs = s.model.syncsUsingDb(name);
        if (!syncs.isEmpty() && !s.force) {
            throw inUse("db \"" + name + "\"", syncs);
        }
        Set<String> sources = new LinkedHashSet<>(s.model.sourcesOf(syncs));
        s.holdRuns(sources);
        syncs.forEach(sync -> dropSync(s, sync));
        s.reconcile(sources);
        for (String g : s.model.dbgroupsOf(name)) {
            s.say("  Removed database \"" + name + "\" from dbgroup \"" + g + "\"");
        }
        s.model.deleteDb(db.name());
        s.say("Removed database \"" + name + "\"");
    }

    private void removeRelations(Session s, String reltype) {
        Words w = Words.parse("ibex remove " + reltype, rest(), Words.Keys.of("db|database"));
        if (w.nouns().isEmpty()) {
            throw IbexException.badInput("Missing " + reltype + " name: ibex remove " + reltype + " NAME... [db=DB]");
        }
        List<Relation> rels = s.relations().inRepository(w.nouns(), reltype, w.get("db"));
        Set<String> affected = new LinkedHashSet<>();
        for (Relation r : rels) {
            List<String> syncs = s.model.syncsUsingRelation(r.id());
            if (!syncs.isEmpty() && !s.force) {
                throw inUse(reltype + " " + r.display() + " (DB: " + r.db() + ")", syncs,
                        "to take it out of their relgroup");
            }
            affected.addAll(syncs);
        }
        List<String> sources = s.model.sourcesOf(affected);
        s.holdRuns(sources);
        for (Relation r : rels) {
            s.model.deleteRelation(r.id());
            s.say("Removed " + reltype + " " + r.display() + " (DB: " + r.db() + ")");
        }
        s.reconcile(sources);
    }

    private void removeGroup(Session s, String what, String name) {
        boolean exists = what.equals("relgroup") ? s.model.relgroupExists(name) : s.model.dbgroupExists(name);
        if (!exists) {
            throw IbexException.badInput("No " + what + " named \"" + name + "\": see 'ibex list " + what + "s'");
        }
        List<String> syncs = what.equals("relgroup") ? s.model.syncsUsingRelgroup(name) : s.model.syncsUsingDbgroup(name);
        if (!syncs.isEmpty() && !s.force) {
            throw inUse(what + " \"" + name + "\"", syncs);
        }
        List<String> sources = s.model.sourcesOf(syncs);
        s.holdRuns(sources);
        syncs.forEach(sync -> dropSync(s, sync));
        if (what.equals("relgroup")) {
            s.model.deleteRelgroup(name);
        } else {
            s.model.deleteDbgroup(name);
        }
        s.reconcile(sources);
        s.say("Removed " + what + " \"" + name + "\"");
    }

    private void removeSyncs(Session s, List<String> names) {
        List<String> all = new ArrayList<>();
        List<String> existing = s.repo.syncs().stream().map(sy -> sy.name()).toList();
        for (String n : names) {
            List<String> m = n.equalsIgnoreCase("all") ? existing
                    : existing.stream().filter(e -> UpdateCommand.matches(n, e)).toList();
            if (m.isEmpty()) {
                throw IbexException.badInput("No sync named \"" + n + "\": see 'ibex list syncs'");
            }
            m.stream().filter(e -> !all.contains(e)).forEach(all::add);
        }
        List<String> sources = s.model.sourcesOf(all);
        s.holdRuns(sources);
        all.forEach(sync -> dropSync(s, sync));
        s.reconcile(sources);
    }

    /**
     * Drops a sync; the caller holds its runs first ({@link Session#holdRuns}): a run under way
     * writes its run row and S_prev while the delete cascades to them and to its claim, and the two
     * deadlocked, failing the command; a run starting meanwhile broke the run row's foreign key.
     */
    private static void dropSync(Session s, String sync) {
        s.model.deleteSync(sync);
        s.say("Removed sync \"" + sync + "\"");
    }
}
