package dev.ibex.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.capture.Capture;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Repository;
import dev.ibex.test.Cli;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.time.Duration;

/** Sets up a repository and syncs with plain SQL, so these tests do not depend on the add verbs. */
public final class Model {

    private Model() {
    }

    public static TestDb repository() {
        TestDb repo = PgServers.repository();
        Cli.Result r = Cli.run(repo, "install", "--batch");
        assertEquals(0, r.exit(), r.toString());
        return repo;
    }

    public static ConnectionSpec spec(TestDb repo) {
        return new ConnectionSpec("repository", repo.host(), repo.port(), repo.name(), repo.user(), null, null, null);
    }

    /** A db row pointing at a test database. */
    public static void db(TestDb repo, String name, TestDb db) {
        repo.exec("INSERT INTO ibex.db (name, dbname, host, port, username) VALUES ('" + name + "', '" + db.name()
                + "', '" + db.host() + "', " + db.port() + ", '" + db.user() + "')");
    }

    /**
     * Sync {@code name} from db {@code source} to db {@code target} (both rows must exist) over tables
     * in public with an integer key "id".
     */
    public static void sync(TestDb repo, String name, String source, String target, String... tables) {
        repo.exec("INSERT INTO ibex.relgroup (name) VALUES ('" + name + "_rel')",
                "INSERT INTO ibex.dbgroup (name) VALUES ('" + name + "_dbs')",
                "INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES ('" + name + "_dbs', '" + source
                        + "', 'source'), ('" + name + "_dbs', '" + target + "', 'target')");
        for (String t : tables) {
            repo.exec("INSERT INTO ibex.relation (db, schemaname, tablename, keycols, keytypes) VALUES ('" + source
                    + "', 'public', '" + t + "', '{id}', '{integer}') ON CONFLICT DO NOTHING",
                    "INSERT INTO ibex.relgroup_member (relgroup, relation) SELECT '" + name + "_rel', id "
                            + "FROM ibex.relation WHERE db = '" + source + "' AND tablename = '" + t + "'");
        }
        repo.exec("INSERT INTO ibex.sync (name, relgroup, dbgroup) VALUES ('" + name + "', '" + name + "_rel', '"
                + name + "_dbs')");
    }

    /** A sync over two fresh, empty databases: rows in the repository only, nothing on the dbs. */
    public static void stubSync(TestDb repo, String name) {
        db(repo, name + "_src", PgServers.repository());
        db(repo, name + "_dst", PgServers.repository());
        sync(repo, name, name + "_src", name + "_dst", "t");
    }

    /**
     * A sync whose every run fails, quickly and for a real reason: a change is pending on the source
     * and the target lacks the table.
     */
    public static void failingSync(TestDb repo, String name) {
        TestDb src = PgServers.repository();
        src.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        db(repo, name + "_src", src);
        db(repo, name + "_dst", PgServers.repository());
        sync(repo, name, name + "_src", name + "_dst", "t");
        try (Repository r = Repository.open(spec(repo))) {
            Capture.reconcile(r, r.db(name + "_src").orElseThrow());
            r.commit();
        }
        src.exec("INSERT INTO t VALUES (1, 'pending')");
    }

    public static long runs(TestDb repo, String sync, String state) {
        return Long.parseLong(repo.scalar("SELECT count(*) FROM ibex.run WHERE sync = '" + sync + "' AND state = '"
                + state + "'"));
    }

    /** Polls until the condition holds; fails with {@code what} after {@code limit}. */
    public static void eventually(Duration limit, String what, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Not within " + limit.toSeconds() + " s: " + what);
            }
            Thread.sleep(100);
        }
    }
}
