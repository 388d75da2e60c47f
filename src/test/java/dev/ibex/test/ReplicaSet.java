package dev.ibex.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.replicate.SyncRunner;
import java.util.ArrayList;
import java.util.List;

/**
 * The setup most integration tests start from: a new database on the "source" server and one on
 * the "target" server, the same statements (the tables) run on both, and a fresh repository whose
 * model has them as dbs "src" and "dst". Syncs, captures and runs are the test's own, on
 * {@link #model()}, or for a sync run in the test's own thread {@link #sync} and {@link #runner()}.
 * Closing it closes the runner and the model.
 */
public final class ReplicaSet implements AutoCloseable {

    private final TestDb src;
    private final TestDb dst;
    private final Model model;
    private SyncRunner runner;

    private ReplicaSet(TestDb src, TestDb dst, Model model) {
        this.src = src;
        this.dst = dst;
        this.model = model;
    }

    /** Source and target databases, each given {@code schema} (statements run in order), as dbs "src" and "dst". */
    public static ReplicaSet create(String... schema) {
        return on(PgServers.source(), PgServers.target(), schema);
    }

    /** As {@link #create}, on databases of the test's choosing (a source on the repository's server, say). */
    public static ReplicaSet on(TestDb src, TestDb dst, String... schema) {
        if (schema.length > 0) {
            src.exec(schema);
            dst.exec(schema);
        }
        Model model = Model.create();
        model.db("src", src).db("dst", dst);
        return new ReplicaSet(src, dst, model);
    }

    public TestDb src() {
        return src;
    }

    public TestDb dst() {
        return dst;
    }

    public Model model() {
        return model;
    }

    public TestDb repoDb() {
        return model.repoDb();
    }

    /**
     * A runner on the model's repository, made on first use: one runner for the whole test keeps
     * table shapes and plans between its runs, as a controller's kid does.
     */
    public SyncRunner runner() {
        if (runner == null) {
            runner = new SyncRunner(model.repo());
        }
        return runner;
    }

    /**
     * Sync {@code name} from "src" to "dst" over {@code tables} of schema public ("t" keyed by id,
     * "t:a,b" by a and b), with capture installed on "src" and autokick off: the test's
     * {@link #runner()} runs it. Returns the tables' relation ids, in order.
     */
    public List<Integer> sync(String name, String... tables) {
        List<Integer> relations = new ArrayList<>();
        for (String t : tables) {
            String[] p = t.split(":");
            relations.add(model.table("src", "public", p[0], p.length > 1 ? p[1].split(",") : new String[] {"id"}));
        }
        model.sync(name, false, relations, "src", "dst").capture("src");
        return relations;
    }

    /** One run of {@code sync} by {@link #runner()}, which must be good. */
    public SyncRunner.Result goodRun(String sync) {
        SyncRunner.Result r = runner().runOnce(sync);
        assertEquals("good", r.state(), r.toString());
        return r;
    }

    /** {@link #assertSameRows(TestDb, TestDb, String, String)} from "src" to "dst". */
    public void assertSameRows(String table, String orderBy) {
        assertSameRows(src, dst, table, orderBy);
    }

    /**
     * The target holds exactly the source's rows of {@code table}: the same count and the same
     * checksum over the rows in {@code orderBy} order (with the rows themselves shown when a small
     * table differs).
     */
    public static void assertSameRows(TestDb src, TestDb dst, String table, String orderBy) {
        String expected = src.checksum(table, orderBy);
        String actual = dst.checksum(table, orderBy);
        if (!expected.equals(actual) && src.count(table) < 100) {
            String rows = "SELECT string_agg(left(t::text, 200), E'\\n' ORDER BY " + orderBy + ") FROM " + table + " t";
            assertEquals(src.scalar(rows), dst.scalar(rows), table);
        }
        assertEquals(expected, actual, table);
        assertEquals(src.count(table), dst.count(table), table);
    }

    @Override
    public void close() {
        try {
            if (runner != null) {
                runner.close();
            }
        } finally {
            model.close();
        }
    }
}
