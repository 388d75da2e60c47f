package dev.ibex.repository;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.PgErrors;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The control database: the model (dbs, relations, groups, syncs) and run history. One
 * connection, autocommit off: each CLI command's writes are one transaction.
 */
public final class Repository implements AutoCloseable {

    public static final String APPLICATION_NAME = "ibex";

    private final Connection connection;
    private final ConnectionSpec spec;

    private Repository(Connection connection, ConnectionSpec spec) {
        this.connection = connection;
        this.spec = spec;
    }

    /** Connects and checks that the repository is installed. */
    public static Repository open(ConnectionSpec spec) {
        return open(spec, APPLICATION_NAME);
    }

    public static Repository open(ConnectionSpec spec, String applicationName) {
        Connection c = spec.connect(applicationName);
        try {
            int installed = RepositoryInstaller.installedVersion(c);
            if (installed == 0) {
                c.close();
                throw new IbexException(ExitCode.BAD_INPUT, "No ibex repository in database \""
                        + spec.dbname() + "\" at " + spec.hostPort() + ": run 'ibex install' first, or point "
                        + "--db-name/--db-host at the right database");
            }
            if (installed < Latest.VERSION) {
                // its statements would fail halfway on a column or table the repository lacks
                c.close();
                throw new IbexException(ExitCode.BAD_INPUT, "The ibex repository in database \"" + spec.dbname()
                        + "\" at " + spec.hostPort() + " is at version " + installed + ", this ibex needs version "
                        + Latest.VERSION + ": run 'ibex upgrade'");
            }
            c.setAutoCommit(false);
            try (var st = c.createStatement()) {
                st.execute("SET search_path = ibex, pg_catalog");
            }
            c.commit();
            return new Repository(c, spec);
        } catch (SQLException e) {
            throw PgErrors.failed("Opening the repository", e);
        }
    }

    /** The newest migration this program has, listed once: every open checks against it. */
    private static final class Latest {
        static final int VERSION = RepositoryInstaller.latestVersion();
    }

    public Connection connection() {
        return connection;
    }

    public ConnectionSpec spec() {
        return spec;
    }

    public void commit() {
        try {
            connection.commit();
        } catch (SQLException e) {
            throw PgErrors.failed("Committing to the repository", e);
        }
    }

    public void rollback() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            // the connection is gone; nothing was committed
        }
    }

    @Override
    public void close() {
        try {
            if (!connection.isClosed()) {
                connection.rollback();
                connection.close();
            }
        } catch (SQLException e) {
            // closing anyway
        }
    }

    // ---- reading the model ------------------------------------------------------------------

    private static final String DB_COLUMNS = "name, dbname, host, port, username, password, conn, service, status";

    public Optional<Db> db(String name) {
        return one("SELECT " + DB_COLUMNS + " FROM ibex.db WHERE name = ?", Repository::toDb, name);
    }

    public List<Db> dbs() {
        return list("SELECT " + DB_COLUMNS + " FROM ibex.db ORDER BY name", Repository::toDb);
    }

    private static final String SYNC_COLUMNS = """
            name, relgroup, dbgroup, status, paused, autokick,
            extract(epoch FROM checktime)::bigint AS checktime, onetimecopy, stayalive, kidsalive,
            conflict_strategy, extract(epoch FROM lifetime)::bigint AS lifetime, maxkicks, isolation_level,
            rebuild_index, analyze_after_copy, strict_checking, priority""";

    public Optional<Sync> sync(String name) {
        return one("SELECT " + SYNC_COLUMNS + " FROM ibex.sync WHERE name = ?", Repository::toSync, name);
    }

    public List<Sync> syncs() {
        return list("SELECT " + SYNC_COLUMNS + " FROM ibex.sync ORDER BY priority DESC, name", Repository::toSync);
    }

    private static final String RELATION_COLUMNS = "r.id, r.db, r.schemaname, r.tablename, r.reltype, r.keycols, r.keytypes";

    /** The relations of a relgroup, in Bucardo's order: priority descending, then id. */
    public List<Relation> relations(String relgroup) {
        return list("SELECT " + RELATION_COLUMNS + " FROM ibex.relation r JOIN ibex.relgroup_member m "
                + "ON m.relation = r.id WHERE m.relgroup = ? ORDER BY m.priority DESC, r.id", Repository::toRelation,
                relgroup);
    }

    public List<Relation> allRelations() {
        return list("SELECT " + RELATION_COLUMNS + " FROM ibex.relation r ORDER BY r.db, r.schemaname, r.tablename",
                Repository::toRelation);
    }

    public List<DbgroupMember> members(String dbgroup) {
        return list("SELECT db, role, priority FROM ibex.dbgroup_member WHERE dbgroup = ? "
                + "ORDER BY CASE role WHEN 'source' THEN 0 WHEN 'target' THEN 1 ELSE 2 END, priority DESC, db",
                rs -> new DbgroupMember(rs.getString(1), Role.of(rs.getString(2)), rs.getInt(3)), dbgroup);
    }

    /** A sync with everything needed to run it. */
    public SyncPlan plan(String syncName) {
        Sync sync = sync(syncName).orElseThrow(() -> IbexException.badInput("No sync named \"" + syncName
                + "\": see 'ibex list syncs'"));
        List<SyncPlan.Member> members = new ArrayList<>();
        for (DbgroupMember m : members(sync.dbgroup())) {
            Db db = db(m.db()).orElseThrow();
            members.add(new SyncPlan.Member(db, m.role()));
        }
        List<Relation> relations = relations(sync.relgroup());
        return new SyncPlan(sync, members, relations, makedelta(sync));
    }

    private static final String MAKEDELTA_DBS = """
            SELECT d.name FROM ibex.db d JOIN ibex.dbgroup_member m ON m.db = d.name
             WHERE m.dbgroup = ? AND d.makedelta""";
    private static final String MAKEDELTA_RELATIONS = """
            SELECT r.id, r.makedelta FROM ibex.relation r JOIN ibex.relgroup_member m ON m.relation = r.id
             WHERE m.relgroup = ? AND r.makedelta IS NOT NULL""";

    private SyncPlan.MakeDelta makedelta(Sync sync) {
        Set<String> dbs = new HashSet<>(list(MAKEDELTA_DBS, rs -> rs.getString(1), sync.dbgroup()));
        Map<Integer, Boolean> relations = new HashMap<>();
        list(MAKEDELTA_RELATIONS, rs -> relations.put(rs.getInt(1), rs.getBoolean(2)), sync.relgroup());
        return new SyncPlan.MakeDelta(dbs, relations);
    }

    // ---- small JDBC helpers -----------------------------------------------------------------

    @FunctionalInterface
    public interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    public <T> Optional<T> one(String sql, RowMapper<T> mapper, Object... params) {
        List<T> rows = list(sql, mapper, params);
        return rows.isEmpty() ? Optional.empty() : Optional.ofNullable(rows.get(0));
    }

    public <T> List<T> list(String sql, RowMapper<T> mapper, Object... params) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bind(ps, params);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(mapper.map(rs));
                }
                return out;
            }
        } catch (SQLException e) {
            throw PgErrors.failed("Reading the repository", e);
        }
    }

    public int update(String sql, Object... params) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bind(ps, params);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw PgErrors.failed("Writing to the repository", e);
        }
    }

    private void bind(PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            Object p = params[i];
            if (p instanceof List<?> l) {
                ps.setArray(i + 1, connection.createArrayOf("text", l.toArray()));
            } else {
                ps.setObject(i + 1, p);
            }
        }
    }

    static List<String> strings(Array a) throws SQLException {
        if (a == null) {
            return List.of();
        }
        Object[] values = (Object[]) a.getArray();
        List<String> out = new ArrayList<>(values.length);
        for (Object v : values) {
            out.add((String) v);
        }
        return out;
    }

    private static Db toDb(ResultSet rs) throws SQLException {
        // wasNull() speaks of the column read last: read the port, ask at once, and only then the rest
        int port = rs.getInt("port");
        Integer p = rs.wasNull() ? null : port;
        return new Db(rs.getString("name"), rs.getString("dbname"), rs.getString("host"), p,
                rs.getString("username"), rs.getString("password"), rs.getString("conn"), rs.getString("service"),
                rs.getString("status"));
    }

    private static Sync toSync(ResultSet rs) throws SQLException {
        long checktime = rs.getLong("checktime");
        Long check = rs.wasNull() ? null : checktime;
        long lifetime = rs.getLong("lifetime");
        Long life = rs.wasNull() ? null : lifetime;
        return new Sync(rs.getString("name"), rs.getString("relgroup"), rs.getString("dbgroup"),
                rs.getString("status"), rs.getBoolean("paused"), rs.getBoolean("autokick"), check,
                OneTimeCopy.of(rs.getInt("onetimecopy")), rs.getBoolean("stayalive"), rs.getBoolean("kidsalive"),
                rs.getString("conflict_strategy"), life, rs.getInt("maxkicks"), rs.getString("isolation_level"),
                rs.getInt("rebuild_index"), rs.getBoolean("analyze_after_copy"), rs.getBoolean("strict_checking"),
                rs.getInt("priority"));
    }

    private static Relation toRelation(ResultSet rs) throws SQLException {
        return new Relation(rs.getInt("id"), rs.getString("db"), rs.getString("schemaname"),
                rs.getString("tablename"), rs.getString("reltype"), strings(rs.getArray("keycols")),
                strings(rs.getArray("keytypes")));
    }
}
