package dev.ibex.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InstallIT {

    @Test
    void installCreatesSchemaAndSecondInstallChangesNothing() {
        TestDb repo = PgServers.repository();
        Cli.Result first = Cli.run(repo, "install", "--batch");
        assertEquals(0, first.exit(), first.toString());
        assertTrue(first.out().contains("Installation is now complete."), first.toString());
        assertEquals("5", repo.scalar("SELECT max(version) FROM ibex.schema_version"));

        String before = repo.scalar("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'ibex'");
        Cli.Result second = Cli.run(repo, "install", "--batch");
        assertEquals(1, second.exit(), second.toString());
        assertTrue(second.err().contains("already installed"), second.toString());
        assertEquals(before, repo.scalar("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = 'ibex'"));
        assertEquals("5", repo.scalar("SELECT count(*) FROM ibex.schema_version"));

        Cli.Result upgrade = Cli.run(repo, "upgrade");
        assertEquals(0, upgrade.exit(), upgrade.toString());
        assertTrue(upgrade.out().contains("No schema changes were needed"), upgrade.toString());
    }

    @Test
    void anOlderRepositoryIsRefusedUntilUpgraded() {
        TestDb repo = PgServers.repository();
        assertEquals(0, Cli.run(repo, "install", "--batch").exit());
        repo.exec("ALTER TABLE ibex.run DROP COLUMN sqlstate", "ALTER TABLE ibex.run DROP COLUMN conflicts",
                "ALTER TABLE ibex.db DROP COLUMN makedelta", "ALTER TABLE ibex.relation DROP COLUMN makedelta", "DROP TABLE ibex.sync_claim",
                "ALTER TABLE ibex.sync_state DROP COLUMN tables",
                "DROP SEQUENCE ibex.sync_claim_epoch", "DELETE FROM ibex.schema_version WHERE version >= 2");
        Cli.Result refused = Cli.run(repo, "status");
        assertEquals(1, refused.exit(), refused.toString());
        assertTrue(refused.err().contains("is at version 1, this ibex needs version 5: run 'ibex upgrade'"),
                refused.toString());
        Cli.Result upgrade = Cli.run(repo, "upgrade");
        assertEquals(0, upgrade.exit(), upgrade.toString());
        assertTrue(upgrade.out().contains("Applied 002_run_sqlstate.sql"), upgrade.toString());
        assertTrue(upgrade.out().contains("Applied 003_controllers.sql"), upgrade.toString());
        assertTrue(upgrade.out().contains("Applied 004_several_sources.sql"), upgrade.toString());
        assertTrue(upgrade.out().contains("Applied 005_sync_state_tables.sql"), upgrade.toString());
        assertEquals(0, Cli.run(repo, "status").exit());
    }

    @Test
    void installCreatesMissingDatabase() {
        TestDb any = PgServers.repository();
        String fresh = any.name() + "_new";
        Cli.Result r = Cli.run("install", "--batch", "-h", any.host(), "-p", Integer.toString(any.port()),
                "-d", fresh, "-U", any.user());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("Created database \"" + fresh + "\""), r.toString());
    }

    @Test
    void connectionSettingsComeFromEnvironmentThroughTheLauncher() {
        TestDb repo = PgServers.repository();
        Cli.Result r = Cli.process(Map.of("IBEX_DB_HOST", repo.host(), "IBEX_DB_PORT", Integer.toString(repo.port()),
                "IBEX_DB_NAME", repo.name(), "PGUSER", repo.user()), "install");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("5", repo.scalar("SELECT max(version) FROM ibex.schema_version"));
    }

    @Test
    void unreachableRepositoryIsOneLineAndExitThree() {
        Cli.Result r = Cli.run("install", "--batch", "--db-host", "127.0.0.1", "--db-port", "1");
        assertEquals(3, r.exit(), r.toString());
        assertTrue(r.err().contains("127.0.0.1:1"), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.toString());
    }
}
