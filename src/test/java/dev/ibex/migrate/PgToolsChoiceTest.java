package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which pg_dump and psql `ibex copy schema` runs, for sources 8.4 to 17, with fake programs that
 * only answer --version (the choice never runs them otherwise).
 */
class PgToolsChoiceTest {

    @TempDir
    Path tmp;

    /** PATH: pg_dump and psql 15 (Debian 12's). */
    Path path;
    /** /usr/lib/postgresql: 14 with psql, 9.6 without. */
    Path debian;
    /** /usr: pgsql-9.1 (a PGDG RPM layout), pg_dump only. */
    Path rpm;

    @BeforeEach
    void layout() throws IOException {
        path = tmp.resolve("bin");
        fake(path, "pg_dump", "15.8");
        fake(path, "psql", "15.8");
        debian = tmp.resolve("usr-lib-postgresql");
        fake(debian.resolve("14/bin"), "pg_dump", "14.13");
        fake(debian.resolve("14/bin"), "psql", "14.13");
        fake(debian.resolve("9.6/bin"), "pg_dump", "9.6.24");
        rpm = tmp.resolve("usr");
        fake(rpm.resolve("pgsql-9.1/bin"), "pg_dump", "9.1.24");
        Files.createDirectories(rpm.resolve("pgsql-x/bin")); // not a version: never searched
    }

    private static Path fake(Path dir, String program, String version) throws IOException {
        return script(dir, program, "echo '" + program + " (PostgreSQL) " + version + "'");
    }

    private static Path script(Path dir, String name, String body) throws IOException {
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private PgTools environment() {
        return PgTools.fromPath(path.toString(), debian, rpm);
    }

    private PgTools.Tool dump(PgTools tools, int sourceMajor) {
        return tools.pgDump(sourceMajor, "source db old");
    }

    private String refused(PgTools tools, int sourceMajor) {
        IbexException e = assertThrows(IbexException.class, () -> dump(tools, sourceMajor));
        assertEquals(IbexException.BAD_INPUT, e.exitCode());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void whatEachPgDumpReleaseDumps() {
        assertEquals(700, PgTools.oldestServer(906));
        assertEquals(800, PgTools.oldestServer(1000));
        assertEquals(800, PgTools.oldestServer(1400));
        assertEquals(902, PgTools.oldestServer(1500));
        assertEquals(902, PgTools.oldestServer(1900));
        assertEquals(1000, PgTools.oldestServer(2000));

        assertTrue(PgTools.canDump(1400, 804));
        assertTrue(PgTools.canDump(902, 804));
        assertTrue(PgTools.canDump(804, 804));
        assertFalse(PgTools.canDump(1500, 804));
        assertFalse(PgTools.canDump(1500, 901));
        assertTrue(PgTools.canDump(1500, 902));
        assertTrue(PgTools.canDump(1800, 906));
        assertFalse(PgTools.canDump(2000, 906));
        assertTrue(PgTools.canDump(2000, 1000));
        assertFalse(PgTools.canDump(1500, 1700));
        assertFalse(PgTools.canDump(901, 902));

        assertEquals("a pg_dump from 8.4 to 14", PgTools.needed(804));
        assertEquals("a pg_dump from 9.1 to 14", PgTools.needed(901));
        assertEquals("pg_dump 9.2 or newer", PgTools.needed(902));
        assertEquals("pg_dump 17 or newer", PgTools.needed(1700));
    }

    @Test
    void eachSourceGetsTheFirstPgDumpThatCanDumpIt() {
        PgTools tools = environment();
        Path debian14 = debian.resolve("14/bin/pg_dump");
        assertEquals(new PgTools.Tool(debian14, 1400), dump(tools, 804)); // 15 on PATH cannot: 14 can
        assertEquals(new PgTools.Tool(debian14, 1400), dump(tools, 901));
        assertEquals(new PgTools.Tool(path.resolve("pg_dump"), 1500), dump(tools, 902));
        assertEquals(new PgTools.Tool(path.resolve("pg_dump"), 1500), dump(tools, 906));
        assertEquals(new PgTools.Tool(path.resolve("pg_dump"), 1500), dump(tools, 1500));
        assertEquals(path.resolve("pg_dump"), dump(tools, 0).path()); // 0: any server, the first found
        assertEquals("pg_dump 15 (" + path.resolve("pg_dump") + ") is older than source db old (PostgreSQL 17) and "
                + "cannot dump it: install postgresql-client-17 (or newer), or give one with pg_dump=PATH",
                refused(tools, 1700));
    }

    @Test
    void versionedDirectoriesAreSearchedNewestFirst() throws IOException {
        fake(debian.resolve("9.4/bin"), "pg_dump", "9.4.26");
        fake(debian.resolve("10/bin"), "pg_dump", "10.23");
        PgTools tools = PgTools.fromPath("", debian, rpm);
        assertEquals(debian.resolve("14/bin/pg_dump"), dump(tools, 804).path());
        assertEquals(debian.resolve("14/bin/pg_dump"), dump(tools, 906).path());
        Files.delete(debian.resolve("14/bin/pg_dump"));
        Files.delete(debian.resolve("10/bin/pg_dump"));
        assertEquals(debian.resolve("9.6/bin/pg_dump"), dump(tools, 804).path());
    }

    @Test
    void aSourceOlderThan92WithOnlyPgDump15SaysWhichRangeAndWhereToSetIt() {
        PgTools tools = PgTools.fromPath(path.toString(), tmp.resolve("none"), tmp.resolve("none"));
        String expected = "source db old runs PostgreSQL %s: pg_dump 15 (" + path.resolve("pg_dump") + ") can dump "
                + "servers from 9.2 on; install a pg_dump from %s to 14 (e.g. postgresql-client-14) and give it with "
                + "pg_dump=PATH";
        assertEquals(expected.formatted("8.4", "8.4"), refused(tools, 804));
        assertEquals(expected.formatted("9.1", "9.1"), refused(tools, 901));
        assertEquals(path.resolve("pg_dump"), dump(tools, 902).path());
        assertEquals(path.resolve("pg_dump"), dump(tools, 906).path());
        assertEquals(path.resolve("pg_dump"), dump(tools, 1500).path());
    }

    @Test
    void anRpmDirectoryIsSearchedToo() {
        PgTools tools = PgTools.fromPath(path.toString(), tmp.resolve("none"), rpm);
        assertEquals(new PgTools.Tool(rpm.resolve("pgsql-9.1/bin/pg_dump"), 901), dump(tools, 804));
        assertEquals(rpm.resolve("pgsql-9.1/bin/pg_dump"), dump(tools, 901).path());
        assertEquals(path.resolve("pg_dump"), dump(tools, 902).path());
    }

    @Test
    void nothingFoundForAnOldSourceNamesTheRange() {
        PgTools tools = PgTools.fromPath("", tmp.resolve("none"), tmp.resolve("none"));
        assertEquals("pg_dump not found on PATH nor in /usr/lib/postgresql/*/bin: source db old runs PostgreSQL 8.4, "
                + "which needs a pg_dump from 8.4 to 14: install postgresql-client-14, or give one with pg_dump=PATH",
                refused(tools, 804));
        assertEquals("pg_dump not found on PATH nor in /usr/lib/postgresql/*/bin: install postgresql-client-9.6 "
                + "(or newer)", refused(tools, 906));
        assertEquals("pg_dump not found on PATH nor in /usr/lib/postgresql/*/bin: install postgresql-client",
                refused(tools, 0));
        assertEquals("pg_dump not found in " + tmp.resolve("none") + ": install postgresql-client-9.6 (or newer), or fix "
                + "--pg-bin", refused(PgTools.in(tmp.resolve("none")), 906));
    }

    @Test
    void onlyOlderPgDumpsForAnOldSource() {
        PgTools tools = PgTools.in(rpm.resolve("pgsql-9.1/bin"));
        assertEquals("pg_dump 9.1 (" + rpm.resolve("pgsql-9.1/bin/pg_dump") + ") is older than source db old "
                + "(PostgreSQL 9.2) and cannot dump it: install postgresql-client-9.2 (or newer), or fix --pg-bin, or "
                + "give one with pg_dump=PATH", refused(tools, 902));
    }

    @Test
    void theSettingComesFirstAsAProgramOrItsDirectory() {
        PgTools rpm91 = environment().withPgDump(rpm.resolve("pgsql-9.1/bin"));
        assertEquals(new PgTools.Tool(rpm.resolve("pgsql-9.1/bin/pg_dump"), 901), dump(rpm91, 804));
        assertEquals(rpm.resolve("pgsql-9.1/bin/pg_dump"), dump(rpm91, 901).path());

        PgTools deb96 = environment().withPgDump(debian.resolve("9.6/bin/pg_dump"));
        assertEquals(new PgTools.Tool(debian.resolve("9.6/bin/pg_dump"), 906), dump(deb96, 804));
        assertEquals(debian.resolve("9.6/bin/pg_dump"), dump(deb96, 901).path());
        assertEquals(debian.resolve("9.6/bin/pg_dump"), dump(deb96, 902).path()); // PATH's 15 could too: the setting wins
        assertEquals(debian.resolve("9.6/bin/pg_dump"), dump(deb96, 906).path());

        PgTools deb14 = PgTools.in(tmp.resolve("none")).withPgDump(debian.resolve("14/bin"));
        assertEquals(debian.resolve("14/bin/pg_dump"), dump(deb14, 804).path());
        assertEquals(debian.resolve("14/bin/pg_dump"), dump(deb14, 1400).path());
    }

    @Test
    void aSettingThatCannotDumpTheSourceIsAnErrorNotAReasonToLookElsewhere() {
        Path pg15 = path.resolve("pg_dump");
        PgTools tools = environment().withPgDump(pg15); // debian's 14 could dump 8.4
        assertEquals("pg_dump=" + pg15 + " is pg_dump 15, which can dump servers from 9.2 on, and source db old runs "
                + "PostgreSQL 8.4: give a pg_dump from 8.4 to 14 (e.g. from postgresql-client-14)", refused(tools, 804));
        assertEquals(pg15, dump(tools, 902).path());
        assertEquals(pg15, dump(tools, 1500).path());
        assertEquals("pg_dump=" + pg15 + " is pg_dump 15, which is older than source db old (PostgreSQL 17): give "
                + "pg_dump 17 or newer (e.g. from postgresql-client-17)", refused(tools, 1700));

        Path pg91 = rpm.resolve("pgsql-9.1/bin/pg_dump");
        assertEquals("pg_dump=" + pg91 + " is pg_dump 9.1, which is older than source db old (PostgreSQL 9.6): give "
                + "pg_dump 9.6 or newer (e.g. from postgresql-client-9.6)", refused(environment().withPgDump(pg91), 906));
    }

    @Test
    void aSettingThatIsNoPgDumpSaysSo() throws IOException {
        Path missing = tmp.resolve("nowhere/pg_dump");
        assertEquals("pg_dump=" + missing + ": " + missing + " does not exist: give the path of a pg_dump, or of the "
                + "directory it is in (e.g. pg_dump=/usr/lib/postgresql/14/bin)",
                refused(environment().withPgDump(missing), 804));
        assertEquals("pg_dump=" + tmp + ": " + tmp.resolve("pg_dump") + " does not exist: give the path of a pg_dump, "
                + "or of the directory it is in (e.g. pg_dump=/usr/lib/postgresql/17/bin)",
                refused(environment().withPgDump(tmp), 1700));
        Path other = script(tmp.resolve("other"), "pg_dump", "echo 'mysqldump  Ver 10.19'");
        assertEquals("pg_dump=" + other + ": " + other + " does not answer --version like a PostgreSQL pg_dump "
                + "(\"pg_dump (PostgreSQL) 14.13\"): give the path of a pg_dump",
                refused(environment().withPgDump(other), 804));
        Path notExecutable = tmp.resolve("other/plain");
        Files.writeString(notExecutable, "");
        assertTrue(refused(environment().withPgDump(notExecutable), 804).endsWith(" is not an executable file: give "
                + "the path of a pg_dump, or of the directory it is in (e.g. pg_dump=/usr/lib/postgresql/14/bin)"));
    }

    @Test
    void psqlIsTheNewestAtLeastAsNewAsPgDumpBesideItFirst() throws IOException {
        PgTools tools = environment();
        // beside 14's pg_dump is psql 14, but PATH's psql 15 reads its dump too and links a newer libpq
        assertEquals(new PgTools.Tool(path.resolve("psql"), 1500), tools.psql(dump(tools, 804)));
        // nothing beside the 9.1 pg_dump
        assertEquals(path.resolve("psql"), tools.psql(dump(tools.withPgDump(rpm.resolve("pgsql-9.1/bin")), 804)).path());
        // equals: the one beside
        Path other15 = fake(tmp.resolve("other"), "psql", "15.2");
        PgTools twice = PgTools.of(List.of(other15.getParent(), path), "in both");
        assertEquals(path.resolve("psql"), twice.psql(new PgTools.Tool(path.resolve("pg_dump"), 1500)).path());
        assertEquals(other15, twice.psql(new PgTools.Tool(tmp.resolve("x/pg_dump"), 1500)).path());

        PgTools only14 = PgTools.in(debian.resolve("14/bin"));
        Path alone15 = fake(tmp.resolve("alone"), "pg_dump", "15.8");
        IbexException e = assertThrows(IbexException.class, () -> only14.psql(new PgTools.Tool(alone15, 1500)));
        assertEquals("psql 14 (" + debian.resolve("14/bin/psql") + ") is older than pg_dump 15 (" + alone15
                + ") and may not read its dump: install postgresql-client-15", e.getMessage());
        IbexException none = assertThrows(IbexException.class, () -> PgTools.in(tmp.resolve("none"))
                .psql(new PgTools.Tool(rpm.resolve("pgsql-9.1/bin/pg_dump"), 901)));
        assertEquals("psql not found beside " + rpm.resolve("pgsql-9.1/bin/pg_dump") + " nor in " + tmp.resolve("none")
                + ": install postgresql-client-9.1", none.getMessage());
    }

    @Test
    void debiansWrapperOnPathIsPassedOverForTheRealPrograms() throws IOException {
        Path wrapper = script(tmp.resolve("share"), "pg_wrapper", "echo 'pg_dump (PostgreSQL) 15.8'");
        Path usrBin = tmp.resolve("usr-bin");
        Files.createDirectories(usrBin);
        Files.createSymbolicLink(usrBin.resolve("pg_dump"), wrapper);
        PgTools tools = PgTools.fromPath(usrBin.toString(), debian, rpm);
        assertEquals(debian.resolve("14/bin/pg_dump"), dump(tools, 1400).path());
        // but it is used when named: by --pg-bin or pg_dump=
        assertEquals(usrBin.resolve("pg_dump"), dump(PgTools.in(usrBin), 1500).path());
        assertEquals(usrBin.resolve("pg_dump"), dump(tools.withPgDump(usrBin), 1500).path());
    }

    @Test
    void pgDumpCommandWorksForOldPgDumps() {
        ConnectionSpec spec = new ConnectionSpec("old", "old.example", 5432, "shop", "repl", "pw", null, null);
        Path file = Path.of("/tmp/d.sql");
        String conninfo = "host='old.example' port='5432' dbname='shop' user='repl'";
        assertEquals(List.of("/x/pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--exclude-schema=ibex",
                "--file=/tmp/d.sql", conninfo),
                SchemaCopier.pgDumpCommand(new PgTools.Tool(Path.of("/x/pg_dump"), 900), spec, file));
        assertEquals(List.of("/x/pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--exclude-schema=ibex",
                "--file=/tmp/d.sql", "--quote-all-identifiers", conninfo),
                SchemaCopier.pgDumpCommand(new PgTools.Tool(Path.of("/x/pg_dump"), 902), spec, file));
    }
}
