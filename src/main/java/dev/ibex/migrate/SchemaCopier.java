package dev.ibex.migrate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Db;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * `ibex copy schema SRC DST`: pg_dump --schema-only of the source (without ibex's own schema)
 * restored into the target by psql in one transaction, so a failed restore leaves the target as
 * it was. The dump goes through a file, not a pipe: psql must never commit half a dump because
 * pg_dump died. Passwords travel in PGPASSWORD of the child only.
 */
public final class SchemaCopier {

    /** libpq keywords we pass on from a db's conn= words; pgjdbc-only ones mean nothing to libpq. */
    private static final Set<String> LIBPQ_WORDS = Set.of("sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl",
            "sslpassword", "gssencmode", "connect_timeout", "options", "target_session_attrs", "keepalives",
            "keepalives_idle", "channel_binding", "requiressl", "krbsrvname", "passfile");

    public record Outcome(PgTools.Tool pgDump, PgTools.Tool psql, int sourceMajor, long tables) {
    }

    private final PgTools tools;

    public SchemaCopier(PgTools tools) {
        this.tools = tools;
    }

    public Outcome copy(Db source, Db target) {
        int sourceMajor;
        try (DbSession s = DbSession.open(source, "ibex copy schema")) {
            sourceMajor = s.major();
        }
        // connecting first turns a bad target into our one-line error instead of psql's
        DbSession.open(target, "ibex copy schema").close();
        PgTools.Tool pgDump = tools.pgDump(sourceMajor, "source db " + source.name());
        PgTools.Tool psql = tools.psql(pgDump);
        Path dump = null;
        try {
            dump = Files.createTempFile("ibex-schema-", ".sql");
            run("pg_dump of source db " + source.name(), source, pgDumpCommand(pgDump, source.spec(), dump));
            List<String> lines = withoutCapture(Files.readAllLines(dump, StandardCharsets.UTF_8));
            Files.write(dump, lines, StandardCharsets.UTF_8);
            long tables = lines.stream().filter(l -> l.startsWith("CREATE TABLE ")).count();
            run("Restoring the schema into target db " + target.name() + " (nothing was changed there: it ran in one "
                    + "transaction)", target, List.of(psql.path().toString(), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "--single-transaction", "--dbname=" + conninfo(target.spec()), "--file=" + dump));
            return new Outcome(pgDump, psql, sourceMajor, tables);
        } catch (IOException e) {
            throw new IbexException(ExitCode.INTERNAL, "Copying the schema failed: " + e.getMessage());
        } finally {
            if (dump != null) {
                try {
                    Files.deleteIfExists(dump);
                } catch (IOException e) {
                    // a temporary file with a schema in it, no secrets
                }
            }
        }
    }

    /** A capture trigger as pg_dump writes it: one line, calling a function of schema ibex (quoted or not). */
    private static final Pattern CAPTURE_TRIGGER = Pattern.compile(
            "^CREATE TRIGGER \\S+ .* EXECUTE (FUNCTION|PROCEDURE) \"?ibex\"?\\..*");

    /** pg_dump's ALTER TABLE … DISABLE/ENABLE TRIGGER of one of ibex's capture triggers (a user disabled it). */
    private static final Pattern CAPTURE_TRIGGER_STATE = Pattern.compile(
            "^ALTER TABLE .* (ENABLE|DISABLE)( ALWAYS| REPLICA)? TRIGGER \"?ibex_(capture|rows|delete|truncate)\"?;$");

    /**
     * The dump without the capture triggers of a source that a sync already reads: --exclude-schema
     * leaves out schema ibex but not the triggers, which belong to the tables, so their functions
     * would be missing and the restore would fail (copying a running sync's source to a new target is
     * how a target is added). ibex puts capture on a db when a sync reads from it, never by a copy.
     */
    static List<String> withoutCapture(List<String> lines) {
        return lines.stream().filter(l -> !CAPTURE_TRIGGER.matcher(l).matches()
                && !CAPTURE_TRIGGER_STATE.matcher(l).matches()).toList();
    }

    /**
     * The pg_dump command line, valid for every pg_dump that can dump an 8.4 or later server: the
     * connection string is the positional database argument (pg_dump has --dbname only from 9.3 on),
     * and identifiers are all quoted (from 9.1 on) so that a word reserved only in the target's
     * version cannot break the restore, as pg_dump's documentation advises for cross-version dumps.
     */
    static List<String> pgDumpCommand(PgTools.Tool pgDump, ConnectionSpec source, Path file) {
        List<String> command = new ArrayList<>(List.of(pgDump.path().toString(), "--schema-only", "--no-owner",
                "--no-privileges", "--exclude-schema=ibex", "--file=" + file));
        if (pgDump.major() >= 901) {
            command.add("--quote-all-identifiers");
        }
        String conninfo = conninfo(source);
        if (!conninfo.isEmpty()) {
            command.add(conninfo);
        }
        return command;
    }

    private static void run(String doing, Db db, List<String> command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        String password = db.spec().password();
        if (password != null) {
            env.put("PGPASSWORD", password);
        }
        env.put("PGAPPNAME", "ibex copy schema");
        env.putIfAbsent("PGCONNECT_TIMEOUT", Integer.toString(ConnectionSpec.CONNECT_TIMEOUT_SECONDS));
        Path err = Files.createTempFile("ibex-stderr-", ".txt");
        try {
            pb.redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = pb.start();
            int exit = p.waitFor();
            if (exit != 0) {
                String stderr = Files.readString(err, StandardCharsets.UTF_8);
                throw new IbexException(ExitCode.DATABASE, doing + " failed: " + firstError(stderr),
                        null, null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IbexException(ExitCode.INTERNAL, doing + " was interrupted");
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** The line that says what went wrong, without the program's prefix. */
    static String firstError(String stderr) {
        List<String> lines = new ArrayList<>(stderr.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
        for (String l : lines) {
            int at = l.indexOf("ERROR:");
            if (at >= 0) {
                return l.substring(at).replaceAll("\\s+", " ");
            }
            at = l.indexOf("error:");
            if (at >= 0) {
                return l.substring(at + "error:".length()).strip();
            }
        }
        return lines.isEmpty() ? "no message" : lines.get(0);
    }

    /** A libpq connection string without the password. */
    static String conninfo(ConnectionSpec spec) {
        List<String> words = new ArrayList<>();
        add(words, "service", spec.service());
        add(words, "host", spec.host());
        add(words, "port", spec.port() == null ? null : spec.port().toString());
        add(words, "dbname", spec.dbname());
        add(words, "user", spec.user());
        if (spec.conn() != null) {
            for (String pair : spec.conn().trim().split("[\\s;&]+")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && LIBPQ_WORDS.contains(pair.substring(0, eq).trim())) {
                    add(words, pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
                }
            }
        }
        return String.join(" ", words);
    }

    private static void add(List<String> words, String key, String value) {
        if (value != null) {
            words.add(key + "='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'");
        }
    }
}
