package dev.ibex.migrate;

import static dev.ibex.test.Eventually.eventually;
import static dev.ibex.test.ReplicaSet.assertSameRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.pg.ServerVersion;
import dev.ibex.replicate.Writers;
import dev.ibex.test.Cli;
import dev.ibex.test.Model;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * `ibex cutover SYNC --reverse`: the applications move from the old db to the new one under load
 * and nothing written on either is lost; the way back keeps the old db current; whatever keeps the
 * way back from working is refused in one line before anything is created.
 */
class CutoverReverseIT {

    private static final String[] SCHEMA = {
        "CREATE SEQUENCE public.ids",
        "CREATE TABLE public.t (id int PRIMARY KEY, v int, note text)",
        "CREATE TABLE public.u (id int PRIMARY KEY, v int, note text)",
        "INSERT INTO public.t SELECT g, g, 'seed' FROM generate_series(1, 500) g",
        "INSERT INTO public.u SELECT g, g, 'seed' FROM generate_series(1, 500) g"};

    /** Sync "shop" from db "old" (the source server) to db "new" (the target server), both seeded alike, captured. */
    private static Model shop(TestDb old, TestDb neu) {
        return shopOn(writable(old), neu);
    }

    /** An old db the way back can write to (9.6 on); an older one is refused, see below. */
    private static TestDb writable(TestDb old) {
        assumeTrue(old.version().compareTo(ServerVersion.OLDEST_TARGET) >= 0, "the way back writes to the old db");
        return old;
    }

    private static Model shopOn(TestDb old, TestDb neu) {
        old.exec(SCHEMA);
        neu.exec(SCHEMA);
        Model m = Model.create().db("old", old).db("new", neu);
        return m.sync("shop", true, List.of(m.table("old", "public", "t", "id"), m.table("old", "public", "u", "id"),
                m.sequence("old", "ids")), "old", "new").capture("old");
    }

    @Test
    void writesMoveFromOldToNewUnderLoadAndNothingIsLost() throws Exception {
        TestDb old = PgServers.source();
        TestDb neu = PgServers.target();
        try (Model m = shop(old, neu); InProcessController controller = new InProcessController(m.repoDb())) {
            Writers onOld = Writers.start(old, 3, 2000, "public.t", "public.u");
            onOld.awaitCommits(300);
            Cli.Result busy = m.run("cutover", "shop");
            assertTrue(busy.exit() == 0 || busy.exit() == 1, busy.toString());
            old.exec("SELECT nextval('public.ids') FROM generate_series(1, 40)");
            onOld.stop(); // the applications stop writing to the old db

            Cli.Result r = m.run("cutover", "shop", "--reverse");
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains("Ready: 2 table comparison(s) and 1 sequence comparison(s) match"), r.toString());
            assertTrue(r.out().contains("Reversed: sync shop_reverse carries every change on db new back to db old"),
                    r.toString());
            assertTrue(r.out().contains("Sync shop is inactive: db old is only a target now"), r.toString());
            assertTrue(r.out().contains("The running ibex controller starts sync shop_reverse and stops sync shop"),
                    r.toString());
            assertTrue(r.out().contains("  1. Point the applications at db new now"), r.toString());
            assertTrue(r.err().isEmpty(), r.toString());
            assertModel(m);

            // the applications write to the new db at once
            try (Writers onNew = Writers.start(neu, 3, 2000, "public.t", "public.u")) {
                onNew.awaitCommits(300);
                neu.exec("INSERT INTO public.t VALUES (5000, 0, 'written on new')",
                        "SELECT nextval('public.ids') FROM generate_series(1, 25)");
                eventually(Duration.ofSeconds(60), "a write on new reaches old while writes go on",
                        () -> "1".equals(old.scalar("SELECT count(*) FROM public.t WHERE id = 5000")));
                onNew.awaitCommits(onNew.committed() + 200);
            }
            eventually(Duration.ofSeconds(90), "old equals new through the running controller",
                    () -> old.checksum("public.t", "id").equals(neu.checksum("public.t", "id"))
                            && old.checksum("public.u", "id").equals(neu.checksum("public.u", "id")));
            Cli.Result back = m.run("cutover", "shop_reverse");
            assertEquals(0, back.exit(), back.toString());
            assertTrue(back.out().contains("MATCH  public.ids  old  last_value 65\n"), back.toString());
            assertSameRows(neu, old, "public.t", "id");
            assertSameRows(neu, old, "public.u", "id");
            assertEquals("65", old.scalar("SELECT last_value FROM public.ids"));
            controller.assertRunning();
        }
    }

    /** The way back as the repository holds it: relations of the new db, new:source and old:target, no copy. */
    private static void assertModel(Model m) {
        TestDb repo = m.repoDb();
        assertEquals("inactive", repo.scalar("SELECT status FROM ibex.sync WHERE name = 'shop'"));
        assertEquals("active|0|shop_reverse|shop_reverse", repo.scalar("SELECT status || '|' || onetimecopy || '|' "
                + "|| relgroup || '|' || dbgroup FROM ibex.sync WHERE name = 'shop_reverse'"));
        assertEquals("new public.ids {},new public.t {id},new public.u {id}", repo.scalar("SELECT string_agg(r.db || ' ' "
                + "|| r.schemaname || '.' || r.tablename || ' ' || r.keycols::text, ',' ORDER BY r.tablename) "
                + "FROM ibex.relgroup_member g JOIN ibex.relation r ON r.id = g.relation WHERE g.relgroup = 'shop_reverse'"));
        assertEquals("new:source,old:target", repo.scalar("SELECT string_agg(db || ':' || role, ',' ORDER BY db) "
                + "FROM ibex.dbgroup_member WHERE dbgroup = 'shop_reverse'"));
    }

    @Test
    void oldThatCannotSuppressTriggersAndNewThatCannotTakeCaptureAreRefusedWithNothingChanged() {
        TestDb old = PgServers.source();
        TestDb neu = PgServers.target();
        String oldRole = "plain_" + old.name();
        String newRole = "plain_" + neu.name();
        // before the try: its finally drops roles made in it
        assumeTrue(old.version().compareTo(ServerVersion.OLDEST_TARGET) >= 0, "the way back writes to the old db");
        try (Model m = shop(old, neu)) {
            old.exec("CREATE ROLE " + oldRole + " LOGIN",
                    "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER ON public.t, public.u TO " + oldRole,
                    "GRANT SELECT, UPDATE ON SEQUENCE public.ids TO " + oldRole);
            neu.exec("CREATE ROLE " + newRole + " LOGIN",
                    "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON public.t, public.u TO " + newRole,
                    "GRANT SELECT, UPDATE ON SEQUENCE public.ids TO " + newRole);
            m.sql("UPDATE ibex.db SET username = ? WHERE name = 'old'", oldRole);
            m.sql("UPDATE ibex.db SET username = ? WHERE name = 'new'", newRole);
            Unchanged before = Unchanged.of(m, old, neu);

            Cli.Result r = m.run("cutover", "shop", "--reverse");
            assertEquals(1, r.exit(), r.toString());
            assertEquals("", r.out(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), r.toString());
            String line = r.err().strip();
            assertTrue(line.startsWith("Cannot reverse sync \"shop\" (the way back: sync \"shop_reverse\" from db new "
                    + "to db old): "), line);
            assertTrue(line.contains("user \"" + newRole + "\" on source db new lacks TRIGGER on public.t; TRIGGER on "
                    + "public.u; fix: GRANT SELECT, UPDATE, TRIGGER ON those tables"), line);
            assertTrue(line.contains("user \"" + newRole + "\" may not create schema ibex on source db new; fix: GRANT "
                    + "CREATE ON DATABASE"), line);
            assertTrue(line.contains("target db old: user \"" + oldRole + "\" cannot set session_replication_role"), line);
            assertTrue(!line.contains("Exception"), line);
            before.assertSame(m, old, neu);

            if (neu.version().atLeast(150000)) {
                // fixed as the line says (old: a user who may set the role), the way back opens; new's user
                // also gets the role, as the forward sync's target, whose runs the check drives
                m.sql("UPDATE ibex.db SET username = ? WHERE name = 'old'", old.user());
                neu.exec("GRANT TRIGGER ON public.t, public.u TO " + newRole,
                        "GRANT CREATE ON DATABASE " + neu.name() + " TO " + newRole,
                        "GRANT SET ON PARAMETER session_replication_role TO " + newRole);
                Cli.Result fixed = m.run("cutover", "shop", "--reverse");
                assertEquals(0, fixed.exit(), fixed.toString());
                neu.exec("UPDATE public.t SET note = 'moved back' WHERE id = 7");
                Cli.Result back = m.run("cutover", "shop_reverse");
                assertEquals(0, back.exit(), back.toString());
                assertEquals("moved back", old.scalar("SELECT note FROM public.t WHERE id = 7"));
            }
        } finally {
            old.exec("DROP OWNED BY " + oldRole, "DROP ROLE IF EXISTS " + oldRole);
            // the capture the way back made as that role: its triggers sit on tables the role does not own
            neu.exec("DROP SCHEMA IF EXISTS ibex CASCADE", "DROP OWNED BY " + newRole, "DROP ROLE IF EXISTS " + newRole);
        }
    }

    @Test
    void aTakenNameIsRefusedAndAnotherNameWorksWithoutAController() {
        TestDb old = PgServers.source();
        TestDb neu = PgServers.target();
        try (Model m = shop(old, neu)) {
            m.stubSync("shop_reverse");
            m.sql("INSERT INTO ibex.relgroup (name) VALUES ('shop_group')");
            Unchanged before = Unchanged.of(m, old, neu);

            assertRefused(m, "Cannot reverse sync \"shop\": a sync named \"shop_reverse\" exists already: remove it, or "
                    + "name the way back with --reverse-name=NAME ('ibex remove sync shop_reverse')",
                    "cutover", "shop", "--reverse");
            assertRefused(m, "Cannot reverse sync \"shop\": relgroup \"shop_group\" exists and holds other tables than the "
                    + "way back needs (those of sync \"shop\" on db new): remove it, or name the way back with "
                    + "--reverse-name=NAME ('ibex remove relgroup shop_group')",
                    "cutover", "shop", "--reverse", "--reverse-name", "shop_group");
            String longName = "x".repeat(64);
            assertRefused(m, "Cannot reverse sync \"shop\": the way back's name \"" + longName + "\" is 64 bytes, over 63: "
                    + "choose a shorter --reverse-name", "cutover", "shop", "--reverse", "--reverse-name", longName);
            assertRefused(m, "Cannot reverse sync \"shop\": \"shop-back\" is not a sync name: use letters, digits and _, "
                    + "starting with a letter or _, and not pushdelta, fullcopy, swap, sync or all",
                    "cutover", "shop", "--reverse", "--reverse-name", "shop-back");
            assertRefused(m, "--reverse-name names the way back that --reverse opens: give --reverse too",
                    "cutover", "shop", "--reverse-name", "shop_back");
            before.assertSame(m, old, neu);

            Cli.Result r = m.run("cutover", "shop", "--reverse", "--reverse-name", "shop_back", "--json");
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains("\"reverse\":{\"sync\":\"shop_back\",\"source\":\"new\",\"target\":\"old\","
                    + "\"forward_sync\":\"shop\",\"forward_status\":\"inactive\",\"controller_running\":false,"
                    + "\"late_changes\":0,\"notes\":[]}"), r.toString());
            neu.exec("DELETE FROM public.u WHERE id < 10", "INSERT INTO public.t VALUES (9000, 1, 'after cutover')");
            Cli.Result back = m.run("cutover", "shop_back");
            assertEquals(0, back.exit(), back.toString());
            assertSameRows(neu, old, "public.t", "id");
            assertSameRows(neu, old, "public.u", "id");

            // README's way back: the applications return to old, shop goes on from its last drain, and a
            // second --reverse takes over the relgroup and dbgroup the removed way back left
            assertEquals(0, m.run("remove", "sync", "shop_back").exit());
            assertEquals("0", neu.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
            assertEquals(0, m.run("activate", "shop").exit());
            old.exec("UPDATE public.t SET note = 'back on old' WHERE id = 11", "DELETE FROM public.u WHERE id = 12");
            Cli.Result again = m.run("cutover", "shop", "--reverse", "--reverse-name", "shop_back");
            assertEquals(0, again.exit(), again.toString());
            assertTrue(again.out().contains("Reversed: sync shop_back"), again.toString());
            assertSameRows(old, neu, "public.t", "id");
            assertSameRows(old, neu, "public.u", "id");
            assertEquals("back on old", neu.scalar("SELECT note FROM public.t WHERE id = 11"));
        }
    }

    @Test
    void aCheckThatIsNotReadyCreatesNothing() {
        TestDb old = PgServers.source();
        TestDb neu = PgServers.target();
        try (Model m = shop(old, neu)) {
            neu.exec("INSERT INTO public.t VALUES (7000, 0, 'only on new')");
            Cli.Result r = m.run("cutover", "shop", "--reverse");
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.out().contains("NOT ready: 1 of 2 table comparison(s) differ\n"), r.toString());
            assertTrue(r.out().contains("Not reversed: the check is not Ready, so nothing was created"), r.toString());
            assertNull(m.repoDb().scalar("SELECT name FROM ibex.sync WHERE name = 'shop_reverse'"));
            assertEquals("active", m.repoDb().scalar("SELECT status FROM ibex.sync WHERE name = 'shop'"));
            assertEquals("0", neu.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'ibex'"));
        }
    }

    @Test
    void anOldDbThatIbexCannotWriteToIsRefused() {
        TestDb old = PgServers.source();
        assumeFalse(old.version().compareTo(ServerVersion.OLDEST_TARGET) >= 0,
                "an old db too old to be written to (-Dibex.test.source=9.3.5 -Dibex.assume-server-version=90305=80400)");
        TestDb neu = PgServers.target();
        try (Model m = shopOn(old, neu)) {
            Unchanged before = Unchanged.of(m, old, neu);
            Cli.Result r = m.run("cutover", "shop", "--reverse");
            assertEquals(1, r.exit(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), r.toString());
            assertTrue(r.err().contains(": ibex writes to targets from PostgreSQL 9.3 on, so the way back cannot reach it; "
                    + "fix: cut over without --reverse"), r.toString());
            before.assertSame(m, old, neu);
        }
    }

    private static void assertRefused(Model m, String line, String... args) {
        Cli.Result r = m.run(args);
        assertEquals(1, r.exit(), r.toString());
        assertEquals("", r.out(), r.toString());
        assertEquals(line, r.err().strip(), r.toString());
    }

    /** Every row of the repository's model and state, and every ibex object and trigger on both dbs. */
    private record Unchanged(String repository, String old, String neu) {

        static Unchanged of(Model m, TestDb old, TestDb neu) {
            return new Unchanged(rows(m.repoDb()), objects(old), objects(neu));
        }

        void assertSame(Model m, TestDb oldDb, TestDb newDb) {
            assertEquals(repository, rows(m.repoDb()), "the repository is unchanged");
            assertEquals(old, objects(oldDb), "no object was made or dropped on db old");
            assertEquals(neu, objects(newDb), "no object was made or dropped on db new");
        }

        private static String rows(TestDb repo) {
            StringBuilder out = new StringBuilder();
            for (String t : repo.column("SELECT quote_ident(table_name) FROM information_schema.tables "
                    + "WHERE table_schema = 'ibex' AND table_type = 'BASE TABLE' ORDER BY 1")) {
                out.append(t).append(' ').append(repo.scalar("SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, "
                        + "E'\\n' ORDER BY x::text)), '-') FROM ibex." + t + " x")).append('\n');
            }
            return out.toString();
        }

        private static String objects(TestDb db) {
            return db.scalar("""
                    SELECT coalesce(string_agg(x, ', ' ORDER BY x), '')
                      FROM (SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = 'ibex'
                            UNION ALL
                            SELECT 'relation ' || c.oid::regclass::text FROM pg_class c
                              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'ibex'
                            UNION ALL
                            SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
                              JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'ibex'
                            UNION ALL
                            SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass::text FROM pg_trigger
                             WHERE NOT tgisinternal) o(x)""");
        }
    }
}
