package dev.ibex.replicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.test.Model;
import dev.ibex.test.ReplicaSet;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

/** Defects a review found (each test failed before its fix): data loss or a wedged sync. */
class ReviewIT {

    /** A 9.6-style inheritance child must survive a whole copy of its parent. */
    @Test
    void wholeCopyOfParentKeepsChildRows() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE m (id int PRIMARY KEY, v text)",
                        "CREATE TABLE m_2020 (PRIMARY KEY (id)) INHERITS (m)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.sync("s1", "m", "m_2020");
            src.exec("INSERT INTO m VALUES (1, 'parent')", "INSERT INTO m_2020 SELECT g, 'c' FROM generate_series(2, 100) g");
            set.goodRun("s1");
            assertEquals("99", dst.scalar("SELECT count(*) FROM ONLY m_2020"));
            src.exec("TRUNCATE ONLY m", "INSERT INTO m VALUES (1, 'again')");
            set.goodRun("s1");
            assertEquals(src.checksum("m_2020", "id"), dst.checksum("m_2020", "id"), "child rows on the target");
        }
    }

    /** Changes captured before a key change must still reach the target. */
    @Test
    void keyChangeKeepsPendingChanges() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE k (id int PRIMARY KEY, code text NOT NULL UNIQUE, v text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            int rel = set.sync("s1", "k").get(0);
            src.exec("INSERT INTO k SELECT g, 'c' || g, 'v' FROM generate_series(1, 10) g");
            set.goodRun("s1");
            src.exec("UPDATE k SET v = 'changed' WHERE id <= 5");
            // what 'ibex validate' does when the source's key moved to another column set
            m.repo().update("UPDATE ibex.relation SET keycols = '{code}', keytypes = '{text}' WHERE id = ?", rel);
            m.capture("src");
            set.goodRun("s1");
            assertEquals(src.checksum("k", "id"), dst.checksum("k", "id"), "updates made before the key change");
        }
    }

    /** onetimecopy must not be cleared while a target has not had its copy. */
    @Test
    void onetimecopyStaysForInactiveTarget() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE o (id int PRIMARY KEY, v text)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            Model m = set.model();
            src.exec("INSERT INTO o SELECT g, 'v' FROM generate_series(1, 10) g");
            set.sync("s1", "o");
            m.repo().update("UPDATE ibex.sync SET onetimecopy = 1");
            m.repo().update("UPDATE ibex.db SET status = 'inactive' WHERE name = 'dst'");
            m.repo().commit();
            set.runner().runOnce("s1");
            m.repo().update("UPDATE ibex.db SET status = 'active' WHERE name = 'dst'");
            m.repo().commit();
            set.runner().runOnce("s1");
            assertEquals(src.checksum("o", "id"), dst.checksum("o", "id"), "the one-time copy reached the target");
        }
    }

    /** A swap of a unique non-key value must not wedge a batch that spans several steps. */
    @Test
    void uniqueSwapAcrossSteps() {
        try (ReplicaSet set = ReplicaSet.create("CREATE TABLE u (id int PRIMARY KEY, code text NOT NULL UNIQUE)")) {
            TestDb src = set.src();
            TestDb dst = set.dst();
            set.runner().stepSize(1, 1);
            set.sync("s1", "u");
            src.exec("INSERT INTO u VALUES (1, 'a'), (2, 'b')");
            set.goodRun("s1");
            src.exec("BEGIN; UPDATE u SET code = 'tmp' WHERE id = 1; UPDATE u SET code = 'a' WHERE id = 2; UPDATE u SET code = 'b' WHERE id = 1; COMMIT");
            set.goodRun("s1");
            assertEquals(src.checksum("u", "id"), dst.checksum("u", "id"));
        }
    }
}
