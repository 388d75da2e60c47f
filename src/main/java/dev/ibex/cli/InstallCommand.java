package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.PgErrors;
import dev.ibex.repository.RepositoryInstaller;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "install", description = {
    "Create the repository: the database if it is missing (and the user may), then the ibex schema.",
    "On a terminal without --batch it shows the connection and asks to proceed (P) or quit (Q).",
    "Needs no superuser, no PL/PerlU and no extension."})
public class InstallCommand extends Verb {

    @Option(names = "--batch", description = "Do not ask; proceed.")
    boolean batch;

    @Override
    public Integer call() throws IOException {
        ConnectionSpec spec = repositorySpec();
        Console console = System.console();
        if (!batch && console != null && !confirm(spec)) {
            say("Installation cancelled.");
            return ExitCode.BAD_INPUT.code();
        }
        List<String> notes = new ArrayList<>();
        try (Connection c = RepositoryInstaller.connectCreatingDatabase(spec, notes)) {
            int installed = RepositoryInstaller.installedVersion(c);
            if (installed > 0) {
                throw IbexException.badInput("The ibex repository is already installed in database \"" + spec.dbname()
                        + "\" at " + spec.hostPort() + " (version " + installed
                        + "): nothing changed; use 'ibex upgrade' to apply newer versions");
            }
            var applied = RepositoryInstaller.apply(c, 0);
            notes.forEach(this::say);
            say("Created the ibex repository (version " + applied.get(applied.size() - 1).version()
                    + ") in database \"" + spec.dbname() + "\" at " + spec.hostPort());
            say("Installation is now complete.");
            return ExitCode.OK.code();
        } catch (SQLException e) {
            throw PgErrors.failed("Installing the repository in database \"" + spec.dbname() + "\"", e);
        }
    }

    private boolean confirm(ConnectionSpec spec) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (true) {
            say("This will install the ibex repository into an existing PostgreSQL cluster.");
            say("Current connection settings:");
            say("1. Host:          " + spec.host());
            say("2. Port:          " + (spec.port() == null ? 5432 : spec.port()));
            say("3. User:          " + spec.user());
            say("4. Database:      " + spec.dbname());
            say("5. PID directory: " + config().piddir());
            say("Change them with --db-host, --db-port, --db-user, --db-name, --piddir.");
            out().print("Enter P to proceed, or Q to quit: ");
            out().flush();
            String line = in.readLine();
            if (line == null) {
                return false;
            }
            String answer = line.trim().toLowerCase(Locale.ROOT);
            if (answer.equals("p")) {
                return true;
            }
            if (answer.equals("q")) {
                return false;
            }
        }
    }
}
