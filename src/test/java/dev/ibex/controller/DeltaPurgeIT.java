package dev.ibex.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ibex.repository.Repository;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import org.junit.jupiter.api.Test;

class DeltaPurgeIT {

    @Test
    void deletesOnlyRowsEveryConsumerHasApplied() {
        TestDb repo = Model.repository();
        TestDb source = PgServers.repository();
        Model.db(repo, "src", source);
        Model.db(repo, "dst1", PgServers.repository());
        Model.db(repo, "dst2", PgServers.repository());
        Model.sync(repo, "s", "src", "dst1", "t");
        repo.exec("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES ('s_dbs', 'dst2', 'target')");
        // the capture layout on a source (sql/capture/schema.sql): the catalog of delta tables, each with txid
        source.exec("CREATE SCHEMA ibex",
                "CREATE TABLE ibex.captured (schemaname text, tablename text, delta text, function text)",
                "CREATE TABLE ibex.truncate_log (schemaname text, tablename text, txid bigint NOT NULL DEFAULT txid_current())",
                "INSERT INTO ibex.captured VALUES ('public', 't', 'delta_public_t', 'capture_public_t')",
                "CREATE TABLE ibex.delta_public_t (id int, txid bigint NOT NULL DEFAULT txid_current())",
                "INSERT INTO ibex.delta_public_t (id) VALUES (1)",
                "INSERT INTO ibex.delta_public_t (id) VALUES (2)",
                "INSERT INTO ibex.truncate_log VALUES ('public', 't')");
        String applied = source.scalar("SELECT txid_current_snapshot()");
        source.exec("INSERT INTO ibex.delta_public_t (id) VALUES (3)");
        String later = source.scalar("SELECT txid_current_snapshot()");
        repo.exec("INSERT INTO ibex.sync_state (sync, source, target, snapshot) VALUES "
                + "('s', 'src', 'dst1', '" + applied + "'), ('s', 'src', 'dst2', '" + later + "')");

        try (Repository r = Repository.open(Model.spec(repo))) {
            assertEquals(3, DeltaPurge.purge(r), "rows 1 and 2 and the truncate event, applied by both targets");
            assertEquals("3", source.scalar("SELECT string_agg(id::text, ',') FROM ibex.delta_public_t"));
            assertEquals(0, source.count("ibex.truncate_log"));

            repo.exec("UPDATE ibex.sync_state SET snapshot = '" + later + "'");
            assertEquals(1, DeltaPurge.purge(r));
            assertEquals(0, source.count("ibex.delta_public_t"));
        }
    }
}
