package dev.ibex.migrate;

import dev.ibex.capture.Capture;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.repository.Repository;
import dev.ibex.repository.RepositoryInstaller;
import dev.ibex.test.Cli;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A repository with dbs, relations and syncs written in plain SQL, so these tests do not wait for
 * the config verbs. One Model per test.
 */
final class Model {

    final TestDb repo;
    private final Map<String, TestDb> dbs = new HashMap<>();

    Model() {
        repo = PgServers.repository();
        try (Connection c = repo.connect()) {
            RepositoryInstaller.apply(c, 0);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    Model db(String name, TestDb db) {
        return db(name, db, db.user(), null);
    }

    Model db(String name, TestDb db, String user, String password) {
        dbs.put(name, db);
        sql("INSERT INTO ibex.db (name, dbname, host, port, username, password) VALUES (?, ?, ?, ?, ?, ?)",
                name, db.name(), db.host(), db.port(), user, password);
        return this;
    }

    /** A db that nothing listens on. */
    Model unreachableDb(String name) {
        sql("INSERT INTO ibex.db (name, dbname, host, port, username) VALUES (?, 'nowhere', '127.0.0.1', 1, 'x')", name);
        return this;
    }

    /**
     * A sync named {@code name} reading {@code tables} ("schema.table" or "schema.table:key1,key2";
     * no key after the colon: keyless) from {@code source}, feeding {@code targets} ("db" or
     * "db:fullcopy").
     */
    Model sync(String name, String source, List<String> targets, String... tables) {
        String rg = "rg_" + name;
        String dg = "dg_" + name;
        sql("INSERT INTO ibex.relgroup (name) VALUES (?)", rg);
        sql("INSERT INTO ibex.dbgroup (name) VALUES (?)", dg);
        sql("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES (?, ?, 'source')", dg, source);
        for (String t : targets) {
            String[] p = t.split(":");
            sql("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES (?, ?, ?)", dg, p[0],
                    p.length > 1 ? p[1] : "target");
        }
        for (String t : tables) {
            String[] p = t.split(":", -1);
            String[] qn = p[0].split("\\.");
            List<String> keys = p.length > 1 && !p[1].isEmpty() ? Arrays.asList(p[1].split(",")) : List.of();
            List<String> types = new ArrayList<>();
            for (String k : keys) {
                types.add(dbs.get(source).scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                        + "attrelid = '" + p[0] + "'::regclass AND attname = '" + k + "'"));
            }
            sql("INSERT INTO ibex.relation (db, schemaname, tablename, keycols, keytypes) VALUES (?, ?, ?, ?, ?) "
                    + "ON CONFLICT DO NOTHING", source, qn[0], qn[1], keys, types);
            sql("INSERT INTO ibex.relgroup_member (relgroup, relation) SELECT ?, id FROM ibex.relation "
                    + "WHERE db = ? AND schemaname = ? AND tablename = ?", rg, source, qn[0], qn[1]);
        }
        sql("INSERT INTO ibex.sync (name, relgroup, dbgroup) VALUES (?, ?, ?)", name, rg, dg);
        return this;
    }

    /** Installs capture on the source and seeds the syncs' snapshots, as 'ibex add sync' would. */
    Model capture(String source) {
        try (Repository r = repository()) {
            Capture.reconcile(r, r.db(source).orElseThrow());
            r.commit();
        }
        return this;
    }

    /** A repository connection of its own; the caller closes it. */
    Repository repository() {
        return Repository.open(new ConnectionSpec("repository", repo.host(), repo.port(), repo.name(), repo.user(),
                null, null, null));
    }

    Cli.Result run(String... args) {
        return Cli.run(repo, args);
    }

    void sql(String sql, Object... params) {
        try (Connection c = repo.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                if (params[i] instanceof List<?> l) {
                    ps.setArray(i + 1, c.createArrayOf("text", l.toArray()));
                } else {
                    ps.setObject(i + 1, params[i]);
                }
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql, e);
        }
    }

    /** Lines of the output that start with the given status and mention the check. */
    static List<String> lines(Cli.Result r, String status, String check) {
        return r.out().lines().filter(l -> l.startsWith(status + " ") && l.substring(6).startsWith(check + " ")).toList();
    }
}
