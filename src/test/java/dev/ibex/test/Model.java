package dev.ibex.test;

import dev.ibex.capture.Capture;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.Identifiers;
import dev.ibex.repository.Db;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RepositoryInstaller;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A repository on a fresh database, with its model (dbs, relations, relgroups, dbgroups, syncs)
 * written in plain SQL, so tests of the engine, the controller and the migration verbs do not
 * depend on the configuration verbs. A sync {@code s} gets relgroup {@code s_rel} and dbgroup
 * {@code s_dbs}.
 *
 * <p>Model rows are committed at once. {@link #repo()} is a repository connection of the model's
 * own (autocommit off, as the engine uses it), opened on first use and closed by {@link #close()}.
 */
public final class Model implements AutoCloseable {

    private final TestDb repoDb;
    private final Map<String, TestDb> dbs = new HashMap<>();
    private Repository repo;

    private Model(TestDb repoDb) {
        this.repoDb = repoDb;
    }

    /** An installed repository on a new database of the "repository" server. */
    public static Model create() {
        TestDb db = PgServers.repository();
        try (Connection c = db.connect()) {
            RepositoryInstaller.apply(c, 0);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return new Model(db);
    }

    /** An installed repository on {@code db}, a database of the test's own server (one it restarts, say). */
    public static Model on(TestDb db) {
        try (Connection c = db.connect()) {
            RepositoryInstaller.apply(c, 0);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return new Model(db);
    }

    /** How ibex connects to {@code repository} as its repository. */
    public static ConnectionSpec spec(TestDb repository) {
        return new ConnectionSpec("repository", repository.host(), repository.port(), repository.name(),
                repository.user(), null, null, null);
    }

    /** The database added as db {@code name}. */
    public TestDb dbNamed(String name) {
        return dbs.get(name);
    }

    public TestDb repoDb() {
        return repoDb;
    }

    /** The model's repository connection; uncommitted changes on it are the caller's to commit. */
    public Repository repo() {
        if (repo == null) {
            repo = Repository.open(spec(repoDb));
        }
        return repo;
    }

    /** Runs the CLI in this JVM against this repository. */
    public Cli.Result run(String... args) {
        return Cli.run(repoDb, args);
    }

    public Model db(String name, TestDb db) {
        return db(name, db, db.user(), null);
    }

    public Model db(String name, TestDb db, String user, String password) {
        dbs.put(name, db);
        sql("INSERT INTO ibex.db (name, dbname, host, port, username, password) VALUES (?, ?, ?, ?, ?, ?)",
                name, db.name(), db.host(), db.port(), user, password);
        return this;
    }

    /** A db that nothing listens on. */
    public Model unreachableDb(String name) {
        sql("INSERT INTO ibex.db (name, dbname, host, port, username) VALUES (?, 'nowhere', '127.0.0.1', 1, 'x')", name);
        return this;
    }

    public Db dbRow(String name) {
        return repo().db(name).orElseThrow();
    }

    /**
     * The relation {@code schema.table} of db {@code source} (added with {@link #db}), keyed by
     * {@code keys} (none: keyless), their types read from the source catalog; returns its id.
     */
    public int table(String source, String schema, String table, String... keys) {
        List<String> types = new ArrayList<>();
        for (String k : keys) {
            types.add(dbs.get(source).scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '"
                    + Identifiers.qualified(schema, table).replace("'", "''") + "'::regclass AND attname = '"
                    + k.replace("'", "''") + "'"));
        }
        return relation(source, schema, table, List.of(keys), types);
    }

    /** A table relation with the given key columns and types, whether or not the table exists; returns its id. */
    public int relation(String source, String schema, String table, List<String> keycols, List<String> keytypes) {
        sql("INSERT INTO ibex.relation (db, schemaname, tablename, keycols, keytypes) VALUES (?, ?, ?, ?, ?) "
                + "ON CONFLICT DO NOTHING", source, schema, table, keycols, keytypes);
        return relationId(source, schema, table);
    }

    /** The sequence public.{@code name} of db {@code source}; returns its id. */
    public int sequence(String source, String name) {
        sql("INSERT INTO ibex.relation (db, schemaname, tablename, reltype) VALUES (?, 'public', ?, 'sequence')",
                source, name);
        return relationId(source, "public", name);
    }

    /**
     * Sync {@code name} from {@code source} to each of {@code targets} ("db", or "db:fullcopy" for a
     * fullcopy target) over the relations with the given ids.
     */
    public Model sync(String name, boolean autokick, List<Integer> relations, String source, String... targets) {
        String relgroup = name + "_rel";
        String dbgroup = name + "_dbs";
        sql("INSERT INTO ibex.relgroup (name) VALUES (?)", relgroup);
        for (int r : relations) {
            sql("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES (?, ?)", relgroup, r);
        }
        sql("INSERT INTO ibex.dbgroup (name) VALUES (?)", dbgroup);
        sql("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES (?, ?, 'source')", dbgroup, source);
        for (String t : targets) {
            String[] p = t.split(":");
            sql("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES (?, ?, ?)", dbgroup, p[0],
                    p.length > 1 ? p[1] : "target");
        }
        sql("INSERT INTO ibex.sync (name, relgroup, dbgroup, autokick) VALUES (?, ?, ?, ?)", name, relgroup, dbgroup,
                autokick);
        return this;
    }

    /**
     * Sync {@code name} (autokick on, the default) reading {@code tables} ("schema.table" keyless, or
     * "schema.table:key1,key2") from {@code source}, feeding {@code targets} as in the other sync.
     */
    public Model sync(String name, String source, List<String> targets, String... tables) {
        List<Integer> relations = new ArrayList<>();
        for (String t : tables) {
            String[] p = t.split(":", -1);
            String[] qn = p[0].split("\\.");
            String[] keys = p.length > 1 && !p[1].isEmpty() ? p[1].split(",") : new String[0];
            relations.add(table(source, qn[0], qn[1], keys));
        }
        return sync(name, true, relations, source, targets.toArray(String[]::new));
    }

    /** A sync over two fresh, empty databases: rows in the repository only, nothing on the dbs. */
    public Model stubSync(String name) {
        db(name + "_src", PgServers.repository()).db(name + "_dst", PgServers.repository());
        return sync(name, true, List.of(relation(name + "_src", "public", "t", List.of("id"), List.of("integer"))),
                name + "_src", name + "_dst");
    }

    /**
     * A sync whose every run fails, quickly and for a real reason: a change is pending on the source
     * and the target lacks the table.
     */
    public Model failingSync(String name) {
        TestDb src = PgServers.repository();
        src.exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
        db(name + "_src", src).db(name + "_dst", PgServers.repository());
        sync(name, name + "_src", List.of(name + "_dst"), "public.t:id").capture(name + "_src");
        src.exec("INSERT INTO t VALUES (1, 'pending')");
        return this;
    }

    /**
     * Installs capture on the source and commits, as 'ibex add sync' would: on {@link #repo()} if it
     * is open (so the test's own uncommitted changes count), else on a connection of its own.
     */
    public Model capture(String source) {
        if (repo != null) {
            Capture.reconcile(repo, dbRow(source));
            repo.commit();
        } else {
            try (Repository r = Repository.open(spec(repoDb))) {
                Capture.reconcile(r, r.db(source).orElseThrow());
                r.commit();
            }
        }
        return this;
    }

    /** Drops a sync and its groups, then reconciles the source. */
    public Model dropSync(String name, String source) {
        sql("DELETE FROM ibex.sync WHERE name = ?", name);
        sql("DELETE FROM ibex.dbgroup WHERE name = ?", name + "_dbs");
        sql("DELETE FROM ibex.relgroup WHERE name = ?", name + "_rel");
        return capture(source);
    }

    /** How many runs of {@code sync} ended in {@code state}. */
    public long runs(String sync, String state) {
        return Long.parseLong(query("SELECT count(*) FROM ibex.run WHERE sync = ? AND state = ?", sync, state));
    }

    /** Runs one statement on the repository, committed at once; a List binds as text[]. */
    public void sql(String sql, Object... params) {
        query(sql, params);
    }

    private int relationId(String db, String schema, String table) {
        return Integer.parseInt(query("SELECT id FROM ibex.relation WHERE db = ? AND schemaname = ? AND tablename = ?",
                db, schema, table));
    }

    /** The first column of the first row, if the statement returns rows. */
    private String query(String sql, Object... params) {
        try (Connection c = repoDb.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                if (params[i] instanceof List<?> l) {
                    ps.setArray(i + 1, c.createArrayOf("text", l.toArray()));
                } else {
                    ps.setObject(i + 1, params[i]);
                }
            }
            if (!ps.execute()) {
                return null;
            }
            try (ResultSet rs = ps.getResultSet()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql + " with " + Arrays.toString(params), e);
        }
    }

    @Override
    public void close() {
        if (repo != null) {
            repo.close();
        }
    }
}
