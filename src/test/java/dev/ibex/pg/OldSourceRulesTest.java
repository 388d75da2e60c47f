package dev.ibex.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.IbexException;
import java.sql.Connection;
import org.junit.jupiter.api.Test;

/** The rules ibex follows for sources older than the servers the tests can start (8.4 to 9.2). */
class OldSourceRulesTest {

    private static final ServerVersion V84 = new ServerVersion(80400);
    private static final ServerVersion V90 = new ServerVersion(90000);
    private static final ServerVersion V91 = new ServerVersion(90100);

    @Test
    void snapshotsAreSerializableBefore91() {
        assertEquals("SERIALIZABLE", SessionSettings.snapshotIsolation(V84));
        assertEquals("SERIALIZABLE", SessionSettings.snapshotIsolation(V90));
        assertEquals("REPEATABLE READ", SessionSettings.snapshotIsolation(V91));
        assertEquals(Connection.TRANSACTION_SERIALIZABLE, SessionSettings.snapshotIsolationLevel(new ServerVersion(90024)));
        assertEquals(Connection.TRANSACTION_REPEATABLE_READ, SessionSettings.snapshotIsolationLevel(new ServerVersion(180000)));
    }

    @Test
    void sessionSettingsExistOnTheirVersion() {
        for (int v : new int[] {80400, 90000, 90100, 90600, 180000}) {
            ServerVersion version = new ServerVersion(v);
            String sql = SessionSettings.forVersion(version);
            assertEquals("[]", SqlFeature.missing(sql, version).toString(), v + ": " + sql);
        }
        assertFalse(SessionSettings.forVersion(V84).contains("bytea_output"));
        assertTrue(SessionSettings.forVersion(V84).contains("extra_float_digits = 2"), "8.4's maximum is 2");
        assertTrue(SessionSettings.forVersion(V90).contains("bytea_output = 'hex'"));
    }

    @Test
    void exportedSnapshotsAndPlpgsqlByDefaultComeLater() {
        assertFalse(V84.has(SqlFeature.SNAPSHOT_EXPORT));
        assertFalse(V91.has(SqlFeature.SNAPSHOT_EXPORT));
        assertTrue(new ServerVersion(90200).has(SqlFeature.SNAPSHOT_EXPORT));
        assertFalse(V84.has(SqlFeature.PLPGSQL_INSTALLED));
        assertTrue(V90.has(SqlFeature.PLPGSQL_INSTALLED));
        String notes = String.join("\n", SqlFeature.oldSourceNotes(V84));
        assertTrue(notes.contains("CREATE LANGUAGE plpgsql"), notes);
        assertTrue(notes.contains("SERIALIZABLE"), notes);
        assertTrue(notes.contains("one table at a time"), notes);
        assertEquals("[]", SqlFeature.oldSourceNotes(new ServerVersion(90300)).toString());
    }

    @Test
    void aServerOlderThan84IsOneLine() {
        IbexException e = assertThrows(IbexException.class, () -> new ServerVersion(80304).requireSupportedSource("old"));
        assertEquals(IbexException.BAD_INPUT, e.exitCode());
        assertEquals("Db \"old\" runs PostgreSQL 8.3, older than 8.4, the oldest source ibex supports: upgrade it to "
                + "8.4 first (pg_dump and restore, or Bucardo 4), then replicate from there", e.getMessage());
        V84.requireSupportedSource("ok");
    }

    /**
     * pgjdbc 42.7 is the line that still documents and speaks the 8.4 protocol: an upgrade past it must
     * be a decision, checked against an 8.4 server first, not a version bump.
     */
    @Test
    void pgjdbcStaysOnALineThatSpeaksTo84() {
        String version = org.postgresql.util.DriverInfo.DRIVER_VERSION;
        assertEquals(42, org.postgresql.util.DriverInfo.MAJOR_VERSION, version);
        assertEquals(7, org.postgresql.util.DriverInfo.MINOR_VERSION,
                "pgjdbc " + version + ": ibex reads 8.4 sources; stay on 42.7.x unless the new line still supports 8.4");
        assertEquals(80400, org.postgresql.core.ServerVersion.v8_4.getVersionNum());
    }
}
