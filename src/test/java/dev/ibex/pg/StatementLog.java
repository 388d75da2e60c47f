package dev.ibex.pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A source server's statement log, as dev.ibex.test.PgServers has the server write it
 * (log_statement = all, stderr format, prefix {@code "%m [%p] %c app=%a: "}), read back: its
 * records, the statements ibex's own connections sent, and what of those the source's version
 * lacks. A file is named {@code source-<version>-...log}, the server_version_num ibex took the
 * server for.
 */
final class StatementLog {

    /** One log record: its first line number, session (%c), application_name, severity and text. */
    record Entry(int line, String session, String app, String severity, String message) {
    }

    /**
     * A statement ibex sent; {@code failed}: logged only as the STATEMENT of an error, the server
     * refused it before running it (a syntax error, an unknown function or column).
     */
    record Sent(Path file, int line, String session, String app, String sql, boolean failed) {
    }

    /** One distinct statement that uses what its source's version lacks. */
    record Finding(ServerVersion version, String sql, List<SqlFeature> missing, Set<String> apps, Set<String> files,
            int times) {
    }

    /** What a directory of logs holds. */
    record Audit(List<Path> files, int statements, int distinct, int toolSessions, List<Finding> findings,
            List<String> errors) {
    }

    private static final Pattern FILE = Pattern.compile("source-(\\d+)-.*\\.log");
    private static final Pattern RECORD = Pattern.compile(
            "(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)? \\S+) \\[(\\d+)\\] (\\S+) app=(.*?): ([A-Z]+[0-9]?):  (.*)");
    /** log_statement's texts: simple query, and extended-protocol execute of a statement or portal. */
    private static final Pattern STATEMENT = Pattern.compile(
            "(?:statement|execute(?: fetch from)? [^\\s:]+): (.*)", Pattern.DOTALL);
    /** What may stand between an error and its STATEMENT record. */
    private static final Set<String> DETAILS = Set.of("DETAIL", "HINT", "CONTEXT", "QUERY", "LOCATION");
    /** pg_dump (run by copy schema under ibex's application_name) begins every session with this. */
    private static final String PG_DUMP_FIRST = "SELECT pg_catalog.set_config('search_path', '', false)";

    private StatementLog() {
    }

    /**
     * The records of a log. A record starts with the prefix; the further lines of a multi-line
     * message start with a tab, which the server adds. A line that is neither (a child process's
     * own stderr output) is no record.
     */
    static List<Entry> records(List<String> lines) {
        List<Entry> out = new ArrayList<>();
        Entry open = null;
        StringBuilder text = null;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (open != null && l.startsWith("\t")) {
                text.append('\n').append(l, 1, l.length());
                continue;
            }
            if (open != null) {
                out.add(new Entry(open.line(), open.session(), open.app(), open.severity(), text.toString()));
                open = null;
            }
            Matcher m = RECORD.matcher(l);
            if (m.matches()) {
                open = new Entry(i + 1, m.group(3), m.group(4), m.group(5), null);
                text = new StringBuilder(m.group(6));
            }
        }
        if (open != null) {
            out.add(new Entry(open.line(), open.session(), open.app(), open.severity(), text.toString()));
        }
        return out;
    }

    /** The version a log was written for, from its name. */
    static ServerVersion version(Path file) {
        Matcher m = FILE.matcher(file.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(file + " is not named source-<server_version_num>-...log: "
                    + "its version is unknown");
        }
        return new ServerVersion(Integer.parseInt(m.group(1)));
    }

    static boolean byIbex(Entry e) {
        return e.app().startsWith("ibex");
    }

    /**
     * The statements ibex's connections sent, in log order: those log_statement logged, and those
     * only logged after an error because the server refused them before running them. Sessions of pg_dump, which copy schema
     * runs under ibex's application_name, are left out: its SQL is its own, chosen by the real
     * version. {@code toolSessions} receives their ids.
     */
    static List<Sent> sentByIbex(Path file, List<Entry> records, Set<String> toolSessions) {
        Map<String, Boolean> firstSeen = new LinkedHashMap<>();
        List<Sent> out = new ArrayList<>();
        Set<String> logged = new HashSet<>();
        for (Entry e : records) {
            if (!byIbex(e)) {
                continue;
            }
            String sql = null;
            boolean failed = false;
            if (e.severity().equals("LOG")) {
                Matcher m = STATEMENT.matcher(e.message());
                if (m.matches()) {
                    sql = m.group(1);
                }
            } else if (e.severity().equals("STATEMENT")) {
                sql = e.message();
                failed = !logged.contains(e.session() + "\u0000" + sql);
            }
            if (sql == null) {
                continue;
            }
            if (firstSeen.putIfAbsent(e.session(), Boolean.TRUE) == null && isPgDump(sql)) {
                toolSessions.add(e.session());
            }
            if (toolSessions.contains(e.session())) {
                continue;
            }
            logged.add(e.session() + "\u0000" + sql);
            if (!e.severity().equals("STATEMENT") || failed) {
                out.add(new Sent(file, e.line(), e.session(), e.app(), sql, failed));
            }
        }
        return out;
    }

    private static boolean isPgDump(String sql) {
        String s = sql.strip();
        return (s.endsWith(";") ? s.substring(0, s.length() - 1).strip() : s).equals(PG_DUMP_FIRST);
    }

    /** The errors of ibex's own sessions (not pg_dump's), one line each, with the statement that raised it. */
    static List<String> errorsOfIbex(List<Entry> records, Set<String> toolSessions) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            Entry e = records.get(i);
            if (byIbex(e) && e.severity().equals("ERROR") && !toolSessions.contains(e.session())) {
                String statement = "";
                for (int j = i + 1; j < records.size() && records.get(j).session().equals(e.session()); j++) {
                    String sev = records.get(j).severity();
                    if (sev.equals("STATEMENT")) {
                        statement = records.get(j).message();
                    }
                    if (!DETAILS.contains(sev)) {
                        break;
                    }
                }
                out.add(oneLine(e.message(), 160) + (statement.isEmpty() ? "" : " -- in: " + oneLine(statement, 160)));
            }
        }
        return out;
    }

    /** Every *.log of {@code dir}, audited. */
    static Audit audit(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".log") && Files.isRegularFile(p)).sorted().toList();
        }
        Map<String, Finding> findings = new LinkedHashMap<>();
        Set<String> distinct = new HashSet<>();
        Set<String> errors = new TreeSet<>();
        int statements = 0;
        int tools = 0;
        for (Path f : files) {
            ServerVersion v = version(f);
            List<Entry> records = records(Files.readAllLines(f, StandardCharsets.UTF_8));
            Set<String> toolSessions = new HashSet<>();
            for (Sent s : sentByIbex(f, records, toolSessions)) {
                statements++;
                distinct.add(v.num() + "\u0000" + s.sql());
                List<SqlFeature> missing;
                try {
                    missing = SqlFeature.missing(s.sql(), v);
                } catch (StackOverflowError e) {
                    throw new AssertionError("a pattern of SqlFeature overflowed the stack on the statement at "
                            + f.getFileName() + ":" + s.line() + " (" + s.sql().length() + " characters): "
                            + oneLine(s.sql(), 300), e);
                }
                if (missing.isEmpty()) {
                    continue;
                }
                String key = v.num() + "\u0000" + s.sql();
                Finding old = findings.get(key);
                Set<String> apps = new TreeSet<>(old == null ? Set.of() : old.apps());
                apps.add(s.app() + (s.failed() ? " (refused before running)" : ""));
                Set<String> names = new TreeSet<>(old == null ? Set.of() : old.files());
                names.add(f.getFileName() + ":" + s.line());
                findings.put(key, new Finding(v, s.sql(), missing, apps, names, old == null ? 1 : old.times() + 1));
            }
            tools += toolSessions.size();
            for (String e : errorsOfIbex(records, toolSessions)) {
                errors.add("[" + v + "] " + e);
            }
        }
        return new Audit(files, statements, distinct.size(), tools, List.copyOf(findings.values()), List.copyOf(errors));
    }

    /** A finding in a few lines: version, features, where, and the statement shortened around what it uses. */
    static String describe(Finding f) {
        StringBuilder b = new StringBuilder();
        b.append("[PostgreSQL ").append(f.version()).append("] ");
        for (int i = 0; i < f.missing().size(); i++) {
            SqlFeature m = f.missing().get(i);
            b.append(i == 0 ? "" : ", ").append(m).append(" (").append(m.sinceText()).append(')');
        }
        String files = f.files().size() > 3
                ? String.join(", ", f.files().stream().limit(3).toList()) + ", ..." : String.join(", ", f.files());
        b.append(" -- ").append(f.times()).append(f.times() == 1 ? " time" : " times").append(" by ")
                .append(String.join(", ", f.apps())).append(" (").append(files).append(")\n      ")
                .append(shortened(f.sql(), f.missing().get(0), f.version()));
        return b.toString();
    }

    /** The statement on one line; a long one as its start and the part where {@code feature} is found. */
    static String shortened(String sql, SqlFeature feature, ServerVersion version) {
        String s = oneLine(sql, Integer.MAX_VALUE);
        if (s.length() <= 240) {
            return s;
        }
        // the shortest start of the statement that already uses the feature ends where it is found
        int lo = 1;
        int hi = s.length();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (SqlFeature.missing(s.substring(0, mid), version).contains(feature)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        int at = lo;
        if (at <= 150) {
            return s.substring(0, Math.min(s.length(), 200)) + " ...";
        }
        int from = Math.max(100, at - 100);
        int to = Math.min(s.length(), at + 40);
        return s.substring(0, 100) + " ... " + s.substring(from, to) + (to < s.length() ? " ..." : "");
    }

    static String oneLine(String text, int max) {
        String s = text.replaceAll("\\s+", " ").strip();
        return s.length() <= max ? s : s.substring(0, max) + " ...";
    }
}
