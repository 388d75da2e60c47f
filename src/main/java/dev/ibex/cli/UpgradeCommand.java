package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.PgErrors;
import dev.ibex.repository.RepositoryInstaller;
import java.sql.Connection;
import java.sql.SQLException;
import picocli.CommandLine.Command;

@Command(name = "upgrade", aliases = {"uprgade", "ugprade"},
        description = "Apply the repository's newer numbered SQL files, if any.")
public class UpgradeCommand extends Verb {

    @Override
    public Integer call() {
        ConnectionSpec spec = repositorySpec();
        try (Connection c = spec.connect("ibex upgrade")) {
            int installed = RepositoryInstaller.installedVersion(c);
            if (installed == 0) {
                throw IbexException.badInput("No ibex repository in database \"" + spec.dbname() + "\" at "
                        + spec.hostPort() + ": run 'ibex install' first");
            }
            var applied = RepositoryInstaller.apply(c, installed);
            if (applied.isEmpty()) {
                say("No schema changes were needed: the repository is at version " + installed + ".");
            } else {
                applied.forEach(m -> say("Applied " + m.file()));
                say("The repository is now at version " + applied.get(applied.size() - 1).version() + ".");
            }
            return ExitCode.OK.code();
        } catch (SQLException e) {
            throw PgErrors.failed("Upgrading the repository", e);
        }
    }
}
