package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.migrate.PgTools;
import dev.ibex.migrate.SchemaCopier;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "copy", description = {
    "copy schema SRC DST: copy the table definitions, indexes, constraints, views, functions and extensions of",
    "db SRC into db DST (names from 'ibex list dbs'), with pg_dump --schema-only --no-owner --no-privileges",
    "--exclude-schema=ibex and psql in one transaction: on error DST is left as it was. Needs pg_dump at least",
    "as new as the source server (on PATH, in /usr/lib/postgresql/*/bin, or --pg-bin)."})
public class CopyCommand extends Verb {

    @Parameters(index = "0", paramLabel = "WHAT", description = "schema")
    String what;

    @Parameters(index = "1", paramLabel = "SRC", description = "Source db name.")
    String source;

    @Parameters(index = "2", paramLabel = "DST", description = "Target db name.")
    String target;

    @Option(names = "--pg-bin", paramLabel = "DIR", description = "Directory with pg_dump and psql.")
    Path pgBin;

    @Override
    public Integer call() {
        if (!"schema".equalsIgnoreCase(what)) {
            throw IbexException.badInput("Cannot copy \"" + what + "\": the only form is 'ibex copy schema SRC DST' "
                    + "(rows are copied by a sync with onetimecopy)");
        }
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
        SchemaCopier.Outcome o = new SchemaCopier(tools).copy(src, dst);
        say("Copied the schema of db " + src.name() + " into db " + dst.name() + " (" + o.tables() + " table(s); pg_dump "
                + o.pgDump().version() + " at " + o.pgDump().path() + ", psql " + o.psql().version() + ")");
        return 0;
    }

    private static Db db(Repository repo, String name) {
        return repo.db(name).orElseThrow(() -> IbexException.badInput("No db named \"" + name
                + "\": see 'ibex list dbs', or add it with 'ibex add db " + name + " dbname=... host=...'"));
    }
}
