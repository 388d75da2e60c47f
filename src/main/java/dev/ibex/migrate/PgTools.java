package dev.ibex.migrate;

import dev.ibex.IbexException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the PostgreSQL client programs for `ibex copy schema`: a pg_dump that can dump the source
 * server, and a psql that can read that dump. Search order: the {@code pg_dump=} setting (the only
 * candidate when given), then PATH, then /usr/lib/postgresql/N/bin and /usr/pgsql-N/bin, newest
 * first; or only the --pg-bin directory. A pg_dump dumps servers of its own major version and older,
 * down to a floor its release dropped the older ones at (see {@link #oldestServer}).
 */
public final class PgTools {

    /** One program and its major version as a comparable number (9.6 -> 906, 15 -> 1500). */
    public record Tool(Path path, int major) {
        public String version() {
            return DbSession.majorText(major);
        }
    }

    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");

    /**
     * The oldest server each pg_dump release dumps, from the pg_dump reference page ("servers back
     * to version X are supported") and the commits that raised it: {pg_dump major from, oldest server}.
     * 10 dropped servers before 8.0, 15 those before 9.2, and 20 (in development since 2026) those
     * before 10.
     */
    private static final int[][] PG_DUMP_FLOOR = {{0, 700}, {1000, 800}, {1500, 902}, {2000, 1000}};

    /** Advice names only released pg_dumps: until 20 is out, a 9.2 to 9.6 source needs "9.x or newer". */
    private static final int NEWEST_RELEASED_CUT = 1500;

    private final List<Path> dirs;
    private final String where;
    /** Debian's pg_wrapper links on PATH pick a version per call: skipped where the real programs are searched too. */
    private final boolean skipWrappers;
    /** The pg_dump= setting: a pg_dump or its directory; null when not given. */
    private final Path pgDumpSetting;

    private PgTools(List<Path> dirs, String where, boolean skipWrappers, Path pgDumpSetting) {
        this.dirs = dirs;
        this.where = where;
        this.skipWrappers = skipWrappers;
        this.pgDumpSetting = pgDumpSetting;
    }

    /** The directories of PATH, then the versioned directories of Debian and of the PGDG RPMs, newest first. */
    public static PgTools fromEnvironment() {
        return fromPath(System.getenv("PATH"), Path.of("/usr/lib/postgresql"), Path.of("/usr"));
    }

    /** {@link #fromEnvironment} with PATH and the two parents of versioned directories given (for tests). */
    static PgTools fromPath(String path, Path debianParent, Path rpmParent) {
        List<Path> dirs = new ArrayList<>();
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        dirs.addAll(versioned(debianParent, "", "bin"));
        dirs.addAll(versioned(rpmParent, "pgsql-", "bin"));
        return new PgTools(dirs, "on PATH nor in /usr/lib/postgresql/*/bin", true, null);
    }

    public static PgTools in(Path dir) {
        return new PgTools(List.of(dir), "in " + dir, false, null);
    }

    static PgTools of(List<Path> dirs, String where) {
        return new PgTools(dirs, where, false, null);
    }

    /**
     * The same search with the pg_dump= setting (a pg_dump, or the directory it is in) tried first and
     * only: when it cannot dump the source, that is an error, not a reason to look elsewhere.
     */
    public PgTools withPgDump(Path pgDump) {
        return new PgTools(dirs, where, skipWrappers, pgDump);
    }

    /**
     * The oldest server a pg_dump of this major version dumps: pg_dump 9.6 and older dump 7.0 and later,
     * 10 to 14 dump 8.0 and later, 15 to 19 dump 9.2 and later, 20 dumps 10 and later.
     */
    static int oldestServer(int pgDumpMajor) {
        int oldest = PG_DUMP_FLOOR[0][1];
        for (int[] f : PG_DUMP_FLOOR) {
            if (pgDumpMajor >= f[0]) {
                oldest = f[1];
            }
        }
        return oldest;
    }

    /** A pg_dump refuses servers newer than its own major version and older than its floor. */
    static boolean canDump(int pgDumpMajor, int serverMajor) {
        return pgDumpMajor >= serverMajor && serverMajor >= oldestServer(pgDumpMajor);
    }

    /** The newest released pg_dump major that dumps this server; null when every newer release does. */
    static Integer newestPgDumpFor(int serverMajor) {
        for (int[] f : PG_DUMP_FLOOR) {
            if (f[1] > serverMajor && f[0] <= NEWEST_RELEASED_CUT) {
                return f[0] == 0 ? 0 : previousMajor(f[0]);
            }
        }
        return null;
    }

    private static int previousMajor(int major) {
        return major == 1000 ? 906 : major - 100;
    }

    /** "a pg_dump from 8.4 to 14" or "pg_dump 15 or newer". */
    static String needed(int serverMajor) {
        Integer newest = newestPgDumpFor(serverMajor);
        String s = DbSession.majorText(serverMajor);
        if (newest == null) {
            return "pg_dump " + s + " or newer";
        }
        if (newest <= 0) {
            return "a pg_dump for PostgreSQL " + s + " (no pg_dump release dumps it)";
        }
        return newest == serverMajor ? "pg_dump " + s : "a pg_dump from " + s + " to " + DbSession.majorText(newest);
    }

    /** The package to install: postgresql-client-14 for 8.4 ... 9.1, postgresql-client-17 for 17. */
    private static String client(int serverMajor) {
        Integer newest = newestPgDumpFor(serverMajor);
        return "postgresql-client-" + DbSession.majorText(newest == null || newest <= 0 ? serverMajor : newest);
    }

    /**
     * A pg_dump that can dump a server of this major version; the first such in search order. A
     * major of 0 asks for the first pg_dump found, whatever it dumps.
     */
    public Tool pgDump(int sourceMajor, String sourceLabel) {
        if (pgDumpSetting != null) {
            return fromSetting(sourceMajor, sourceLabel);
        }
        List<Tool> found = all("pg_dump");
        boolean bounded = newestPgDumpFor(sourceMajor) != null;
        String pgBin = where.startsWith("in ") ? ", or fix --pg-bin" : "";
        if (found.isEmpty()) {
            if (sourceMajor <= 0) {
                throw IbexException.badInput("pg_dump not found " + where + ": install postgresql-client" + pgBin);
            }
            if (!bounded) {
                throw IbexException.badInput("pg_dump not found " + where + ": install " + client(sourceMajor)
                        + " (or newer)" + pgBin);
            }
            throw IbexException.badInput("pg_dump not found " + where + ": " + sourceLabel + " runs PostgreSQL "
                    + DbSession.majorText(sourceMajor) + ", which needs " + needed(sourceMajor) + ": install "
                    + client(sourceMajor) + pgBin + ", or give one with pg_dump=PATH");
        }
        Optional<Tool> usable = found.stream().filter(t -> sourceMajor <= 0 || canDump(t.major(), sourceMajor))
                .findFirst();
        if (usable.isPresent()) {
            return usable.get();
        }
        Tool newest = found.stream().max(Comparator.comparingInt(Tool::major)).orElseThrow();
        if (newest.major() < sourceMajor) {
            throw IbexException.badInput("pg_dump " + newest.version() + " (" + newest.path() + ") is older than "
                    + sourceLabel + " (PostgreSQL " + DbSession.majorText(sourceMajor) + ") and cannot dump it: "
                    + "install " + client(sourceMajor) + (bounded ? " (" + needed(sourceMajor) + ")" : " (or newer)")
                    + pgBin + ", or give one with pg_dump=PATH");
        }
        throw IbexException.badInput(sourceLabel + " runs PostgreSQL " + DbSession.majorText(sourceMajor) + ": pg_dump "
                + newest.version() + " (" + newest.path() + ") can dump servers from "
                + DbSession.majorText(oldestServer(newest.major())) + " on; install " + needed(sourceMajor) + " (e.g. "
                + client(sourceMajor) + ") and give it with pg_dump=PATH");
    }

    private Tool fromSetting(int sourceMajor, String sourceLabel) {
        Path p = Files.isDirectory(pgDumpSetting) ? pgDumpSetting.resolve("pg_dump") : pgDumpSetting;
        String given = "pg_dump=" + pgDumpSetting;
        if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
            throw IbexException.badInput(given + ": " + p + (Files.exists(p) ? " is not an executable file" : " does not exist")
                    + ": give the path of a pg_dump, or of the directory it is in (e.g. pg_dump=/usr/lib/postgresql/"
                    + client(sourceMajor).substring("postgresql-client-".length()) + "/bin)");
        }
        Integer major = major(p);
        if (major == null) {
            throw IbexException.badInput(given + ": " + p + " does not answer --version like a PostgreSQL pg_dump "
                    + "(\"pg_dump (PostgreSQL) 14.13\"): give the path of a pg_dump");
        }
        Tool t = new Tool(p, major);
        if (sourceMajor <= 0 || canDump(major, sourceMajor)) {
            return t;
        }
        String why = major < sourceMajor ? "is older than " + sourceLabel + " (PostgreSQL "
                + DbSession.majorText(sourceMajor) + ")" : "can dump servers from " + DbSession.majorText(oldestServer(major))
                + " on, and " + sourceLabel + " runs PostgreSQL " + DbSession.majorText(sourceMajor);
        throw IbexException.badInput(given + " is pg_dump " + t.version() + ", which " + why + ": give "
                + needed(sourceMajor) + " (e.g. from " + client(sourceMajor) + ")");
    }

    /**
     * The psql that restores the dump: the newest found whose major version is at least the pg_dump's
     * (an older psql may not know the meta-commands of a newer pg_dump's output, and the newest links
     * the newest libpq, which the target may need, e.g. for SCRAM), the one beside the pg_dump first
     * among equals.
     */
    public Tool psql(Tool pgDump) {
        List<Tool> found = new ArrayList<>();
        Path beside = pgDump.path().resolveSibling("psql");
        if (Files.isRegularFile(beside) && Files.isExecutable(beside)) {
            Integer major = major(beside);
            if (major != null) {
                found.add(new Tool(beside, major));
            }
        }
        for (Tool t : all("psql")) {
            if (found.stream().noneMatch(f -> sameFile(f.path(), t.path()))) {
                found.add(t);
            }
        }
        if (found.isEmpty()) {
            throw IbexException.badInput("psql not found beside " + pgDump.path() + " nor " + where + ": install "
                    + "postgresql-client-" + pgDump.version());
        }
        Optional<Tool> best = found.stream().filter(t -> t.major() >= pgDump.major())
                .max(Comparator.comparingInt(Tool::major)); // max keeps the first of equals
        if (best.isEmpty()) {
            Tool newest = found.stream().max(Comparator.comparingInt(Tool::major)).orElseThrow();
            throw IbexException.badInput("psql " + newest.version() + " (" + newest.path() + ") is older than pg_dump "
                    + pgDump.version() + " (" + pgDump.path() + ") and may not read its dump: install postgresql-client-"
                    + pgDump.version());
        }
        return best.get();
    }

    private List<Tool> all(String program) {
        List<Tool> out = new ArrayList<>();
        for (Path dir : dirs) {
            Path p = dir.resolve(program);
            if (Files.isRegularFile(p) && Files.isExecutable(p) && !(skipWrappers && isWrapper(p))
                    && out.stream().noneMatch(t -> sameFile(t.path(), p))) {
                Integer major = major(p);
                if (major != null) {
                    out.add(new Tool(p, major));
                }
            }
        }
        return out;
    }

    /**
     * Debian's /usr/bin/pg_dump and psql link to pg_wrapper, which runs the version of the local
     * cluster it selects, so `--version` may not name the program a later call runs. The programs it
     * chooses from are in /usr/lib/postgresql/N/bin, which is searched too.
     */
    private static boolean isWrapper(Path p) {
        try {
            return p.toRealPath().getFileName().toString().equals("pg_wrapper");
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs `program --version`; null when it does not answer like a PostgreSQL program. */
    static Integer major(Path program) {
        try {
            Process p = new ProcessBuilder(program.toString(), "--version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return parseMajor(out);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static Integer parseMajor(String versionOutput) {
        Matcher m = VERSION.matcher(versionOutput);
        if (!m.find()) {
            return null;
        }
        int first = Integer.parseInt(m.group(1));
        int second = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        return first >= 10 ? first * 100 : first * 100 + second;
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    private static List<Path> versioned(Path parent, String prefix, String sub) {
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(parent)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix)
                            && p.getFileName().toString().substring(prefix.length()).matches("\\d{1,4}(\\.\\d{1,2})?"))
                    .sorted(Comparator.comparingInt((Path p) -> Math.negateExact(versionOrder(
                            p.getFileName().toString().substring(prefix.length())))))
                    .map(p -> p.resolve(sub)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** "9.6" -> 906, "14" -> 1400: a directory's version as a major (9.10 would sort above 9.6, unlike a double). */
    private static int versionOrder(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? Integer.parseInt(name) * 100
                : Integer.parseInt(name.substring(0, dot)) * 100 + Integer.parseInt(name.substring(dot + 1));
    }
}
