package dev.ibex.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgToolsTest {

    @Test
    void parsesMajorVersions() {
        assertEquals(1500, PgTools.parseMajor("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"));
        assertEquals(906, PgTools.parseMajor("pg_dump (PostgreSQL) 9.6.24"));
        assertEquals(1800, PgTools.parseMajor("psql (PostgreSQL) 18beta1"));
        assertNull(PgTools.parseMajor("something else"));
    }

    @Test
    void nothingOnThePathSaysWhatToInstall() {
        IbexException e = assertThrows(IbexException.class,
                () -> PgTools.of(List.of(), "on PATH nor in /usr/lib/postgresql/*/bin").pgDump(1700, "source db a"));
        assertEquals("pg_dump not found on PATH nor in /usr/lib/postgresql/*/bin: install postgresql-client-17 (or newer)",
                e.getMessage());
        assertEquals(1, e.exitCode());
    }

    @Test
    void conninfoQuotesAndNeverHoldsThePassword() {
        ConnectionSpec spec = new ConnectionSpec("a", "db.example", 5433, "it's", "bob", "pw!", "sslmode=require ssl=true",
                null);
        assertEquals("host='db.example' port='5433' dbname='it\\'s' user='bob' sslmode='require'",
                SchemaCopier.conninfo(spec));
    }

    @Test
    void firstErrorLine() {
        assertEquals("ERROR: relation \"t\" already exists",
                SchemaCopier.firstError("psql:/tmp/x.sql:25: ERROR:  relation \"t\" already exists\nmore"));
        assertEquals("connection to server failed", SchemaCopier.firstError("pg_dump: error: connection to server failed\n"));
    }
}
