package dev.ibex.pg;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static dev.ibex.test.PgServers.STATEMENT_LOG;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every statement ibex sent to a source server during the integration tests uses only what that
 * server's version has ({@link SqlFeature}). The source server logs every statement it receives
 * when {@code ibex.test.statement-log} names a directory (see dev.ibex.test.PgServers); this reads
 * those logs after the tests. With {@code -Dibex.assume-server-version=90305=80400} the 9.3.5
 * source stands in for 8.4, and the 8.4 code path is checked against 8.4.
 *
 * <p>Its name fits neither the surefire nor the failsafe default pattern: the failsafe execution
 * source-sql-audit in pom.xml runs it alone, after the integration tests.
 */
class SourceStatementAudit {

    @Test
    void everyStatementIbexSentToASourceUsesOnlyWhatItsVersionHas() throws IOException {
        String dir = System.getProperty(STATEMENT_LOG, "");
        assumeFalse(dir.isBlank(), STATEMENT_LOG + " is not set: no source logged its statements");
        Path logs = Path.of(dir);
        assumeTrue(Files.isDirectory(logs), "no statement logs: " + logs.toAbsolutePath() + " does not exist");
        StatementLog.Audit a = StatementLog.audit(logs);
        assumeFalse(a.files().isEmpty(), "no statement logs in " + logs.toAbsolutePath()
                + ": no test used a source server");

        TreeSet<ServerVersion> versions = new TreeSet<>();
        a.files().forEach(f -> versions.add(StatementLog.version(f)));
        System.out.println("Source statement audit: " + a.files().size() + " log(s) in " + logs.toAbsolutePath()
                + " (PostgreSQL " + String.join(", ", versions.stream().map(ServerVersion::toString).toList()) + "), " + a.statements() + " statements by ibex ("
                + a.distinct() + " distinct), " + a.toolSessions() + " pg_dump session(s) left out, "
                + a.findings().size() + " statement(s) using what their source lacks");
        if (!a.errors().isEmpty()) {
            System.out.println("Errors ibex's statements met on sources (" + a.errors().size() + " distinct, "
                    + "for information; some tests provoke them):");
            a.errors().stream().limit(40).forEach(e -> System.out.println("  " + e));
        }
        assertTrue(a.statements() > 0, "the source logs in " + logs.toAbsolutePath() + " hold no statement by a "
                + "connection named ibex...: the statement logging or this reader is broken (files: " + a.files() + ")");

        if (!a.findings().isEmpty()) {
            List<String> lines = new ArrayList<>();
            for (StatementLog.Finding f : a.findings()) {
                lines.add("  " + StatementLog.describe(f));
            }
            String report = a.findings().size() + " statement(s) ibex sent to a source use what that source's "
                    + "version lacks (see dev.ibex.pg.SqlFeature):\n" + String.join("\n", lines);
            System.out.println(report);
            fail(report);
        }
    }
}
