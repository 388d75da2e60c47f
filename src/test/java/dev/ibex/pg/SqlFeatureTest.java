package dev.ibex.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The table of source-side features: each pattern flags what uses the feature and nothing that
 * only looks like it, and the SQL files ibex runs on a source pass for the oldest source.
 */
class SqlFeatureTest {

    private record Case(List<String> flagged, List<String> lookalikes) {
    }

    private static final Map<SqlFeature, Case> CASES = new EnumMap<>(SqlFeature.class);

    private static void cases(SqlFeature f, List<String> flagged, List<String> lookalikes) {
        CASES.put(f, new Case(flagged, lookalikes));
    }

    static {
        cases(SqlFeature.SNAPSHOT_EXPORT,
                List.of("SELECT pg_export_snapshot()", "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'",
                        "set transaction\n  snapshot '1'"),
                List.of("SELECT txid_current_snapshot()", "SELECT 'pg_export_snapshot()'",
                        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
        cases(SqlFeature.BYTEA_OUTPUT,
                List.of("SET bytea_output = 'hex'", "SET IntervalStyle = 'postgres'; SET bytea_output TO escape"),
                List.of("SELECT 1 AS my_bytea_output", "SELECT set_config('x', 'bytea_output', false)",
                        "SELECT encode(b, 'hex') FROM t"));
        cases(SqlFeature.EXTRA_FLOAT_DIGITS_3,
                List.of("SET extra_float_digits = 3", "SET extra_float_digits TO 3", "SET extra_float_digits='3'",
                        "SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET bytea_output = 'hex'"),
                List.of("SET extra_float_digits = 2", "SET extra_float_digits TO 0",
                        "SELECT 'SET extra_float_digits = 3'"));
        cases(SqlFeature.LOCK_TIMEOUT,
                List.of("SET lock_timeout = '5s'", "SET LOCAL lock_timeout TO 5000"),
                List.of("SET statement_timeout = '5s'", "SHOW deadlock_timeout", "SELECT 1 AS \"lock_timeout\""));
        cases(SqlFeature.EXTENSIONS,
                List.of("SELECT extname FROM pg_extension", "SELECT name FROM pg_available_extensions",
                        "CREATE EXTENSION hstore", "SELECT * FROM pg_catalog.pg_extension e"),
                List.of("SELECT lanname FROM pg_language", "SELECT * FROM my_pg_extensions",
                        "-- pg_extension\nSELECT 1", "CREATE LANGUAGE plpgsql"));
        cases(SqlFeature.LARGE_OBJECT_METADATA,
                List.of("SELECT count(*) FROM pg_largeobject_metadata"),
                List.of("SELECT count(DISTINCT loid) FROM pg_largeobject", "SELECT 'pg_largeobject_metadata'"));
        cases(SqlFeature.CONTROL_SYSTEM,
                List.of("SELECT system_identifier FROM pg_control_system()"),
                List.of("SELECT pg_control_checkpoint()", "SELECT 'pg_control_system()'"));
        cases(SqlFeature.DO_BLOCK,
                List.of("DO $$BEGIN NULL; END$$", "DO LANGUAGE plpgsql $$ BEGIN NULL; END $$",
                        "  DO 'BEGIN NULL; END'", "SET search_path = ibex;\nDO $x$ BEGIN NULL; END $x$"),
                List.of("UPDATE t SET do_it = 1", "SELECT 1 -- DO $$", "SELECT 'DO $$'",
                        "INSERT INTO t VALUES (1) ON CONFLICT (a)\n DO NOTHING"));
        cases(SqlFeature.STRING_AGG,
                List.of("SELECT string_agg(relname, ',') FROM pg_class", "SELECT pg_catalog.string_agg (a, b) FROM t"),
                List.of("SELECT array_to_string(array_agg(relname), ',') FROM pg_class", "SELECT my_string_agg(x)",
                        "SELECT \"string_agg\" FROM t"));
        cases(SqlFeature.AGGREGATE_ORDER_BY,
                List.of("SELECT array_agg(attname ORDER BY attnum) FROM pg_attribute",
                        "SELECT pg_catalog.array_agg(quote_ident(attname) ORDER BY attnum) FROM pg_attribute",
                        "SELECT array_agg(coalesce(nullif(a, ''), b) order by c) FROM t"),
                List.of("SELECT array_agg(attname) FROM (SELECT attname FROM pg_attribute ORDER BY attnum) a",
                        "SELECT array_agg(recorder BY x) FROM t",
                        "SELECT array_agg(a) OVER (ORDER BY b) FROM t",
                        "SELECT array_agg(quote_ident(attname)) FROM pg_attribute GROUP BY 1 ORDER BY 1"));
        cases(SqlFeature.TRIGGER_WHEN,
                List.of("CREATE TRIGGER t AFTER UPDATE ON x FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) "
                        + "EXECUTE PROCEDURE f()"),
                List.of("CREATE TRIGGER t AFTER UPDATE ON x FOR EACH ROW EXECUTE PROCEDURE f()",
                        "SELECT CASE WHEN a THEN 1 END FROM t"));
        cases(SqlFeature.COPY_OPTION_LIST,
                List.of("COPY t (a, b) TO STDOUT (FORMAT binary)", "COPY (SELECT 1) TO STDOUT WITH (FORMAT csv)",
                        "COPY t FROM STDIN WITH ( FORMAT binary )"),
                List.of("COPY t (a, b) TO STDOUT WITH CSV", "COPY t (a, b) FROM STDIN",
                        "COPY (SELECT a FROM t) TO STDOUT", "COPY t TO STDOUT WITH BINARY"));
        cases(SqlFeature.GRANT_ON_ALL,
                List.of("GRANT SELECT ON ALL TABLES IN SCHEMA ibex TO PUBLIC",
                        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA s FROM u"),
                List.of("GRANT SELECT ON ibex.captured TO PUBLIC", "GRANT ALL ON SCHEMA ibex TO PUBLIC"));
        cases(SqlFeature.HAS_SEQUENCE_PRIVILEGE,
                List.of("SELECT has_sequence_privilege('s', 'USAGE')"),
                List.of("SELECT has_table_privilege('s', 'SELECT')"));
        cases(SqlFeature.TGISINTERNAL,
                List.of("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"),
                List.of("SELECT tgname FROM pg_trigger WHERE tgconstraint = 0",
                        "SELECT 1 AS \"tgisinternal\""));
        cases(SqlFeature.TABLE_SIZE,
                List.of("SELECT pg_table_size('t')", "SELECT pg_indexes_size('t')"),
                List.of("SELECT pg_relation_size('t')", "SELECT pg_total_relation_size('t')"));
        cases(SqlFeature.CREATE_TABLE_IF_NOT_EXISTS,
                List.of("CREATE TABLE IF NOT EXISTS ibex.captured (a int)",
                        "CREATE TEMP TABLE IF NOT EXISTS x (a int)", "create unlogged table if not exists x (a int)"),
                List.of("CREATE TABLE ibex.captured (a int)", "DROP TABLE IF EXISTS x",
                        "SELECT 'CREATE TABLE IF NOT EXISTS x'"));
        cases(SqlFeature.COLLATE,
                List.of("SELECT a FROM t ORDER BY a COLLATE \"C\"", "SELECT a < b COLLATE \"C\" FROM t"),
                List.of("SELECT datcollate FROM pg_database", "CREATE DATABASE d LC_COLLATE 'C' LC_CTYPE 'C'",
                        "SELECT 1 AS \"collate\""));
        cases(SqlFeature.CONCAT,
                List.of("SELECT concat(a, b)", "SELECT concat_ws(',', a, b)", "SELECT pg_catalog.concat (a)"),
                List.of("SELECT a || b", "SELECT array_cat(a, b)", "SELECT my_concat(a)", "SELECT 'concat(a)'"));
        cases(SqlFeature.FORMAT_FUNCTION,
                List.of("SELECT format('%I.%I', n, c)", "SELECT pg_catalog.format('%s', 1)", "SELECT FORMAT ('%s', 1)"),
                List.of("SELECT format_type(atttypid, atttypmod) FROM pg_attribute", "SELECT ibex.format(1)",
                        "COPY t TO STDOUT WITH (FORMAT csv)", "SELECT o.format FROM orders o"));
        cases(SqlFeature.WRITABLE_CTE,
                List.of("WITH moved AS (DELETE FROM d RETURNING *) INSERT INTO e SELECT * FROM moved",
                        "WITH RECURSIVE x AS ( UPDATE t SET a = 1 RETURNING a) SELECT * FROM x",
                        "WITH k AS (SELECT 1), d AS (DELETE FROM t RETURNING *) SELECT * FROM d"),
                List.of("WITH k AS (SELECT 1) SELECT * FROM k",
                        "WITH d AS (SELECT id FROM t) DELETE FROM u USING d WHERE u.id = d.id",
                        "SELECT CAST(a AS integer) FROM t"));
        cases(SqlFeature.UNLOGGED,
                List.of("CREATE UNLOGGED TABLE x (a int)"),
                List.of("CREATE TABLE \"unlogged\" (a int)", "CREATE TEMP TABLE x (a int)"));
        cases(SqlFeature.RELPERSISTENCE,
                List.of("SELECT relpersistence FROM pg_class"),
                List.of("SELECT relistemp FROM pg_class"));
        cases(SqlFeature.FOREACH,
                List.of("CREATE FUNCTION f(a int[]) RETURNS void LANGUAGE plpgsql AS $$DECLARE k int; BEGIN\n"
                        + "  FOREACH k IN ARRAY a LOOP NULL; END LOOP;\nEND$$"),
                List.of("CREATE FUNCTION f(a int[]) RETURNS void LANGUAGE plpgsql AS $$DECLARE k int; BEGIN\n"
                        + "  FOR k IN 1 .. array_upper(a, 1) LOOP NULL; END LOOP;\nEND$$"));
        cases(SqlFeature.ADVISORY_XACT_LOCK,
                List.of("SELECT pg_advisory_xact_lock(1)", "SELECT pg_try_advisory_xact_lock(1, 2)"),
                List.of("SELECT pg_advisory_lock(1)", "SELECT pg_try_advisory_lock(1)"));
        cases(SqlFeature.ALTER_IF_EXISTS,
                List.of("ALTER TABLE IF EXISTS t ADD COLUMN a int", "ALTER INDEX IF EXISTS i RENAME TO j"),
                List.of("ALTER TABLE t ADD COLUMN a int", "DROP TABLE IF EXISTS t"));
        cases(SqlFeature.STAT_ACTIVITY_92,
                List.of("SELECT pid, query FROM pg_stat_activity WHERE datname = current_database()",
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"),
                List.of("SELECT procpid, current_query FROM pg_stat_activity",
                        "SELECT count(*) FROM pg_stat_activity WHERE current_query <> '<IDLE>'"));
        cases(SqlFeature.CREATE_SCHEMA_IF_NOT_EXISTS,
                List.of("CREATE SCHEMA IF NOT EXISTS ibex"),
                List.of("CREATE SCHEMA ibex", "SELECT 1 FROM pg_namespace WHERE nspname = 'ibex'"));
        cases(SqlFeature.LATERAL,
                List.of("SELECT * FROM t, LATERAL (SELECT 1) x", "SELECT * FROM t CROSS JOIN lateral f(t.a)"),
                List.of("SELECT \"lateral\" FROM t", "-- LATERAL\nSELECT 1", "SELECT 1 /* LATERAL */",
                        "SELECT 'LATERAL'", "SELECT E'it\\'s LATERAL'", "SELECT 'it''s LATERAL'", "SELECT bilateral FROM t",
                        "SELECT 1 /* nested /* comment */ LATERAL */"));
        cases(SqlFeature.INDISLIVE,
                List.of("SELECT indexrelid FROM pg_index WHERE indislive"),
                List.of("SELECT indexrelid FROM pg_index WHERE indisvalid"));
        cases(SqlFeature.TO_REGCLASS,
                List.of("SELECT to_regclass('ibex.captured')", "SELECT pg_catalog.to_regtype('int4')",
                        "SELECT to_regproc('f')"),
                List.of("SELECT 'ibex.captured'::regclass", "SELECT my_to_regclass(x)", "SELECT 'to_regclass(x)'"));
        cases(SqlFeature.FILTER,
                List.of("SELECT count(*) FILTER (WHERE a > 0) FROM t", "SELECT count(*) filter(where a) FROM t"),
                List.of("SELECT sum(CASE WHEN a > 0 THEN 1 ELSE 0 END) FROM t", "SELECT filter FROM t WHERE x"));
        cases(SqlFeature.WITH_ORDINALITY,
                List.of("SELECT * FROM unnest(a) WITH ORDINALITY"),
                List.of("SELECT generate_subscripts(a, 1)", "SELECT 'WITH ORDINALITY'"));
        cases(SqlFeature.JSONB,
                List.of("SELECT '{}'::jsonb", "SELECT CAST(x AS jsonb)"),
                List.of("SELECT '{}'::text", "SELECT 'jsonb'"));
        cases(SqlFeature.UNNEST_SEVERAL,
                List.of("SELECT * FROM unnest(a, b)", "SELECT * FROM unnest(ARRAY[1, 2], ARRAY['x', 'y']) u(n, s)",
                        "SELECT * FROM unnest(string_to_array(a, ','), coalesce(b, c))"),
                List.of("SELECT unnest(ARRAY[1, 2])", "SELECT unnest(string_to_array(a, ','))",
                        "SELECT unnest(a), unnest(b) FROM t", "SELECT unnest(a[1:2]) FROM t",
                        "SELECT unnest(ARRAY[f(1, 2), g(ARRAY[3, 4])])"));
        cases(SqlFeature.CARDINALITY,
                List.of("SELECT cardinality(a)"),
                List.of("SELECT array_length(a, 1)", "SELECT cardinality FROM t"));
        cases(SqlFeature.ON_CONFLICT,
                List.of("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING",
                        "INSERT INTO t VALUES (1) ON CONFLICT (a)\n DO UPDATE SET b = excluded.b"),
                List.of("SELECT 'ON CONFLICT'", "INSERT INTO t SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM t)",
                        "SELECT 1 AS \"on conflict\""));
        cases(SqlFeature.CREATE_INDEX_IF_NOT_EXISTS,
                List.of("CREATE INDEX IF NOT EXISTS i ON t (a)",
                        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)"),
                List.of("CREATE INDEX i ON t (a)", "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)"));
        cases(SqlFeature.CREATE_SEQUENCE_IF_NOT_EXISTS,
                List.of("CREATE SEQUENCE IF NOT EXISTS s"),
                List.of("CREATE SEQUENCE s", "DROP SEQUENCE IF EXISTS s"));
        cases(SqlFeature.SKIP_LOCKED,
                List.of("SELECT * FROM q FOR UPDATE SKIP LOCKED"),
                List.of("SELECT * FROM q FOR UPDATE NOWAIT"));
        cases(SqlFeature.REG_NAMESPACE_ROLE,
                List.of("SELECT 'ibex'::regnamespace", "SELECT relowner::pg_catalog.regrole FROM pg_class",
                        "SELECT to_regnamespace('ibex')", "SELECT to_regrole('postgres')"),
                List.of("SELECT 't'::regclass", "SELECT 'f'::regproc", "SELECT 'int4'::regtype"));
        cases(SqlFeature.ARRAY_POSITION,
                List.of("SELECT array_position(a, 1)", "SELECT array_positions(a, 1)"),
                List.of("SELECT array_upper(a, 1)"));
        cases(SqlFeature.COMMIT_TIMESTAMP,
                List.of("SELECT pg_xact_commit_timestamp(xmin) FROM t"),
                List.of("SELECT xmin FROM t"));
        cases(SqlFeature.CURRENT_SETTING_MISSING_OK,
                List.of("SELECT current_setting('ibex.x', true)"),
                List.of("SELECT current_setting('server_version_num')",
                        "SELECT coalesce(current_setting('a'), 'b')"));
        cases(SqlFeature.ADD_COLUMN_IF_NOT_EXISTS,
                List.of("ALTER TABLE t ADD COLUMN IF NOT EXISTS a int", "ALTER TABLE t ADD IF NOT EXISTS a int"),
                List.of("ALTER TABLE t ADD COLUMN a int", "ALTER TABLE t ADD a int"));
        cases(SqlFeature.PARTITIONS,
                List.of("SELECT relispartition FROM pg_class", "SELECT * FROM pg_partitioned_table"),
                List.of("SELECT inhparent FROM pg_inherits"));
        cases(SqlFeature.TRANSITION_TABLES,
                List.of("CREATE TRIGGER t AFTER INSERT ON x REFERENCING NEW TABLE AS n FOR EACH STATEMENT "
                        + "EXECUTE PROCEDURE f()"),
                List.of("CREATE TABLE c (a int REFERENCES p (a))"));
        cases(SqlFeature.SEQUENCE_CATALOG,
                List.of("SELECT * FROM pg_sequence WHERE seqrelid = 's'::regclass",
                        "SELECT last_value FROM pg_catalog.pg_sequences"),
                List.of("SELECT last_value, is_called FROM public.s", "SELECT * FROM pg_sequence_parameters(1)"));
        cases(SqlFeature.IDENTITY_COLUMNS,
                List.of("SELECT attidentity FROM pg_attribute", "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY)"),
                List.of("CREATE TABLE t (id serial)"));
        cases(SqlFeature.INDNKEYATTS,
                List.of("SELECT indnkeyatts FROM pg_index"),
                List.of("SELECT indnatts FROM pg_index"));
        cases(SqlFeature.EXECUTE_FUNCTION,
                List.of("CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION f()"),
                List.of("CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE PROCEDURE f()"));
        cases(SqlFeature.GENERATED_COLUMNS,
                List.of("SELECT attgenerated FROM pg_attribute",
                        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED)"),
                List.of("CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY)"));
        cases(SqlFeature.XACT_ID_FUNCTIONS,
                List.of("SELECT pg_current_xact_id()", "SELECT pg_snapshot_xmin(pg_current_snapshot())"),
                List.of("SELECT txid_current()", "SELECT txid_snapshot_xmin(txid_current_snapshot())"));
        cases(SqlFeature.CREATE_OR_REPLACE_TRIGGER,
                List.of("CREATE OR REPLACE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE PROCEDURE f()"),
                List.of("CREATE OR REPLACE FUNCTION ibex.f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$"));
    }

    /** The features the table checks text for; the others are behaviours the code asks about. */
    private static Set<SqlFeature> withPattern() throws ReflectiveOperationException {
        Field pattern = SqlFeature.class.getDeclaredField("pattern");
        pattern.setAccessible(true);
        Set<SqlFeature> out = EnumSet.noneOf(SqlFeature.class);
        for (SqlFeature f : SqlFeature.values()) {
            if (pattern.get(f) != null) {
                out.add(f);
            }
        }
        return out;
    }

    private static ServerVersion justBefore(SqlFeature f) {
        return new ServerVersion(f.since() - 1);
    }

    @Test
    void everyPatternHasCasesHere() throws ReflectiveOperationException {
        assertEquals(withPattern(), CASES.keySet(), "each feature with a pattern has cases in this test, no other");
        CASES.values().forEach(c -> assertFalse(c.flagged().isEmpty() || c.lookalikes().isEmpty()));
    }

    @Test
    void eachPatternFlagsWhatUsesItBeforeItsVersionOnly() {
        List<String> wrong = new ArrayList<>();
        CASES.forEach((f, c) -> {
            for (String sql : c.flagged()) {
                if (!SqlFeature.missing(sql, justBefore(f)).contains(f)) {
                    wrong.add(f + " not found in: " + sql);
                }
                if (SqlFeature.missing(sql, new ServerVersion(f.since())).contains(f)) {
                    wrong.add(f + " reported missing from " + f.sinceText() + ", which has it, in: " + sql);
                }
            }
        });
        assertEquals(List.of(), wrong);
    }

    @Test
    void lookalikesAreNotFlagged() {
        List<String> wrong = new ArrayList<>();
        CASES.forEach((f, c) -> {
            for (String sql : c.lookalikes()) {
                if (SqlFeature.missing(sql, justBefore(f)).contains(f)) {
                    wrong.add(f + " wrongly found in: " + sql);
                }
            }
        });
        assertEquals(List.of(), wrong);
    }

    @Test
    void aVersionWithEverythingMissesNothing() {
        for (Case c : CASES.values()) {
            for (String sql : c.flagged()) {
                assertEquals(List.of(), SqlFeature.missing(sql, new ServerVersion(180000)), sql);
            }
        }
        String all = String.join(";\n", CASES.values().stream().flatMap(c -> c.flagged().stream()).toList());
        assertTrue(SqlFeature.missing(all, ServerVersion.OLDEST).size() >= CASES.size() - 1,
                "the oldest source misses (nearly) all of them at once: " + SqlFeature.missing(all, ServerVersion.OLDEST));
        assertEquals(List.of(), SqlFeature.missing(all, new ServerVersion(180000)));
    }

    /** Statements as long as ibex sends (keys of a batch inlined): no pattern takes a frame per character. */
    @Test
    void longStatementsAreCheckedWithoutOverflowingTheStack() {
        StringBuilder keys = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            keys.append(i == 0 ? "" : ",").append("E'").append(i).append('\'');
        }
        String copy = "COPY (SELECT ibex_t.\"id\", ibex_t.\"v\" FROM unnest(ARRAY[" + keys + "]::text[]) AS ibex_u(k0) "
                + "JOIN ONLY \"public\".\"k\" AS ibex_t ON ibex_t.\"id\" = ibex_u.k0::integer) TO STDOUT";
        assertEquals(List.of(), SqlFeature.missing(copy, ServerVersion.OLDEST));
        String two = copy.replace("]::text[])", "]::text[], ARRAY[" + keys + "]::text[])");
        assertEquals(List.of(SqlFeature.UNNEST_SEVERAL), SqlFeature.missing(two, ServerVersion.OLDEST));
        String rows = "SELECT * FROM unnest(ARRAY[" + "ROW(1, 2),".repeat(20_000) + "ROW(3, 4)])";
        assertEquals(List.of(), SqlFeature.missing(rows, ServerVersion.OLDEST));
        String agg = "SELECT array_agg(a" + " || f(b, c)".repeat(20_000) + ") FROM t";
        assertEquals(List.of(), SqlFeature.missing(agg, ServerVersion.OLDEST));
        assertEquals(List.of(SqlFeature.AGGREGATE_ORDER_BY),
                SqlFeature.missing(agg.replace(") FROM t", " ORDER BY a) FROM t"), ServerVersion.OLDEST));
        String in = "SELECT * FROM t WHERE (a, b) IN (" + "($1, 'x'), ".repeat(20_000) + "(2, 'y'))";
        assertEquals(List.of(), SqlFeature.missing(in, ServerVersion.OLDEST));
    }

    @Test
    void missingListsEveryFeatureOfAStatementInTableOrder() {
        String sql = "CREATE TABLE IF NOT EXISTS x (a int); SELECT * FROM t, LATERAL (SELECT to_regclass('x')) r";
        assertEquals(List.of(SqlFeature.CREATE_TABLE_IF_NOT_EXISTS, SqlFeature.LATERAL, SqlFeature.TO_REGCLASS),
                SqlFeature.missing(sql, ServerVersion.OLDEST));
        assertEquals(List.of(SqlFeature.TO_REGCLASS), SqlFeature.missing(sql, new ServerVersion(90305)));
        assertEquals(List.of(), SqlFeature.missing(sql, new ServerVersion(90400)));
    }

    @Test
    void sqlTextBlanksCommentsLiteralsAndQuotedNamesButKeepsDollarBodies() {
        assertEquals("SELECT '' , x ,", code("SELECT 'a' , \"b\" , -- c LATERAL"));
        assertEquals("SELECT E '' FROM t", code("SELECT E'\\'LATERAL' FROM t"));
        assertEquals("SELECT e '' FROM t", code("SELECT e'a\\\\' FROM t"));
        assertEquals("SELECT FROM t", code("SELECT /* a /* b */ LATERAL */ FROM t"));
        assertEquals("SELECT 1", code("SELECT 1 /* LATERAL"));
        assertEquals("SELECT $$ LATERAL $$", code("SELECT $$ LATERAL $$"));
        assertEquals("SELECT '' x", code("SELECT 'it''s' x"));
        assertEquals("SELECT x", code("SELECT \"a\"\"b\""));
        assertEquals("SELECT ''", code("SELECT 'unterminated LATERAL"));
        assertEquals("SELECT 1 - 2 / 3", code("SELECT 1 - 2 / 3"));
    }

    private static String code(String sql) {
        return SqlText.code(sql).replaceAll("\\s+", " ").trim();
    }

    /**
     * The files sql/capture/*.sql, as ibex runs them on every source, use only what 8.4 has; those
     * of statement-level capture (statement_*.sql), which ibex runs on 10+ only, what 10 has.
     */
    @Test
    void captureSqlFilesRunOnTheOldestSource() throws IOException {
        Path dir = Path.of(System.getProperty("basedir", "")).toAbsolutePath().resolve("sql/capture");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no SQL files in " + dir);
        List<String> wrong = new ArrayList<>();
        for (Path p : files) {
            ServerVersion oldest = p.getFileName().toString().startsWith("statement_")
                    ? new ServerVersion(SqlFeature.TRANSITION_TABLES.since()) : ServerVersion.OLDEST;
            List<SqlFeature> missing = SqlFeature.missing(Files.readString(p, StandardCharsets.UTF_8), oldest);
            if (!missing.isEmpty()) {
                wrong.add(dir.getParent().getParent().relativize(p) + " uses " + describe(missing));
            }
        }
        assertEquals(List.of(), wrong, "what the oldest source that runs them lacks");
    }

    static String describe(List<SqlFeature> features) {
        return String.join(", ", features.stream().map(f -> f + " (" + f.sinceText() + ")").toList());
    }

    @Test
    void oldSourceNotesNameWhatAnOldSourceLacks() {
        List<String> notes = SqlFeature.oldSourceNotes(ServerVersion.OLDEST);
        assertFalse(notes.isEmpty());
        assertTrue(notes.stream().anyMatch(n -> n.contains("PL/pgSQL") && n.contains("(PostgreSQL 9.0)")), notes::toString);
        assertTrue(notes.stream().anyMatch(n -> n.contains("lock_timeout") && n.contains("(PostgreSQL 9.3)")), notes::toString);
        assertEquals(List.of(), SqlFeature.oldSourceNotes(new ServerVersion(180000)));
        List<String> on93 = SqlFeature.oldSourceNotes(new ServerVersion(90305));
        assertTrue(on93.stream().noneMatch(n -> n.contains("lock_timeout")), on93::toString);
        assertTrue(notes.containsAll(on93) && on93.size() < notes.size(), on93::toString);
    }

    @Test
    void assumedVersionMapsOnlyTheNamedServer() {
        assertEquals(90305, ServerVersion.assumed(90305, null));
        assertEquals(90305, ServerVersion.assumed(90305, ""));
        assertEquals(90305, ServerVersion.assumed(90305, "  "));
        assertEquals(80400, ServerVersion.assumed(90305, "90305=80400"));
        assertEquals(80400, ServerVersion.assumed(90305, " 90503=90100 , 90305 = 80400 "));
        assertEquals(90100, ServerVersion.assumed(90503, "90305=80400,90503=90100"));
        assertEquals(180006, ServerVersion.assumed(180006, "90305=80400"));
        assertThrows(NumberFormatException.class, () -> ServerVersion.assumed(90305, "9.3=8.4"));
    }

    @Test
    void majorText() {
        assertEquals("8.4", new ServerVersion(80400).majorText());
        assertEquals("9.3", new ServerVersion(90305).majorText());
        assertEquals("9.6", new ServerVersion(90624).majorText());
        assertEquals("10", new ServerVersion(100023).majorText());
        assertEquals("17", new ServerVersion(170002).majorText());
        assertEquals("9.5", SqlFeature.ON_CONFLICT.sinceText());
        assertEquals("10", SqlFeature.PARTITIONS.sinceText());
    }

    @Test
    void hasComparesWithTheFirstVersionOfTheFeature() {
        assertFalse(new ServerVersion(90399).has(SqlFeature.TO_REGCLASS));
        assertTrue(new ServerVersion(90400).has(SqlFeature.TO_REGCLASS));
        assertFalse(ServerVersion.OLDEST.has(SqlFeature.PLPGSQL_INSTALLED));
        assertTrue(new ServerVersion(90000).has(SqlFeature.PLPGSQL_INSTALLED));
    }
}
