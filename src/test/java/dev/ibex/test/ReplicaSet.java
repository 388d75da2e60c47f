package dev.ibex.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The setup most integration tests start from: a new database on the "source" server and one on
 * the "target" server, the same statements (the tables) run on both, and a fresh repository whose
 * model has them as dbs "src" and "dst". Syncs, captures and runs are the test's own, on
 * {@link #model()}. Closing it closes the model.
 */
public final class ReplicaSet implements AutoCloseable {

    private final TestDb src;
    private final TestDb dst;
    private final Model model;

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
        model.close();
    }
}
