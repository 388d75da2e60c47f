package dev.ibex.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.PgServers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** Reading a source's statement log, on text as PostgreSQL 9.3 and 18 write it (see PgServers). */
class StatementLogTest {

    /** Lines from a 9.3.5 server started by PgServers (prefix "%m [%p] %c app=%a: "), cut down. */
    private static final String LOG = """
            2026-12-05 08:14:46.121 UTC [16797] 6b13c7f6.419d app=: LOG:  database system is ready to accept connections
            2026-12-05 08:14:46.498 UTC [16805] 6b13c7f6.41a5 app=[unknown]: LOG:  statement: SET extra_float_digits = 3
            2026-12-05 08:14:46.498 UTC [16805] 6b13c7f6.41a5 app=[unknown]: LOG:  statement: SET application_name = 'ibex'
            2026-12-05 08:14:46.564 UTC [16805] 6b13c7f6.41a5 app=ibex: LOG:  execute <unnamed>: SELECT 1 -- hi
            \t, 'a
            \tb' AS "lateral"
            2026-12-05 08:14:46.606 UTC [16808] 6b13c7f6.41a8 app=PostgreSQL JDBC Driver: LOG:  execute <unnamed>: SELECT * FROM t, LATERAL (SELECT 1) x
            2026-12-05 08:14:47.010 UTC [16805] 6b13c7f6.41a5 app=ibex: LOG:  execute S_1: SELECT $1::int
            \t + 1
            2026-12-05 08:14:47.015 UTC [16805] 6b13c7f6.41a5 app=ibex: DETAIL:  parameters: $1 = '0'
            some line a child process wrote to stderr
            2026-12-05 08:14:47.016 UTC [16805] 6b13c7f6.41a5 app=ibex: LOG:  statement: BEGIN
            2026-12-05 08:14:47.016 UTC [16805] 6b13c7f6.41a5 app=ibex: LOG:  execute <unnamed>/C_2: SELECT g FROM generate_series(1, 10) g
            2026-12-05 08:14:47.017 UTC [16805] 6b13c7f6.41a5 app=ibex: LOG:  execute fetch from <unnamed>/C_2: SELECT g FROM generate_series(1, 10) g
            2026-12-05 08:14:47.018 UTC [16805] 6b13c7f6.41a5 app=ibex: LOG:  statement: SELECT 1/0
            2026-12-05 08:14:47.018 UTC [16805] 6b13c7f6.41a5 app=ibex: ERROR:  division by zero
            2026-12-05 08:14:47.018 UTC [16805] 6b13c7f6.41a5 app=ibex: STATEMENT:  SELECT 1/0
            2026-12-05 08:14:47.019 UTC [16805] 6b13c7f6.41a5 app=ibex: ERROR:  syntax error at or near "CONFLICT" at character 31
            2026-12-05 08:14:47.019 UTC [16805] 6b13c7f6.41a5 app=ibex: HINT:  a hint
            2026-12-05 08:14:47.019 UTC [16805] 6b13c7f6.41a5 app=ibex: STATEMENT:  INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING
            2026-12-05 08:15:07.183 UTC [17149] 6b13c80b.42fd app=ibex copy schema: LOG:  statement: SELECT pg_catalog.set_config('search_path', '', false);
            2026-12-05 08:15:07.190 UTC [17149] 6b13c80b.42fd app=ibex copy schema: LOG:  statement: SET extra_float_digits TO 3
            2026-12-05 08:15:08.001 UTC [17149] 6b13c80c.42fd app=ibex copy schema: LOG:  statement: CREATE SCHEMA IF NOT EXISTS ibex
            2026-12-05 08:15:08.002 UTC [17150] 6b13c80c.42fe app=ibex compare: LOG:  statement: SELECT string_agg(relname, ',') FROM pg_class
            """;

    private static List<String> lines() {
        return LOG.lines().toList();
    }

    @Test
    void recordsJoinContinuationLinesAndSkipForeignLines() {
        List<StatementLog.Entry> r = StatementLog.records(lines());
        assertEquals(20, r.size());
        StatementLog.Entry multi = r.get(3);
        assertEquals("execute <unnamed>: SELECT 1 -- hi\n, 'a\nb' AS \"lateral\"", multi.message());
        assertEquals("ibex", multi.app());
        assertEquals("6b13c7f6.41a5", multi.session());
        assertEquals(4, multi.line());
        assertEquals("", r.get(0).app());
        assertEquals("[unknown]", r.get(1).app());
        assertEquals("PostgreSQL JDBC Driver", r.get(4).app());
        assertEquals("DETAIL", r.get(6).severity());
        assertEquals("LOG", r.get(7).severity());
        assertEquals("statement: BEGIN", r.get(7).message(), "the foreign line belongs to no record");
    }

    @Test
    void sentByIbexKeepsIbexStatementsOnceAndWhatFailedToParse() {
        Set<String> tools = new HashSet<>();
        List<StatementLog.Sent> sent = StatementLog.sentByIbex(Path.of("x.log"), StatementLog.records(lines()), tools);
        assertEquals(List.of(
                "SELECT 1 -- hi\n, 'a\nb' AS \"lateral\"",
                "SELECT $1::int\n + 1",
                "BEGIN",
                "SELECT g FROM generate_series(1, 10) g",
                "SELECT g FROM generate_series(1, 10) g",
                "SELECT 1/0",
                "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING",
                "CREATE SCHEMA IF NOT EXISTS ibex",
                "SELECT string_agg(relname, ',') FROM pg_class"), sent.stream().map(StatementLog.Sent::sql).toList());
        assertEquals(List.of(false, false, false, false, false, false, true, false, false),
                sent.stream().map(StatementLog.Sent::failed).toList());
        assertEquals(Set.of("6b13c80b.42fd"), tools, "pg_dump's session, not the later one of the same pid");
        List<String> errors = StatementLog.errorsOfIbex(StatementLog.records(lines()), tools);
        assertEquals(2, errors.size());
        assertEquals("division by zero -- in: SELECT 1/0", errors.get(0));
        assertEquals("syntax error at or near \"CONFLICT\" at character 31 -- in: INSERT INTO t VALUES (1) ON CONFLICT "
                + "DO NOTHING", errors.get(1));
    }

    @Test
    void theVersionComesFromTheFileName() {
        assertEquals(new ServerVersion(80400), StatementLog.version(Path.of("/x/source-80400-123-1.log")));
        assertEquals(new ServerVersion(180006), StatementLog.version(Path.of("source-180006-9-12.log")));
        assertThrows(IllegalArgumentException.class, () -> StatementLog.version(Path.of("postgresql.log")));
    }

    @Test
    void auditFindsWhatEachLogsVersionLacks(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("source-80400-1-1.log"), lines());
        Files.write(dir.resolve("source-180006-1-2.log"), lines());
        Files.writeString(dir.resolve("notes.txt"), "not a log");
        StatementLog.Audit a = StatementLog.audit(dir);
        assertEquals(2, a.files().size());
        assertEquals(18, a.statements());
        assertEquals(2, a.toolSessions());
        List<String> found = a.findings().stream().map(f -> f.version() + " " + f.missing()).toList();
        assertEquals(List.of("8.4 [ON_CONFLICT]", "8.4 [CREATE_SCHEMA_IF_NOT_EXISTS]", "8.4 [STRING_AGG]"), found,
                "a quoted \"lateral\" is no LATERAL, nothing is missing on 18, pg_dump's and the driver's SQL "
                        + "are not ibex's");
        String text = StatementLog.describe(a.findings().get(0));
        assertTrue(text.startsWith("[PostgreSQL 8.4] ON_CONFLICT (9.5) -- 1 time by ibex (refused before running) "
                + "(source-80400-1-1.log:20)"), text);
    }

    @Test
    void aLongStatementIsShownAroundWhatItUses() {
        String sql = "SELECT " + "a, ".repeat(200) + "b FROM t, LATERAL (SELECT 1) x WHERE " + "c AND ".repeat(100) + "d";
        String s = StatementLog.shortened(sql, SqlFeature.LATERAL, ServerVersion.OLDEST);
        assertTrue(s.startsWith("SELECT a, a,"), s);
        assertTrue(s.contains("b FROM t, LATERAL (SELECT 1) x WHERE"), s);
        assertTrue(s.length() < 300, s);
    }

    /** The audit itself: skipped without logs, failing on findings and on logs that hold nothing of ibex. */
    @Test
    void theAuditFailsOnWhatALogShows(@TempDir Path dir) throws IOException {
        String old = System.getProperty(PgServers.STATEMENT_LOG);
        try {
            System.clearProperty(PgServers.STATEMENT_LOG);
            assertThrows(TestAbortedException.class, this::audit);
            System.setProperty(PgServers.STATEMENT_LOG, "");
            assertThrows(TestAbortedException.class, this::audit);
            System.setProperty(PgServers.STATEMENT_LOG, dir.toString());
            assertThrows(TestAbortedException.class, this::audit, "no logs yet");

            Path log = dir.resolve("source-180006-1-1.log");
            Files.write(log, lines().stream().filter(l -> !l.contains("app=ibex")).toList());
            AssertionFailedError none = assertThrows(AssertionFailedError.class, this::audit);
            assertTrue(none.getMessage().contains("hold no statement"), none.getMessage());

            Files.write(log, lines());
            audit();

            Files.write(dir.resolve("source-90305-1-2.log"), lines());
            AssertionFailedError found = assertThrows(AssertionFailedError.class, this::audit);
            assertTrue(found.getMessage().contains("[PostgreSQL 9.3] ON_CONFLICT (9.5)"), found.getMessage());
            assertTrue(!found.getMessage().contains("STRING_AGG"), found.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(PgServers.STATEMENT_LOG);
            } else {
                System.setProperty(PgServers.STATEMENT_LOG, old);
            }
        }
    }

    private void audit() throws IOException {
        new SourceStatementAudit().everyStatementIbexSentToASourceUsesOnlyWhatItsVersionHas();
    }
}
