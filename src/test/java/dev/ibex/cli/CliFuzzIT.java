package dev.ibex.cli;

import static dev.ibex.cli.CliChecks.ok;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Gen;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Generated malformed command lines, every verb, against one repository holding a small valid
 * model (dbs src and dst on real servers, relgroup shop, dbgroup pair, sync s1). Each line must
 * be refused: a non-zero exit that is not an internal error, one line on stderr (plus at most an
 * indented cause line), no stack trace, nothing on stdout, the dbs' password never printed, and the
 * repository's schema ibex byte-identical before and after. No controller runs.
 *
 * <p>The lines come from a seeded generator ({@link Gen}): {@value #DEFAULT_SEED} unless
 * {@code -Dibex.fuzz.seed=...} gives another (a number, or {@code random}). Each line is a dynamic test
 * named by its number, its category and the line; a failure gives the seed, and
 * {@code -Dibex.fuzz.seed=SEED -Dibex.fuzz.line=N} replays line N of that seed alone. A summary test
 * prints how many lines each category got and checks that every category got some.
 */
class CliFuzzIT {

    /** The password of dbs src and dst (the test servers trust local connections, so any works). */
    static final String SECRET = "Sentinel-Pw-4711";

    static TestDb repo;
    static TestDb src;
    static TestDb dst;
    static Path configDir;

    /** The seed when -Dibex.fuzz.seed gives none. */
    static final long DEFAULT_SEED = 20261205L;

    /** How many lines a run tries. */
    static final int TRIES = 300;

    /** The fewest lines each category must get in a run of {@link #TRIES} (about 21 on average). */
    static final int MIN_PER_CATEGORY = 5;

    @BeforeAll
    static void model() throws IOException {
        repo = Model.create().repoDb();
        src = PgServers.source();
        dst = PgServers.target();
        src.exec(AddTablesIT.SCHEMA);
        dst.exec(AddTablesIT.SCHEMA);
        ok(repo, Cli.args(new String[] {"add", "db", "src"}, Cli.args(src.dbWords(), "pass=" + SECRET)));
        ok(repo, Cli.args(new String[] {"add", "db", "dst"}, Cli.args(dst.dbWords(), "pass=" + SECRET)));
        ok(repo, "add", "table", "orders", "order_items", "db=src", "relgroup=shop");
        ok(repo, "add", "sequence", "order_seq", "db=src", "relgroup=shop");
        ok(repo, "add", "dbgroup", "pair", "src:source", "dst:target");
        ok(repo, "add", "sync", "s1", "relgroup=shop", "dbs=pair");
        configDir = Files.createTempDirectory("ibex-fuzz");
        write("level.yml", "log-level: chatty\n");
        write("unknown.yml", "db-colour: red\n");
        write("broken.yml", "db-host: [unclosed\n");
        write("list.yml", "- db-host\n- db-port\n");
    }

    private static void write(String name, String text) {
        try {
            Files.writeString(configDir.resolve(name), text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the property -------------------------------------------------------------------------------

    /** -Dibex.fuzz.seed: a number, or "random" for a new one each run; the default otherwise. */
    static long seed() {
        String given = System.getProperty("ibex.fuzz.seed", "").strip();
        if (given.isEmpty()) {
            return DEFAULT_SEED;
        }
        if (given.equalsIgnoreCase("random")) {
            return new Random().nextLong();
        }
        return Long.parseLong(given);
    }

    /**
     * The {@link #TRIES} lines of a seed. Line i is drawn from a Random of its own, seeded from the run's seed
     * and i, so that one line replays alone and a change in how one category draws leaves the others' lines be.
     */
    static List<Line> lines(long seed) {
        Gen<Line> malformed = malformed();
        return IntStream.range(0, TRIES).mapToObj(i -> malformed.next(new Random(lineSeed(seed, i)))).toList();
    }

    static long lineSeed(long seed, int i) {
        return new SplittableRandom(seed ^ (i * 0x9E3779B97F4A7C15L)).nextLong();
    }

    @TestFactory
    Stream<DynamicTest> malformedLinesAreRefusedCleanly() {
        long seed = seed();
        List<Line> lines = lines(seed);
        String only = System.getProperty("ibex.fuzz.line", "").strip();
        System.out.println("CliFuzzIT: seed " + seed + " (replay with -Dibex.fuzz.seed=" + seed + "), " + TRIES + " lines");
        Stream<DynamicTest> each = IntStream.range(0, lines.size())
                .filter(i -> only.isEmpty() || i == Integer.parseInt(only))
                .mapToObj(i -> {
                    Line line = lines.get(i);
                    return DynamicTest.dynamicTest(displayName(i, line), () -> {
                        String problem = problem(line);
                        assertNull(problem, () -> "seed " + seed + ", line " + i + " (replay with -Dibex.fuzz.seed=" + seed
                                + " -Dibex.fuzz.line=" + i + "): " + problem);
                    });
                });
        if (!only.isEmpty()) {
            return each;
        }
        return Stream.concat(each, Stream.of(DynamicTest.dynamicTest("categories (seed " + seed + ")",
                () -> categories(seed, lines))));
    }

    /** The line's number, category and words, shortened to a length a report shows. */
    static String displayName(int i, Line line) {
        String s = "#" + i + " " + line;
        return s.length() > 200 ? s.substring(0, 180) + "…(" + s.length() + " chars)" : s;
    }

    /** How many lines each category got; each must get at least {@link #MIN_PER_CATEGORY}. */
    static void categories(long seed, List<Line> lines) {
        Map<String, Long> counts = new TreeMap<>(lines.stream().collect(Collectors.groupingBy(Line::category,
                Collectors.counting())));
        System.out.println("CliFuzzIT: seed " + seed + ", lines per category: " + counts);
        for (String category : CATEGORIES) {
            long n = counts.getOrDefault(category, 0L);
            assertTrue(n >= MIN_PER_CATEGORY, () -> "seed " + seed + ": category '" + category + "' got " + n
                    + " of " + lines.size() + " lines, fewer than " + MIN_PER_CATEGORY + ": " + counts);
        }
        assertTrue(CATEGORIES.containsAll(counts.keySet()), () -> "a category not in CATEGORIES: " + counts.keySet());
    }

    /** What is wrong with how ibex handled the line; null when it refused it cleanly. */
    static String problem(Line line) {
        String before = dump();
        Cli.Result r = Cli.run(withRepository(line.args()));
        String what = line + "\n" + r;
        List<String> lines = r.err().lines().toList();
        if (r.exit() == 0) {
            return "accepted: " + what;
        }
        if (r.exit() == 4) {
            return "internal error: " + what;
        }
        if (!(lines.size() == 1 && !lines.get(0).isBlank()
                || lines.size() == 2 && !lines.get(0).isBlank() && lines.get(1).startsWith("  ") && !lines.get(1).isBlank())) {
            return "not one clear line on stderr: " + what;
        }
        if (r.err().contains("\tat ") || r.err().contains("Exception")) {
            return "a stack trace or exception: " + what;
        }
        if (!r.out().isEmpty()) {
            return "printed on stdout: " + what;
        }
        if ((r.out() + r.err()).contains(SECRET)) {
            return "printed the password: " + what;
        }
        String after = dump();
        if (!before.equals(after)) {
            return "the repository changed: " + what + "\nbefore:\n" + before + "\nafter:\n" + after;
        }
        return null;
    }

    /** The line, with the repository options the line does not give itself. */
    static String[] withRepository(List<String> args) {
        List<String> all = new ArrayList<>(args);
        String[] opts = repo.repositoryOptions();
        for (int i = 0; i < opts.length; i += 2) {
            String opt = opts[i];
            if (args.stream().noneMatch(a -> a.equals(opt) || a.startsWith(opt + "="))) {
                all.add(opt);
                all.add(opts[i + 1]);
            }
        }
        return IbexCommand.rewriteVerb(all.toArray(String[]::new));
    }

    /**
     * Schema ibex of the repository: its tables, columns and functions, and an md5 over the rows of
     * every table.
     */
    static String dump() {
        List<String> tables = repo.column("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'ibex' AND c.relkind IN ('r', 'p') ORDER BY 1");
        StringBuilder sql = new StringBuilder("SELECT 'columns ' || coalesce(string_agg(c.relname || '.' || a.attname "
                + "|| ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), "
                + "', ' ORDER BY c.relname, a.attnum), '') FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                + "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                + "WHERE c.relnamespace = 'ibex'::regnamespace AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 "
                + "AND NOT a.attisdropped "
                + "UNION ALL SELECT 'functions ' || coalesce(string_agg(p.oid::regprocedure::text || md5(p.prosrc), ', ' "
                + "ORDER BY p.oid::regprocedure::text), '') FROM pg_proc p WHERE p.pronamespace = 'ibex'::regnamespace");
        for (String t : tables) {
            sql.append(" UNION ALL SELECT '").append(t).append(" ' || count(*) || ' ' || coalesce(md5(string_agg(t::text, "
                    + "',' ORDER BY t::text)), '-') FROM ibex.\"").append(t).append("\" t");
        }
        return String.join("\n", repo.column(sql.toString()));
    }

    // ---- the lines ----------------------------------------------------------------------------------

    /** One generated command line and what kind of mistake it holds. */
    record Line(String category, List<String> args) {
        @Override
        public String toString() {
            return category + ": ibex " + args.stream().map(CliFuzzIT::shown).collect(Collectors.joining(" "));
        }
    }

    /** A word as a shell would need it, long ones shortened, control and format characters escaped. */
    static String shown(String w) {
        String s = w.length() > 80 ? w.substring(0, 40) + "…(" + w.length() + " chars)…" + w.substring(w.length() - 20) : w;
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            sb.append(c < 0x20 || c == 0x7f || Character.isSurrogate(c) || Character.getType(c) == Character.FORMAT
                    ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return sb.toString().matches("[A-Za-z0-9_=:.,/@+-]+") ? sb.toString() : "'" + sb.toString().replace("'", "'\\''") + "'";
    }

    static Line line(String category, String... args) {
        return new Line(category, List.of(args));
    }

    static Line line(String category, List<String> args) {
        return new Line(category, List.copyOf(args));
    }

    /** The categories, as the lines name them: one per generator in {@link #malformed()}. */
    static final Set<String> CATEGORIES = Set.of("unknown key", "wrong type", "empty value", "duplicated key", "quotes",
            "unicode", "very long name", "63/64-byte name", "missing referent", "conflicting options", "verb and noun",
            "unknown option", "global option", "password");

    /** Every category, each weighted alike. */
    static Gen<Line> malformed() {
        return Gen.oneOf(List.of(unknownKeys(), wrongTypes(), emptyValues(), duplicatedKeys(), quoted(),
                unicode(), longNames(), byteLimitNames(), missingReferents(), conflicts(), syntax(), unknownOptions(),
                globalOptions(), passwords()));
    }

    // names that exist in the model; a generated name is never one of them
    static final Set<String> TAKEN = Set.of("src", "dst", "shop", "pair", "s1", "orders", "order_items", "order_seq",
            "all", "sync", "syncs", "config", "changed", "schema", "active", "inactive", "keyless", "customer",
            "nullable_unique", "cust_seq", "crm", "public");

    /** Names that name nothing: plain words, quotes, unicode, control characters, no wildcards. */
    static Gen<String> ghost() {
        Gen<String> plain = Gen.strings(Gen.range('a', 'z') + "_09", 1, 12);
        // "😀" is taken char by char: its two surrogate halves, which may also stand alone
        Gen<String> odd = Gen.strings(Gen.range('a', 'z') + "\"' .-;\\$éß表\u200b\u202e\t\u0000" + "😀", 1, 16);
        return Gen.oneOf(plain, odd, Gen.of("nosuch", "S1", "s1 ", " s1", "\"s1\"", "'s1'", "s1;",
                "Shop", "PAIR", "s１", "ｓ1", "s1\u0000", "s\u200b1", "🦌", "ibex", "public.nosuch", "crm.nosuch",
                "\"Line Items\"x"))
                .filter(n -> !TAKEN.contains(n) && !VERBS.contains(n) && !n.isBlank() && !n.startsWith("-"));
    }

    static Gen<String> unicodeName() {
        return Gen.of("ßync", "表", "s\u0301ync", "ｓｙｎｃ", "\u202esync", "sy\u200bnc", "😀", "s😀",
                "naïve", "Ünïcødé", "\u0000", "a\u0000b", "\ud800", "x\ud83d", "\t", "\r\nsync", "ǅ", "İ");
    }

    static Gen<String> longName() {
        return Gen.ints(100, 6000).flatMap(n -> Gen.strings(Gen.range('a', 'z') + Gen.range('0', '9'), n, n)
                .map(s -> "l" + s));
    }

    /** 63 and 64 bytes (PostgreSQL's identifier limit is 63), in ASCII and two-byte letters. */
    static Gen<String> byteLimitName() {
        return Gen.of("n".repeat(63), "n".repeat(64), "é".repeat(31) + "n", "é".repeat(32),
                "s1" + "_".repeat(61), "s1" + "_".repeat(62), "shop" + "x".repeat(60), "pair" + "x".repeat(59));
    }

    static Gen<String> badName() {
        return Gen.frequency(Gen.weight(4, ghost()), Gen.weight(2, unicodeName()), Gen.weight(1, longName()),
                Gen.weight(1, byteLimitName()));
    }

    static Gen<String> unknownKey() {
        return Gen.oneOf(Gen.of("colour", "hostname", "relgroups", "onetime", "check_time",
                "auto_kick", "tabels", "pasword", "prot", "usr", "dbgroups", "synctypes", "target", "sources",
                "relgroup_", "_", "x"),
                Gen.strings(Gen.range('a', 'z'), 1, 10).map(s -> "zz" + s));
    }

    static Gen<String> anyValue() {
        return Gen.oneOf(Gen.of("", "1", "true", "red", "\"quoted\"", "é", " "),
                Gen.strings(Gen.range('a', 'z') + Gen.range('A', 'Z') + Gen.range('0', '9'), 0, 8));
    }

    /** Arbitrary lines built from a template over one generated value. */
    static <T> Gen<Line> from(String category, Gen<T> values, List<Function<T, List<String>>> templates) {
        Gen<Function<T, List<String>>> template = Gen.of(templates);
        return values.flatMap(v -> template.map(t -> line(category, t.apply(v))));
    }

    static List<String> w(String... words) {
        return new ArrayList<>(Arrays.asList(words));
    }

    static Gen<Line> unknownKeys() {
        Gen<String> word = unknownKey().flatMap(k -> anyValue().flatMap(v -> Gen.of("=", ":")
                .map(sep -> k + (sep.equals(":") ? "=" : sep) + v)));
        return from("unknown key", word, List.of(
                k -> w("add", "db", "newdb", "dbname=x", k),
                k -> w("add", "table", "orders", "db=src", k),
                k -> w("add", "sequence", "order_seq", "db=src", k),
                k -> w("add", "all", "tables", "db=src", k),
                k -> w("add", "relgroup", "newgroup", k),
                k -> w("add", "dbgroup", "newgroup", "src:source", k),
                k -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", k),
                k -> w("update", "db", "src", k),
                k -> w("update", "table", "orders", k),
                k -> w("update", "sequence", "order_seq", k),
                k -> w("update", "relgroup", "shop", k),
                k -> w("update", "dbgroup", "pair", k),
                k -> w("update", "sync", "s1", k),
                k -> w("update", "sync", "s1", "autokick=false", k),
                k -> w("remove", "sync", "s1", k),
                k -> w("remove", "db", "dst", k),
                k -> w("remove", "table", "orders", k),
                k -> w("remove", "relgroup", "shop", k),
                k -> w("copy", "schema", "src", "dst", k)));
    }

    static Gen<Line> wrongTypes() {
        return Gen.oneOf(
                from("wrong type", Gen.of("abc", "0", "70000", "-5", "1.5", "5432x", "0x1f", "99999999999"),
                        List.of(v -> w("add", "db", "newdb", "dbname=" + src.name(), "host=" + src.host(), "port=" + v),
                                v -> w("update", "db", "src", "port=" + v))),
                from("wrong type", Gen.of("maybe", "2", "yes please", "tru", "-1", "null"), List.of(
                        v -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", "autokick=" + v),
                        v -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", "stayalive=" + v),
                        v -> w("update", "sync", "s1", "kidsalive=" + v),
                        v -> w("update", "sync", "s1", "analyze_after_copy=" + v),
                        v -> w("update", "sync", "s1", "rebuild_index=" + v),
                        v -> w("update", "table", "orders", "autokick=" + v),
                        v -> w("update", "table", "orders", "strict_checking=" + v),
                        v -> w("add", "table", "orders", "db=src", "autokick=" + v))),
                from("wrong type", Gen.of("7", "3", "-1", "abc", "1.0", "one", "99999999999"), List.of(
                        v -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", "onetimecopy=" + v),
                        v -> w("update", "sync", "s1", "onetimecopy=" + v))),
                from("wrong type", Gen.of("soon", "5 parsecs", "-5 minutes", "every day", "1 hour ago",
                        "P1X", "'1 hour'; DROP SCHEMA ibex CASCADE; --"), List.of(
                        v -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", "checktime=" + v),
                        v -> w("update", "sync", "s1", "checktime=" + v),
                        v -> w("update", "sync", "s1", "lifetime=" + v))),
                from("wrong type", Gen.of("huge", "1.5", "-", "1e3", "99999999999"), List.of(
                        v -> w("update", "sync", "s1", "priority=" + v),
                        v -> w("update", "sync", "s1", "maxkicks=" + v),
                        v -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", "maxkicks=" + v))),
                from("wrong type", Gen.of("paused", "on", "1", "deleted"), List.of(
                        v -> w("update", "sync", "s1", "status=" + v),
                        v -> w("update", "db", "src", "status=" + v),
                        v -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", "status=" + v))),
                from("wrong type", Gen.of("chaos", "read committed", "snapshot"), List.of(
                        v -> w("update", "sync", "s1", "isolation_level=" + v))),
                from("wrong type", Gen.of("nobody", "bucardo_nobody", "src,nosuch"), List.of(
                        v -> w("update", "sync", "s1", "conflict_strategy=" + v))),
                from("wrong type", Gen.of("abc", "0", "-1", "NaN", "Infinity", "", "1,5", "٥"), List.of(
                        v -> w("set", "copy_parallel=" + v),
                        v -> w("set", "autokick_poll=" + v),
                        v -> w("set", "kid_retry_min=" + v))),
                from("wrong type", Gen.of("17", "1000", "99999999999"), List.of(v -> w("set", "copy_parallel=" + v))),
                from("wrong type", Gen.of("abc", "-1", "1.5", "99999999999", ""), List.of(
                        v -> w("kick", "s1", "--retry=" + v),
                        v -> w("kick", "s1", "--retry-sleep=" + v),
                        v -> w("compare", "s1", "--max-rows=" + v),
                        v -> w("compare", "s1", "--range-rows=" + v),
                        v -> w("cutover", "s1", "--range-rows=" + v),
                        v -> w("demo", "--seconds=" + v))),
                from("wrong type", Gen.of("99999999999", "4294967296"), List.of(
                        v -> w("kick", "s1", v),
                        v -> w("activate", "s1", v),
                        v -> w("deactivate", "s1", v),
                        v -> w("pause", "s1", v),
                        v -> w("resume", "s1", v))));
    }

    static Gen<Line> emptyValues() {
        return Gen.of(
                line("empty value", "add", "sync", "newsync", "relgroup=", "dbs=pair"),
                line("empty value", "add", "sync", "newsync", "relgroup=shop", "dbs="),
                line("empty value", "add", "sync", "newsync", "tables=", "dbs=pair"),
                line("empty value", "add", "sync", "newsync", "relgroup=shop", "dbs=pair", "onetimecopy="),
                line("empty value", "add", "sync", "newsync", "relgroup=shop", "dbs=pair", "autokick="),
                line("empty value", "add", "sync", "newsync", "relgroup=shop", "dbs=pair", "status="),
                line("empty value", "add", "sync", "newsync", "type=", "source=shop", "targetdb=dst"),
                line("empty value", "add", "sync", "newsync", "type=pushdelta", "source=", "targetdb=dst"),
                line("empty value", "add", "sync", "newsync", "type=pushdelta", "source=shop", "targetdb="),
                line("empty value", "add", "sync", "newsync", "type=pushdelta", "source=shop", "targetgroup="),
                line("empty value", "add", "table", "keyless", "relgroup="),
                line("empty value", "add", "table", "keyless", "db=src", "relgroup="),
                line("empty value", "add", "table", "orders", "db=src", "relgroup="),
                line("empty value", "add", "table", "keyless", "db="),
                line("empty value", "add", "sequence", "crm.cust_seq", "db=src", "relgroup="),
                line("empty value", "add", "all", "sequences", "db=src", "relgroup="),
                line("empty value", "add", "relgroup", "newgroup", "keyless", "db="),
                line("empty value", "add", "db", "newdb", "dbname="),
                line("empty value", "add", "db", "newdb", "dbname=x", "status="),
                line("empty value", "add", "db", "newdb", "name="),
                line("empty value", "update", "sync", "s1", "relgroup="),
                line("empty value", "update", "sync", "s1", "dbs="),
                line("empty value", "update", "sync", "s1", "onetimecopy="),
                line("empty value", "update", "sync", "s1", "status="),
                line("empty value", "update", "sync", "s1", "stayalive="),
                line("empty value", "update", "relgroup", "shop", "name="),
                line("empty value", "update", "dbgroup", "pair", "name="),
                line("empty value", "update", "db", "src", "status="),
                line("empty value", "update", "table", "orders", "strict_checking="),
                line("empty value", "update", "table", "orders", "analyze_after_copy="),
                line("empty value", "copy", "schema", "src", "dst", "pg_dump="),
                line("empty value", "set", "copy_parallel="),
                line("empty value", "set", "="),
                line("empty value", "show", ""),
                line("empty value", "kick", ""),
                line("empty value", "status", ""),
                line("empty value", "add", "db", ""),
                line("empty value", ""),
                line("empty value", "--log-level=", "status"),
                line("empty value", "--db-port=", "status"));
    }

    static Gen<Line> duplicatedKeys() {
        return Gen.of(
                line("duplicated key", "add", "db", "newdb", "dbname=a", "dbname=b"),
                line("duplicated key", "add", "db", "newdb", "dbname=a", "db=a"),
                line("duplicated key", "add", "sync", "newsync", "relgroup=shop", "relgroup=shop", "dbs=pair"),
                line("duplicated key", "add", "sync", "newsync", "relgroup=shop", "herd=shop", "dbs=pair"),
                line("duplicated key", "add", "sync", "newsync", "relgroup=shop", "dbs=pair", "dbgroup=pair"),
                line("duplicated key", "add", "sync", "newsync", "relgroup=shop", "dbs=pair", "autokick:true",
                        "autokick=true"),
                line("duplicated key", "update", "sync", "s1", "autokick=true", "ping=false"),
                line("duplicated key", "update", "sync", "s1", "checktime=5m", "checktime=5m"),
                line("duplicated key", "update", "db", "src", "port=1", "dbport=2"),
                line("duplicated key", "update", "table", "orders", "autokick=true", "AUTOKICK=true"),
                line("duplicated key", "update", "relgroup", "shop", "name=a", "name=b"),
                line("duplicated key", "add", "table", "keyless", "db=src", "database=src"),
                line("duplicated key", "copy", "schema", "src", "dst", "pg_dump=/a", "pgdump=/b"),
                line("duplicated key", "set", "copy_parallel=3", "copy_parallel=4"),
                line("duplicated key", "set", "copy_parallel=3", "COPY_PARALLEL=3"),
                line("duplicated key", "kick", "s1", "--retry=1", "--retry=2"),
                line("duplicated key", "compare", "s1", "--max-rows=1", "--max-rows=2"),
                line("duplicated key", "--log-level=info", "--log-level=debug", "status"),
                line("duplicated key", "--db-port=1", "--db-port=2", "status"),
                line("duplicated key", "list", "syncs", "--db-name=a", "-d", "b"));
    }

    static Gen<Line> quoted() {
        Gen<String> q = Gen.of("\"s1\"", "'s1'", "\"shop\"", "\"No Such\"", "'\"Line Items\"'",
                "\"orders", "orders\"", "\"\"", "''", "\"pair\"", "\\\"src\\\"", "`s1`", "s1\"; DROP SCHEMA ibex CASCADE; --",
                "x'); DELETE FROM ibex.sync; --");
        return from("quotes", q, List.of(
                n -> w("update", "sync", n, "active"),
                n -> w("remove", "sync", n),
                n -> w("remove", "relgroup", n),
                n -> w("remove", "db", n),
                n -> w("remove", "table", n),
                n -> w("add", "table", n, "db=src", "relgroup=shop"),
                n -> w("add", "sync", n, "relgroup=shop", "dbs=pair"),
                n -> w("add", "sync", "newsync", "relgroup=" + n, "dbs=pair"),
                n -> w("add", "sync", "newsync", "relgroup=shop", "dbs=" + n),
                n -> w("add", "db", n, "dbname=x"),
                n -> w("add", "dbgroup", n, "src:source", "nosuch:target"),
                n -> w("kick", n),
                n -> w("status", n),
                n -> w("pause", n),
                n -> w("validate", n),
                n -> w("compare", n),
                n -> w("compare", "s1", n),
                n -> w("cutover", n),
                n -> w("list", n),
                n -> w("copy", "schema", n, "dst")));
    }

    /** The verbs and places a name goes, for the name categories. */
    static List<Function<String, List<String>>> nameTemplates() {
        return List.of(
                n -> w("add", "sync", n, "relgroup=nosuch", "dbs=pair"),
                n -> w("add", "sync", "newsync", "relgroup=" + n, "dbs=pair"),
                n -> w("add", "sync", "newsync", "relgroup=shop", "dbs=" + n),
                n -> w("add", "sync", "newsync", "relgroup=shop", "dbs=src:source," + n + ":target"),
                n -> w("add", "db", n),
                n -> w("add", "db", "newdb", "dbname=x", "group=" + n + ":chief"),
                n -> w("add", "dbgroup", n, "nosuch:source"),
                n -> w("add", "dbgroup", "newgroup", "src:source", n + ":target"),
                n -> w("add", "relgroup", n, "nosuch_table", "db=src"),
                n -> w("add", "table", n, "db=src"),
                n -> w("add", "table", "orders", "db=" + n),
                n -> w("update", "sync", n, "active"),
                n -> w("update", "sync", "s1", "relgroup=" + n),
                n -> w("update", "db", n, "port=5"),
                n -> w("update", "relgroup", n, "name=x"),
                n -> w("update", "relgroup", "shop", "name=" + n, "name=y"),
                n -> w("update", "dbgroup", n, "name=x"),
                n -> w("update", "table", n, "autokick=true"),
                n -> w("remove", "sync", n),
                n -> w("remove", "db", n),
                n -> w("remove", "dbgroup", n),
                n -> w("remove", "sequence", n),
                n -> w("kick", n),
                n -> w("kick", n, "0"),
                n -> w("activate", n),
                n -> w("deactivate", n),
                n -> w("pause", n),
                n -> w("resume", n),
                n -> w("status", n),
                n -> w("status", "--json", n),
                n -> w("reload", n),
                n -> w("validate", n),
                n -> w("compare", n),
                n -> w("cutover", n),
                n -> w("copy", "schema", "src", n),
                n -> w("show", n),
                n -> w("set", n + "=1"),
                n -> w("help", n),
                n -> w(n));
    }

    static Gen<Line> unicode() {
        return from("unicode", unicodeName(), nameTemplates());
    }

    static Gen<Line> longNames() {
        return from("very long name", longName(), nameTemplates());
    }

    static Gen<Line> byteLimitNames() {
        return from("63/64-byte name", byteLimitName(), nameTemplates());
    }

    static Gen<Line> missingReferents() {
        Gen<Line> fixed = Gen.of(
                line("missing referent", "add", "sync", "newsync", "tables=nosuch", "dbs=pair"),
                line("missing referent", "add", "sync", "newsync", "tables=orders,nosuch", "dbs=pair"),
                line("missing referent", "add", "sync", "newsync", "type=pushdelta", "source=nosuch", "targetdb=dst"),
                line("missing referent", "add", "sync", "newsync", "type=pushdelta", "source=shop", "targetdb=nosuch"),
                line("missing referent", "add", "sync", "newsync", "type=pushdelta", "source=shop", "targetgroup=nosuch"),
                line("missing referent", "add", "sync", "newsync", "type=fullcopy", "source=nosuch", "targetdb=dst",
                        "tables=orders"),
                line("missing referent", "add", "table", "nosuch", "db=src", "relgroup=shop"),
                line("missing referent", "add", "table", "public.orders", "crm.nosuch", "db=src", "relgroup=shop"),
                line("missing referent", "add", "sequence", "nosuch_seq", "db=src"),
                line("missing referent", "add", "table", "orders", "db=nosuch"),
                line("missing referent", "add", "all", "tables", "db=nosuch"),
                line("missing referent", "add", "all", "tables", "db=src", "-n", "nosuch_schema"),
                line("missing referent", "add", "relgroup", "shop", "nosuch", "db=src"),
                line("missing referent", "add", "dbgroup", "newgroup", "src:source", "nosuch:target"),
                line("missing referent", "update", "dbgroup", "pair", "nosuch:target"),
                line("missing referent", "update", "sync", "s1", "dbs=src:source,nosuch:target"),
                line("missing referent", "update", "sync", "s1", "conflict_strategy=src nosuch"),
                line("missing referent", "remove", "table", "orders", "db=nosuch"),
                line("missing referent", "remove", "table", "keyless", "db=src"),
                line("missing referent", "compare", "s1", "nosuch"),
                line("missing referent", "compare", "s1", "public.orders", "crm.customer"),
                line("missing referent", "copy", "schema", "nosuch", "dst"),
                line("missing referent", "reload", "config"),
                line("missing referent", "reload"),
                line("missing referent", "kick", "s1"),
                line("missing referent", "kick", "s1", "0"),
                line("missing referent", "install", "--batch"),
                line("missing referent", "--config=" + "/nonexistent/ibex.yml", "status"));
        return Gen.frequency(Gen.weight(1, fixed), Gen.weight(2, from("missing referent", ghost(), nameTemplates())));
    }

    static Gen<Line> conflicts() {
        return Gen.of(
                line("conflicting options", "add", "sync", "newsync", "relgroup=shop", "tables=orders", "dbs=pair"),
                line("conflicting options", "add", "sync", "newsync", "relgroup=shop", "tables=", "dbs=pair"),
                line("conflicting options", "add", "sync", "newsync", "type=pushdelta", "dbs=pair", "relgroup=shop"),
                line("conflicting options", "add", "sync", "newsync", "type=pushdelta", "source=shop", "dbs=pair"),
                line("conflicting options", "add", "sync", "newsync", "type=pushdelta", "source=shop", "targetdb=dst",
                        "relgroup=shop"),
                line("conflicting options", "add", "sync", "newsync", "type=pushdelta", "source=shop", "targetdb=dst",
                        "targetgroup=pair"),
                line("conflicting options", "add", "sync", "newsync", "type=swap", "source=shop", "targetgroup=pair",
                        "targetdb=dst"),
                line("conflicting options", "add", "sync", "newsync", "type=teleport", "source=shop", "targetdb=dst"),
                line("conflicting options", "add", "sync", "newsync", "relgroup=shop", "dbs=src:source,src:target"),
                line("conflicting options", "add", "sync", "newsync", "relgroup=shop", "dbs=src"),
                line("conflicting options", "add", "sync", "newsync", "relgroup=shop", "dbs=src:boss,dst:target"),
                line("conflicting options", "add", "db", "newdb", "dbname=a", "name=b"),
                line("conflicting options", "add", "dbgroup", "newgroup", "src:source", "src:target"),
                line("conflicting options", "add", "dbgroup", "pair", "src:source", "dst:target"),
                line("conflicting options", "add", "relgroup", "shop"),
                line("conflicting options", "add", "sync", "s1", "relgroup=shop", "dbs=pair"),
                line("conflicting options", "add", "db", "src", "dbname=" + "x"),
                line("conflicting options", "update", "sync", "s1", "active", "status=inactive"),
                line("conflicting options", "update", "sync", "s1", "inactive", "status=active"),
                line("conflicting options", "update", "relgroup", "shop", "name=shop"),
                line("conflicting options", "update", "dbgroup", "pair", "dst:boss"),
                line("conflicting options", "update", "sync", "s1", "relgroup=shop", "dbs=src"),
                line("conflicting options", "remove", "db", "dst"),
                line("conflicting options", "remove", "relgroup", "shop"),
                line("conflicting options", "remove", "dbgroup", "pair"),
                line("conflicting options", "remove", "table", "orders"),
                line("conflicting options", "copy", "schema", "src", "src"),
                line("conflicting options", "add", "all", "tables", "orders", "db=src"),
                line("conflicting options", "status", "--json", "--json"),
                line("conflicting options", "kick", "s1", "--timer", "--no-timer"),
                line("conflicting options", "start", "--foreground=maybe"));
    }

    static Gen<Line> syntax() {
        Gen<Line> fixed = Gen.of(
                line("verb and noun", "add"),
                line("verb and noun", "add", "sync"),
                line("verb and noun", "add", "colour", "x"),
                line("verb and noun", "add", "all"),
                line("verb and noun", "add", "all", "colours"),
                line("verb and noun", "add", "all", "relgroups"),
                line("verb and noun", "add", "sync", "newsync", "extra", "relgroup=shop", "dbs=pair"),
                line("verb and noun", "add", "db", "newdb", "extra", "dbname=x"),
                line("verb and noun", "add", "relgroup"),
                line("verb and noun", "add", "dbgroup"),
                line("verb and noun", "update"),
                line("verb and noun", "update", "all"),
                line("verb and noun", "update", "sync"),
                line("verb and noun", "update", "sync", "s1"),
                line("verb and noun", "update", "table", "orders"),
                line("verb and noun", "update", "relgroup", "shop"),
                line("verb and noun", "update", "dbgroup", "pair"),
                line("verb and noun", "update", "db"),
                line("verb and noun", "remove"),
                line("verb and noun", "remove", "all"),
                line("verb and noun", "remove", "sync"),
                line("verb and noun", "remove", "colour", "x"),
                line("verb and noun", "list"),
                line("verb and noun", "list", "colours"),
                line("verb and noun", "kick"),
                line("verb and noun", "activate"),
                line("verb and noun", "deactivate"),
                line("verb and noun", "pause"),
                line("verb and noun", "resume"),
                line("verb and noun", "set"),
                line("verb and noun", "set", "copy_parallel"),
                line("verb and noun", "set", "=4"),
                line("verb and noun", "copy"),
                line("verb and noun", "copy", "table", "src", "dst"),
                line("verb and noun", "copy", "schema", "src"),
                line("verb and noun", "copy", "schema", "src", "dst", "extra"),
                line("verb and noun", "compare"),
                line("verb and noun", "cutover"),
                line("verb and noun", "cutover", "s1", "extra"),
                line("verb and noun", "upgrade", "now"),
                line("verb and noun", "install", "now"),
                line("verb and noun", "demo", "now"),
                line("verb and noun", "help", "nosuchverb"),
                line("verb and noun", "add_colour", "x"),
                line("verb and noun", "status_all_the_things"));
        Gen<Line> unknownVerb = Gen.strings(Gen.range('a', 'z'), 1, 10)
                .filter(v -> !VERBS.contains(v)).map(v -> line("verb and noun", v, "s1"));
        return Gen.frequency(Gen.weight(3, fixed), Gen.weight(1, unknownVerb));
    }

    /** Every verb and alias picocli knows, so a generated word is not one of them. */
    static final Set<String> VERBS = IbexCommand.commandLine().getSubcommands().keySet();

    static Gen<Line> unknownOptions() {
        Gen<String> option = Gen.oneOf(Gen.of("--frob", "--force=maybe", "-z", "--json=yes",
                "--dry-run", "--verbose", "--batch=no", "--retry"),
                Gen.strings(Gen.range('a', 'z'), 2, 10).map(s -> "--zz" + s));
        return from("unknown option", option, List.of(
                o -> w("status", o),
                o -> w("list", "syncs", o),
                o -> w("start", o),
                o -> w("stop", o),
                o -> w("restart", o),
                o -> w("reload", o),
                o -> w("install", o),
                o -> w("upgrade", o),
                o -> w("demo", o),
                o -> w("show", "all", o),
                o -> w("set", "copy_parallel=3", o),
                o -> w("kick", "s1", o),
                o -> w("activate", "s1", o),
                o -> w("deactivate", "s1", o),
                o -> w("pause", "s1", o),
                o -> w("resume", "s1", o),
                o -> w("validate", "s1", o),
                o -> w("compare", "s1", o),
                o -> w("cutover", "s1", o),
                o -> w("copy", "schema", "src", "dst", o),
                o -> w("add", "sync", "newsync", "relgroup=shop", "dbs=pair", o),
                o -> w("update", "sync", "s1", "inactive", o),
                o -> w("remove", "sync", "s1", o),
                o -> w("help", "add", o),
                o -> w(o, "status")));
    }

    static Gen<Line> globalOptions() {
        Gen<String> level = Gen.of("chatty", "LOUD", "warning", "fatal", "verbose", "0", "infos", "off");
        Gen<List<String>> verb = Gen.of(w("status"), w("list", "all"), w("show", "all"), w("help"),
                w("stop"), w("start"), w("restart"), w("validate", "s1"), w("status", "s1"), w("kick", "s1"));
        Gen<Line> levels = level.flatMap(l -> verb.flatMap(v -> Gen.booleans().map(before -> {
            List<String> args = new ArrayList<>();
            if (before) {
                args.add("--log-level=" + l);
                args.addAll(v);
            } else {
                args.addAll(v);
                args.add("--log-level");
                args.add(l);
            }
            return line("global option", args);
        })));
        Gen<Line> others = Gen.of(
                line("global option", "--db-port=abc", "status"),
                line("global option", "--db-port", "54x32", "list", "syncs"),
                line("global option", "--config=" + "/nonexistent.yml", "status"),
                line("global option", "--config", "CONFIG:level.yml", "status"),
                line("global option", "--config", "CONFIG:unknown.yml", "status"),
                line("global option", "--config", "CONFIG:broken.yml", "status"),
                line("global option", "--config", "CONFIG:list.yml", "list", "syncs"),
                line("global option", "--config", "CONFIG:level.yml", "stop"),
                line("global option", "--db-name=nosuch_repository", "status"),
                line("global option", "--debug=maybe", "status"),
                line("global option", "--quiet=no", "status"));
        return Gen.oneOf(levels, others).map(CliFuzzIT::config);
    }

    /** CONFIG:file becomes the path of that file in the test's configuration directory. */
    static Line config(Line l) {
        return line(l.category(), l.args().stream().map(a -> a.startsWith("CONFIG:")
                ? configDir.resolve(a.substring(7)).toString() : a).toList());
    }

    static Gen<Line> passwords() {
        String p = "pass=" + SECRET;
        return Gen.of(
                line("password", "add", "db", "newdb", "dbname=nosuch", "host=127.0.0.1", "port=1", p),
                line("password", "add", "db", "newdb", "dbname=" + src.name(), "host=" + src.host(), "port=abc", p),
                line("password", "add", "db", "newdb", "dbname=x", "conn=password=" + SECRET, "port=0"),
                line("password", "add", "db", "newdb", "dbname=x", p, "pass=" + SECRET),
                line("password", "add", "db", "src", "dbname=x", p),
                line("password", "update", "db", "src", p, "port=abc"),
                line("password", "update", "db", "src", "host=127.0.0.1", "port=1", p),
                line("password", "update", "db", "nosuch", p),
                line("password", "update", "db", "src", p, "colour=red"),
                line("password", "--db-pass=" + SECRET, "status", "nosuch"),
                line("password", "--db-pass", SECRET, "--db-port=abc", "status"),
                line("password", "list", "dbs", "--frob"),
                line("password", "validate", "nosuch"),
                line("password", "copy", "schema", "src", "nosuch"));
    }
}
