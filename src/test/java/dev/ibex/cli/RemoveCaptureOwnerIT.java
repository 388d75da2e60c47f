package dev.ibex.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

/**
 * README "What ibex needs, by role": a source user with the grants README lists (not the tables'
 * owner) captures, but PostgreSQL lets only the owner drop the triggers. The refusal said
 * "Capturing table ... failed", about a removal, and named no way out.
 */
class RemoveCaptureOwnerIT {

    @Test
    void removingCaptureAsANonOwnerSaysWhoMayAndChangesNothing() {
        TestDb source = PgServers.source();
        TestDb target = PgServers.target();
        String user = "notowner_" + source.name();
        source.exec("CREATE TABLE public.items (id int PRIMARY KEY)", "CREATE ROLE " + user + " LOGIN",
                "GRANT CREATE ON DATABASE " + source.name() + " TO " + user, "GRANT USAGE ON SCHEMA public TO " + user,
                "GRANT SELECT, UPDATE, TRIGGER ON public.items TO " + user);
        target.exec("CREATE TABLE public.items (id int PRIMARY KEY)");
        Model m = Model.create().db("src", source, user, null).db("dst", target);
        assertEquals(0, m.run("add", "table", "public.items", "db=src", "relgroup=g").exit());
        Cli.Result added = m.run("add", "sync", "s", "relgroup=g", "dbs=src:source,dst:target");
        assertEquals(0, added.exit(), added.toString());
        String triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ibex%'";
        String before = source.scalar(triggers);

        Cli.Result r = m.run("remove", "sync", "s");
        assertEquals(3, r.exit(), r.toString());
        assertTrue(r.err().startsWith("Removing the capture of table public.items on db \"src\" failed: ERROR: must be "
                + "owner of"), r.toString());
        assertTrue(r.err().contains("run this with the db's user= set to the owner, or have the owner run DROP SCHEMA "
                + "ibex CASCADE there"), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.toString());
        assertFalse(r.err().contains("\tat "), r.toString());
        assertEquals("1", m.repoDb().scalar("SELECT count(*) FROM ibex.sync WHERE name = 's'"));
        assertEquals(before, source.scalar(triggers));
    }
}
