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
 * Finds the PostgreSQL client programs: a pg_dump at least as new as the source server (pg_dump
 * refuses newer servers), and the psql next to it.
 */
public final class PgTools {

    /** One program and its major version as a comparable number (9.6 -> 906, 15 -> 1500). */
    public record Tool(Path path, int major) {
        public String version() {
            return DbSession.majorText(major);
        }
    }

    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");

    private final List<Path> dirs;
    private final String where;

    private PgTools(List<Path> dirs, String where) {
        this.dirs = dirs;
        this.where = where;
    }

    /** The directories of PATH, then the versioned directories of Debian and of the PGDG RPMs. */
    public static PgTools fromEnvironment() {
        List<Path> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        dirs.addAll(versioned(Path.of("/usr/lib/postgresql"), "", "bin"));
        dirs.addAll(versioned(Path.of("/usr"), "pgsql-", "bin"));
        return new PgTools(dirs, "on PATH nor in /usr/lib/postgresql/*/bin");
    }

    public static PgTools in(Path dir) {
        return new PgTools(List.of(dir), "in " + dir);
    }

    static PgTools of(List<Path> dirs, String where) {
        return new PgTools(dirs, where);
    }

    /** A pg_dump that can dump a server of this major version; the first such in search order. */
    public Tool pgDump(int sourceMajor, String sourceLabel) {
        List<Tool> found = all("pg_dump");
        if (found.isEmpty()) {
            throw IbexException.badInput("pg_dump not found " + where + ": install postgresql-client-"
                    + DbSession.majorText(sourceMajor) + " (or newer)" + (where.startsWith("in ") ? ", or fix --pg-bin" : ""));
        }
        Optional<Tool> usable = found.stream().filter(t -> t.major() >= sourceMajor).findFirst();
        if (usable.isEmpty()) {
            Tool newest = found.stream().max(Comparator.comparingInt(Tool::major)).orElseThrow();
            throw IbexException.badInput("pg_dump " + newest.version() + " (" + newest.path() + ") is older than "
                    + sourceLabel + " (PostgreSQL " + DbSession.majorText(sourceMajor) + ") and cannot dump it: "
                    + "install postgresql-client-" + DbSession.majorText(sourceMajor) + " (or newer)");
        }
        return usable.get();
    }

    /** The psql beside this pg_dump, else the first one found. */
    public Tool psql(Tool pgDump) {
        Path beside = pgDump.path().resolveSibling("psql");
        if (Files.isExecutable(beside)) {
            Integer major = major(beside);
            if (major != null) {
                return new Tool(beside, major);
            }
        }
        return all("psql").stream().findFirst().orElseThrow(() -> IbexException.badInput("psql not found " + where
                + ": install postgresql-client-" + pgDump.version()));
    }

    private List<Tool> all(String program) {
        List<Tool> out = new ArrayList<>();
        for (Path dir : dirs) {
            Path p = dir.resolve(program);
            if (Files.isRegularFile(p) && Files.isExecutable(p)
                    && out.stream().noneMatch(t -> sameFile(t.path(), p))) {
                Integer major = major(p);
                if (major != null) {
                    out.add(new Tool(p, major));
                }
            }
        }
        return out;
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
                            && p.getFileName().toString().substring(prefix.length()).matches("\\d+(\\.\\d+)?"))
                    .sorted(Comparator.comparingDouble((Path p) -> Double.parseDouble(
                            p.getFileName().toString().substring(prefix.length()))).reversed())
                    .map(p -> p.resolve(sub)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
