package dev.ibex.replicate;

import dev.ibex.capture.Capture;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RepositoryInstaller;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

/**
 * A repository with model rows written by SQL, for the engine tests (the CLI verbs are not
 * needed): dbs, relations with their keys, and syncs from one source to some targets.
 */
public final class Model implements AutoCloseable {

    public final TestDb repoDb;
    public final Repository repo;

    private Model(TestDb repoDb, Repository repo) {
        this.repoDb = repoDb;
        this.repo = repo;
    }

    public static Model create() {
        TestDb db = PgServers.repository();
        try (Connection c = db.connect()) {
            RepositoryInstaller.apply(c, 0);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        ConnectionSpec spec = new ConnectionSpec("repository", db.host(), db.port(), db.name(), db.user(), null, null, null);
        return new Model(db, Repository.open(spec));
    }

    public Model db(String name, TestDb db) {
        return db(name, db, db.user(), null);
    }

    public Model db(String name, TestDb db, String user, String password) {
        repo.update("INSERT INTO ibex.db (name, dbname, host, port, username, password) VALUES (?, ?, ?, ?, ?, ?)",
                name, db.name(), db.host(), db.port(), user, password);
        repo.commit();
        return this;
    }

    public Db dbRow(String name) {
        return repo.db(name).orElseThrow();
    }

    /** Adds a relation read from db {@code source}; key column types come from the source catalog. */
    public int table(String source, TestDb sourceDb, String schema, String table, String... keys) {
        List<String> types = new ArrayList<>();
        for (String k : keys) {
            types.add(sourceDb.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '"
                    + dev.ibex.pg.Identifiers.qualified(schema, table).replace("'", "''") + "'::regclass AND attname = '"
                    + k.replace("'", "''") + "'"));
        }
        return repo.one("INSERT INTO ibex.relation (db, schemaname, tablename, keycols, keytypes) "
                + "VALUES (?, ?, ?, ?, ?) RETURNING id", rs -> rs.getInt(1), source, schema, table, List.of(keys), types)
                .orElseThrow();
    }

    /**
     * A sync named {@code name} with relgroup and dbgroup of the same name: {@code source} is the
     * source, each of {@code targets} a target ("db:fullcopy" for a fullcopy target).
     */
    public Model sync(String name, boolean autokick, List<Integer> relations, String source, String... targets) {
        repo.update("INSERT INTO ibex.relgroup (name) VALUES (?)", name);
        for (int r : relations) {
            repo.update("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES (?, ?)", name, r);
        }
        repo.update("INSERT INTO ibex.dbgroup (name) VALUES (?)", name);
        repo.update("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES (?, ?, 'source')", name, source);
        for (String t : targets) {
            String[] parts = t.split(":");
            repo.update("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES (?, ?, ?)", name, parts[0],
                    parts.length > 1 ? parts[1] : "target");
        }
        repo.update("INSERT INTO ibex.sync (name, relgroup, dbgroup, autokick) VALUES (?, ?, ?, ?)", name, name, name,
                autokick);
        return this;
    }

    /** Installs capture on the source and commits the repository, as 'ibex add sync' would. */
    public Model capture(String source) {
        Capture.reconcile(repo, dbRow(source));
        repo.commit();
        return this;
    }

    /** Drops a sync and its groups, then reconciles the source. */
    public Model dropSync(String name, String source) {
        repo.update("DELETE FROM ibex.sync WHERE name = ?", name);
        repo.update("DELETE FROM ibex.dbgroup WHERE name = ?", name);
        repo.update("DELETE FROM ibex.relgroup WHERE name = ?", name);
        return capture(source);
    }

    @Override
    public void close() {
        repo.close();
    }
}
