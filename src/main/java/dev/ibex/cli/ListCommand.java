package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.NamePattern;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Db;
import dev.ibex.repository.ModelWriter;
import dev.ibex.repository.Relation;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "list",
        header = "Show the configuration in Bucardo's layout, never with passwords.", aliases = {"l", "lsit", "liast", "lisy", "lit"}, description = {
    "Show the configuration in Bucardo's layout; passwords are never shown:",
    "  list dbs|tables|sequences|relgroups|herds|dbgroups|syncs|all [NAME or PATTERN with * or %%...]"})
public class ListCommand extends Verb {

    @Parameters(arity = "0..*", paramLabel = "WORD")
    List<String> words = new ArrayList<>();

    private static final String RELGROUPS = """
            SELECT g.name, coalesce(min(r.db), ''),
                   coalesce(string_agg(r.schemaname || '.' || r.tablename, ', ' ORDER BY m.priority DESC, r.id), ''),
                   coalesce((SELECT string_agg(s.name, ', ' ORDER BY s.name) FROM ibex.sync s WHERE s.relgroup = g.name), '')
            FROM ibex.relgroup g
            LEFT JOIN ibex.relgroup_member m ON m.relgroup = g.name
            LEFT JOIN ibex.relation r ON r.id = m.relation
            GROUP BY g.name ORDER BY g.name""";

    private static final String DBGROUPS = """
            SELECT g.name,
                   coalesce((SELECT string_agg(s.name, ', ' ORDER BY s.name) FROM ibex.sync s WHERE s.dbgroup = g.name), '')
            FROM ibex.dbgroup g ORDER BY g.name""";

    private static final String RELGROUPS_OF_RELATION = """
            SELECT m.relation, string_agg(m.relgroup, ', ' ORDER BY m.relgroup)
            FROM ibex.relgroup_member m GROUP BY m.relation""";

    @Override
    public Integer call() {
        if (words.isEmpty()) {
            throw IbexException.badInput("List what? ibex list dbs|tables|sequences|relgroups|dbgroups|syncs|all");
        }
        Noun noun = Noun.of(words.get(0), "list");
        List<String> terms = words.subList(1, words.size());
        try (Repository repo = openRepository()) {
            List<String> lines = new ArrayList<>();
            if (noun == Noun.ALL) {
                for (Noun n : List.of(Noun.DB, Noun.DBGROUP, Noun.TABLE, Noun.SEQUENCE, Noun.RELGROUP, Noun.SYNC)) {
                    lines.add("-- " + plural(n) + ":");
                    lines.addAll(list(repo, n, terms));
                }
            } else {
                lines.addAll(list(repo, noun, terms));
            }
            lines.forEach(this::say);
        }
        return ExitCode.OK.code();
    }

    private static List<String> list(Repository repo, Noun noun, List<String> terms) {
        List<String> lines = switch (noun) {
            case DB -> dbs(repo, terms);
            case TABLE -> relations(repo, "table", terms);
            case SEQUENCE -> relations(repo, "sequence", terms);
            case RELGROUP -> relgroups(repo, terms);
            case DBGROUP -> dbgroups(repo, terms);
            case SYNC -> syncs(repo, terms);
            case ALL -> throw new IllegalStateException();
        };
        if (lines.isEmpty()) {
            return List.of("No " + plural(noun) + " found" + (terms.isEmpty() ? ""
                    : " matching " + terms.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(" or "))));
        }
        return lines;
    }

    private static String plural(Noun n) {
        return n == Noun.DB ? "databases" : n.word + "s";
    }

    private static Predicate<String> named(List<String> terms) {
        return name -> terms.isEmpty() || terms.stream().anyMatch(t -> UpdateCommand.matches(t, name));
    }

    private static List<String> dbs(Repository repo, List<String> terms) {
        List<Db> dbs = repo.dbs().stream().filter(d -> named(terms).test(d.name())).toList();
        int w = dbs.stream().mapToInt(d -> d.name().length()).max().orElse(0);
        int ws = dbs.stream().mapToInt(d -> d.status().length()).max().orElse(0);
        return dbs.stream().map(d -> String.format("Database: %-" + w + "s  Status: %-" + ws + "s  Conn: %s", d.name(),
                d.status(), conn(d)).strip()).toList();
    }

    /** How to reach the db with psql; never the password. */
    static String conn(Db d) {
        StringBuilder sb = new StringBuilder("psql");
        if (d.service() != null) {
            sb.append(" \"service=").append(d.service()).append('"');
        }
        if (d.port() != null) {
            sb.append(" -p ").append(d.port());
        }
        if (d.user() != null) {
            sb.append(" -U ").append(d.user());
        }
        if (d.dbname() != null) {
            sb.append(" -d ").append(d.dbname());
        }
        if (d.host() != null) {
            sb.append(" -h ").append(d.host());
        }
        if (d.conn() != null) {
            sb.append("  (").append(ConnectionSpec.maskPasswords(d.conn())).append(')');
        }
        return sb.toString();
    }

    private static List<String> relations(Repository repo, String reltype, List<String> terms) {
        java.util.Map<Integer, String> groups = new java.util.HashMap<>();
        repo.list(RELGROUPS_OF_RELATION, rs -> groups.put(rs.getInt(1), rs.getString(2)));
        List<Relation> rels = new ModelWriter(repo).relations(reltype).stream()
                .filter(r -> terms.isEmpty() || terms.stream().anyMatch(t -> NamePattern.parse(t).matches(r.schema(),
                        r.name()))).toList();
        int w = rels.stream().mapToInt(r -> r.display().length()).max().orElse(0);
        List<String> out = new ArrayList<>();
        int i = 0;
        for (Relation r : rels) {
            String line = String.format("%d. %s: %-" + w + "s  DB: %s", ++i, reltype.equals("table") ? "Table" : "Sequence",
                    r.display(), r.db());
            if (!r.isSequence()) {
                line += "  PK: " + (r.hasKey() ? String.join("|", r.keyColumns()) + " (" + String.join("|", r.keyTypes())
                        + ")" : "none");
            }
            if (groups.containsKey(r.id())) {
                line += "  Relgroups: " + groups.get(r.id());
            }
            out.add(line);
        }
        return out;
    }

    private static List<String> relgroups(Repository repo, List<String> terms) {
        List<String> out = new ArrayList<>();
        repo.list(RELGROUPS, rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)})
                .stream().filter(g -> named(terms).test(g[0])).forEach(g -> {
                    out.add("Relgroup: " + g[0] + (g[1].isEmpty() ? "" : "  DB: " + g[1]) + "  Members: "
                            + (g[2].isEmpty() ? "none" : g[2]));
                    if (!g[3].isEmpty()) {
                        out.add("  Used in syncs: " + g[3]);
                    }
                });
        return out;
    }

    private static List<String> dbgroups(Repository repo, List<String> terms) {
        List<String> out = new ArrayList<>();
        repo.list(DBGROUPS, rs -> new String[] {rs.getString(1), rs.getString(2)}).stream()
                .filter(g -> named(terms).test(g[0])).forEach(g -> {
                    String members = members(repo, g[0]);
                    out.add("Dbgroup: " + g[0] + "  Members: " + (members.isEmpty() ? "none" : members));
                    if (!g[1].isEmpty()) {
                        out.add("  Used in syncs: " + g[1]);
                    }
                });
        return out;
    }

    private static String members(Repository repo, String dbgroup) {
        return repo.members(dbgroup).stream().map(m -> m.db() + ":" + m.role().word()).collect(Collectors.joining(" "));
    }

    private static List<String> syncs(Repository repo, List<String> terms) {
        List<Sync> syncs = repo.syncs().stream().filter(s -> named(terms).test(s.name()))
                .sorted(java.util.Comparator.comparing(Sync::name)).toList();
        int ws = syncs.stream().mapToInt(s -> s.name().length() + 2).max().orElse(0);
        int wr = syncs.stream().mapToInt(s -> s.relgroup().length() + 2).max().orElse(0);
        List<String> out = new ArrayList<>();
        for (Sync s : syncs) {
            String dbs = members(repo, s.dbgroup());
            out.add(String.format("Sync %-" + ws + "s  Relgroup %-" + wr + "s  DB group \"%s\" %s  [%s]",
                    "\"" + s.name() + "\"", "\"" + s.relgroup() + "\"", s.dbgroup(), dbs,
                    (s.active() ? "Active" : "Inactive") + (s.paused() ? ", paused" : "")));
        }
        return out;
    }
}
