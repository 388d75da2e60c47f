package dev.ibex.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IbexConfigTest {

    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        return Files.writeString(dir.resolve("ibex.yml"), text);
    }

    @Test
    void optionsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults() throws IOException {
        Path file = yaml("db-name: from_file\ndb-host: filehost\npiddir: /from/file\n");
        Map<String, String> env = Map.of("IBEX_DB_NAME", "from_env", "IBEX_DB_HOST", "envhost");
        IbexConfig c = IbexConfig.resolve(Map.of(Setting.DB_NAME, "from_option"), file, env);
        assertEquals("from_option", c.get(Setting.DB_NAME));
        assertEquals("envhost", c.get(Setting.DB_HOST));
        assertEquals(Path.of("/from/file"), c.piddir());
        assertEquals(Setting.LOG_DIR.defaultValue(), c.get(Setting.LOG_DIR));
        assertEquals(file, c.file());
    }

    @Test
    void aBlankEnvironmentVariableCountsAsUnset() throws IOException {
        IbexConfig c = IbexConfig.resolve(Map.of(), yaml("db-name: from_file\n"), Map.of("IBEX_DB_NAME", " "));
        assertEquals("from_file", c.get(Setting.DB_NAME));
    }

    @Test
    void libpqVariablesAreTheRepositorysLastResort() throws IOException {
        Map<String, String> env = Map.of("PGHOST", "pghost", "PGPORT", "6543", "PGUSER", "pguser");
        ConnectionSpec spec = IbexConfig.resolve(Map.of(), yaml("db-name: repo\n"), env).repository();
        assertEquals("pghost", spec.host());
        assertEquals(6543, spec.port());
        assertEquals("pguser", spec.user());
        assertEquals("repo", spec.dbname());
        ConnectionSpec given = IbexConfig.resolve(Map.of(Setting.DB_HOST, "given", Setting.DB_PORT, "5433"),
                yaml("db-name: repo\n"), env).repository();
        assertEquals("given", given.host());
        assertEquals(5433, given.port());
    }

    @Test
    void anUnknownKeyInTheFileIsNamedWithTheKnownOnes() throws IOException {
        Path file = yaml("db-name: x\ndb_hots: typo\n");
        IbexException e = assertThrows(IbexException.class, () -> IbexConfig.resolve(Map.of(), file, Map.of()));
        assertEquals(ExitCode.BAD_INPUT.code(), e.exitCode());
        assertTrue(e.getMessage().startsWith("Unknown setting \"db_hots\" in " + file + ": known settings are "),
                e.getMessage());
        assertTrue(e.getMessage().contains("db-host"), e.getMessage());
    }

    @Test
    void brokenYamlOrAFileThatIsNotAMappingIsBadInput() throws IOException {
        Path broken = yaml("db-name: [unclosed\n");
        IbexException e = assertThrows(IbexException.class, () -> IbexConfig.resolve(Map.of(), broken, Map.of()));
        assertEquals(ExitCode.BAD_INPUT.code(), e.exitCode());
        assertTrue(e.getMessage().startsWith("Cannot read configuration file " + broken + ": fix its YAML syntax"),
                e.getMessage());
        Path list = yaml("- db-name\n- x\n");
        e = assertThrows(IbexException.class, () -> IbexConfig.resolve(Map.of(), list, Map.of()));
        assertTrue(e.getMessage().contains("must be a mapping of settings"), e.getMessage());
    }

    @Test
    void aMissingFileGivenByOptionOrEnvironmentIsBadInput() {
        Path missing = dir.resolve("missing.yml");
        IbexException byOption = assertThrows(IbexException.class, () -> IbexConfig.resolve(Map.of(), missing, Map.of()));
        assertTrue(byOption.getMessage().contains("check the path given to --config"), byOption.getMessage());
        IbexException byEnv = assertThrows(IbexException.class,
                () -> IbexConfig.resolve(Map.of(), null, Map.of("IBEX_CONFIG", missing.toString())));
        assertTrue(byEnv.getMessage().contains("fix or unset IBEX_CONFIG"), byEnv.getMessage());
    }

    @Test
    void aPortThatIsNotANumberSaysWhereToFixIt() throws IOException {
        Path file = yaml("db-port: fivefourthreetwo\n");
        IbexException e = assertThrows(IbexException.class,
                () -> IbexConfig.resolve(Map.of(), file, Map.of()).repository());
        assertEquals("Repository port \"fivefourthreetwo\" is not a number: give --db-port, IBEX_DB_PORT or db-port in "
                + file, e.getMessage());
    }
}
