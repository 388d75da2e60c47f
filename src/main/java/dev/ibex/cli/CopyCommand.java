package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.migrate.PgTools;
import dev.ibex.migrate.SchemaCopier;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "copy",
        header = "Copy the schema of one db into another with pg_dump and psql, in one transaction.", description = {
    "copy schema SRC DST [pg_dump=PATH]: copy the table definitions, indexes, constraints, views, functions and",
    "extensions of db SRC into db DST (names from 'ibex list dbs'), with pg_dump --schema-only --no-owner",
    "--no-privileges --exclude-schema=ibex (and without ibex's capture triggers, so a source a sync already",
    "reads copies too) and psql in one transaction: on error DST is left as it was.",
    "The pg_dump must be as new as the source server and still dump it (15 and later dump 9.2 and later:",
    "an 8.4 to 9.1 source needs pg_dump 9.x to 14). It is pg_dump=PATH (the program or its directory), else",
    "the first that can on PATH, in /usr/lib/postgresql/*/bin or /usr/pgsql-*/bin (newest first), or in",
    "--pg-bin. psql is the newest found that is at least as new as that pg_dump."})
public class CopyCommand extends Verb {

    private static final String USAGE = "ibex copy schema SRC DST [pg_dump=PATH]";

    @Parameters(arity = "0..*", paramLabel = "WORD", description = "schema SRC DST [pg_dump=PATH]")
    List<String> words = new ArrayList<>();

    @Option(names = "--pg-bin", paramLabel = "DIR", description = "Directory with pg_dump and psql.")
    Path pgBin;

    @Override
    public Integer call() {
        Words w = Words.parse("ibex copy", words, Words.Keys.of("pg_dump|pgdump"));
        List<String> nouns = w.nouns();
        String what = nouns.isEmpty() ? null : nouns.get(0);
        if (what == null) {
            throw IbexException.badInput("Missing object for 'ibex copy': " + USAGE);
        }
        if (!"schema".equalsIgnoreCase(what)) {
            throw IbexException.badInput("Cannot copy \"" + what + "\": the only form is 'ibex copy schema SRC DST' "
                    + "(rows are copied by a sync with onetimecopy)");
        }
        if (nouns.size() != 3) {
            throw IbexException.badInput((nouns.size() < 3 ? "Missing " + (nouns.size() == 1 ? "SRC and DST" : "DST")
                    : "Unexpected word \"" + nouns.get(3) + "\"") + " for 'ibex copy schema': " + USAGE);
        }
        String source = nouns.get(1);
        String target = nouns.get(2);
        Path pgDump = pgDump(w);
        Db src;
        Db dst;
        try (Repository repo = openRepository()) {
            src = db(repo, source);
            dst = db(repo, target);
        }
        if (src.name().equals(dst.name())) {
            throw IbexException.badInput("Source and target are both db \"" + src.name() + "\": name two different dbs");
        }
        PgTools tools = pgBin == null ? PgTools.fromEnvironment() : PgTools.in(pgBin);
        if (pgDump != null) {
            tools = tools.withPgDump(pgDump);
        }
        SchemaCopier.Outcome o = new SchemaCopier(tools).copy(src, dst);
        say("Copied the schema of db " + src.name() + " into db " + dst.name() + " (" + o.tables() + " table(s); pg_dump "
                + o.pgDump().version() + " at " + o.pgDump().path() + ", psql " + o.psql().version() + " at "
                + o.psql().path() + ")");
        return ExitCode.OK.code();
    }

    /** The pg_dump= word: a pg_dump, or the directory it is in; null when not given. */
    private static Path pgDump(Words w) {
        if (!w.has("pg_dump")) {
            return null;
        }
        String v = w.get("pg_dump");
        try {
            if (v != null && !v.isBlank()) {
                return Path.of(v.strip());
            }
        } catch (InvalidPathException e) {
            // reported below
        }
        throw IbexException.badInput("Invalid pg_dump=" + (v == null ? "" : v) + " for 'ibex copy schema': give the path "
                + "of a pg_dump or of its directory, e.g. pg_dump=/usr/lib/postgresql/14/bin/pg_dump");
    }

    private static Db db(Repository repo, String name) {
        return repo.db(name).orElseThrow(() -> IbexException.badInput("No db named \"" + name
                + "\": see 'ibex list dbs', or add it with 'ibex add db " + name + " dbname=... host=...'"));
    }
}
