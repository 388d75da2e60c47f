package dev.ibex.repository;

import dev.ibex.IbexException;
import dev.ibex.pg.Identifiers;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Writes the model (dbs, relations, relgroups, dbgroups, syncs) in the repository's open
 * transaction, and answers the "who uses this" questions that removing and changing need. Column
 * names come from fixed lists here, never from the user.
 */
public final class ModelWriter {

    private static final Set<String> DB_COLUMNS =
            Set.of("dbname", "host", "port", "username", "password", "conn", "service", "status", "makedelta");
    private static final Set<String> RELATION_COLUMNS =
            Set.of("keycols", "keytypes", "autokick", "rebuild_index", "analyze_after_copy", "strict_checking",
                    "makedelta");
    private static final Set<String> SYNC_COLUMNS = Set.of("name", "relgroup", "dbgroup", "status", "paused",
            "autokick", "checktime", "onetimecopy", "stayalive", "kidsalive", "conflict_strategy", "lifetime",
            "maxkicks", "isolation_level", "rebuild_index", "analyze_after_copy", "strict_checking", "priority");
    private static final Set<String> INTERVALS = Set.of("checktime", "lifetime");
    private static final Set<String> ARRAYS = Set.of("keycols", "keytypes");

    /** What a db, relgroup or dbgroup may be called. */
    public static final String NAME = "[A-Za-z_][A-Za-z0-9_.-]*";
    /** What a sync may be called (ibex.sync's CHECK), and the words Bucardo's add sync reserves. */
    public static final String SYNC_NAME = "[A-Za-z_][A-Za-z0-9_]*";
    public static final Set<String> RESERVED_SYNC_NAMES = Set.of("pushdelta", "fullcopy", "swap", "sync", "all");

    private final Repository repo;

    public ModelWriter(Repository repo) {
        this.repo = repo;
    }

    // ---- dbs ----------------------------------------------------------------------------------------

    public void insertDb(String name, Map<String, Object> columns) {
        insert("db", "name", name, columns, DB_COLUMNS);
    }

    public void updateDb(String name, Map<String, Object> columns) {
        update("db", "name", name, columns, DB_COLUMNS);
    }

    /** Removes the db with its relations and group memberships; syncs must be gone already. */
    public void deleteDb(String name) {
        repo.update("DELETE FROM ibex.dbgroup_member WHERE db = ?", name);
        repo.update("DELETE FROM ibex.relation WHERE db = ?", name);
        repo.update("DELETE FROM ibex.db WHERE name = ?", name);
    }

    // ---- relations ----------------------------------------------------------------------------------

    private static final String RELATION = "SELECT id, db, schemaname, tablename, reltype, keycols, keytypes "
            + "FROM ibex.relation ";

    public Optional<Relation> relation(String db, String schema, String name) {
        return repo.one(RELATION + "WHERE db = ? AND schemaname = ? AND tablename = ?", ModelWriter::toRelation,
                db, schema, name);
    }

    public List<Relation> relations(String reltype) {
        return repo.list(RELATION + "WHERE reltype = ? ORDER BY db, schemaname, tablename", ModelWriter::toRelation,
                reltype);
    }

    public int insertRelation(String db, String schema, String name, String reltype, Map<String, Object> columns) {
        StringBuilder cols = new StringBuilder("db, schemaname, tablename, reltype");
        StringBuilder marks = new StringBuilder("?, ?, ?, ?");
        List<Object> params = new ArrayList<>(List.of(db, schema, name, reltype));
        for (var e : columns.entrySet()) {
            check(e.getKey(), RELATION_COLUMNS);
            cols.append(", ").append(Identifiers.quote(e.getKey()));
            marks.append(", ").append(placeholder(e.getKey()));
            params.add(e.getValue());
        }
        return repo.one("INSERT INTO ibex.relation (" + cols + ") VALUES (" + marks + ") RETURNING id",
                rs -> rs.getInt(1), params.toArray()).orElseThrow();
    }

    public void updateRelation(int id, Map<String, Object> columns) {
        update("relation", "id", id, columns, RELATION_COLUMNS);
    }

    public void deleteRelation(int id) {
        repo.update("DELETE FROM ibex.relation WHERE id = ?", id);
    }

    // ---- relgroups ----------------------------------------------------------------------------------

    public boolean relgroupExists(String name) {
        return exists("relgroup", name);
    }

    public void insertRelgroup(String name) {
        repo.update("INSERT INTO ibex.relgroup (name) VALUES (?)", name);
    }

    /** @return false when the relation was a member already */
    public boolean addToRelgroup(String relgroup, int relation) {
        return repo.update("INSERT INTO ibex.relgroup_member (relgroup, relation) VALUES (?, ?) "
                + "ON CONFLICT DO NOTHING", relgroup, relation) == 1;
    }

    public void renameRelgroup(String name, String newName) {
        repo.update("UPDATE ibex.relgroup SET name = ? WHERE name = ?", newName, name);
    }

    public void deleteRelgroup(String name) {
        repo.update("DELETE FROM ibex.relgroup WHERE name = ?", name);
    }

    /** The dbs whose relations a relgroup holds (one, or none when it is empty). */
    public List<String> relgroupDbs(String relgroup) {
        return repo.list("SELECT DISTINCT r.db FROM ibex.relgroup_member m JOIN ibex.relation r ON r.id = m.relation "
                + "WHERE m.relgroup = ? ORDER BY 1", rs -> rs.getString(1), relgroup);
    }

    public List<Integer> relgroupMembers(String relgroup) {
        return repo.list("SELECT relation FROM ibex.relgroup_member WHERE relgroup = ? ORDER BY relation",
                rs -> rs.getInt(1), relgroup);
    }

    /** Relgroups whose members are exactly these relations. */
    public List<String> relgroupsWithMembers(Collection<Integer> relations) {
        List<Integer> sorted = new ArrayList<>(new TreeSet<>(relations));
        return repo.list("SELECT relgroup FROM ibex.relgroup_member GROUP BY relgroup "
                + "HAVING array_agg(relation ORDER BY relation) = ?::int[] ORDER BY relgroup", rs -> rs.getString(1),
                sorted.stream().map(String::valueOf).toList());
    }

    // ---- dbgroups -----------------------------------------------------------------------------------

    public boolean dbgroupExists(String name) {
        return exists("dbgroup", name);
    }

    public void insertDbgroup(String name) {
        repo.update("INSERT INTO ibex.dbgroup (name) VALUES (?)", name);
    }

    /** Adds the db, or changes its role when it is a member already. */
    public void putInDbgroup(String dbgroup, String db, Role role) {
        repo.update("INSERT INTO ibex.dbgroup_member (dbgroup, db, role) VALUES (?, ?, ?) "
                + "ON CONFLICT (dbgroup, db) DO UPDATE SET role = EXCLUDED.role", dbgroup, db, role.word());
    }

    public void removeFromDbgroup(String dbgroup, String db) {
        repo.update("DELETE FROM ibex.dbgroup_member WHERE dbgroup = ? AND db = ?", dbgroup, db);
    }

    public void renameDbgroup(String name, String newName) {
        repo.update("UPDATE ibex.dbgroup SET name = ? WHERE name = ?", newName, name);
    }

    public void deleteDbgroup(String name) {
        repo.update("DELETE FROM ibex.dbgroup WHERE name = ?", name);
    }

    /** Dbgroups whose members and roles are exactly these ("a:source", "b:target"). */
    public List<String> dbgroupsWithMembers(Collection<String> dbColonRole) {
        List<String> sorted = new ArrayList<>(new TreeSet<>(dbColonRole));
        return repo.list("SELECT dbgroup FROM ibex.dbgroup_member GROUP BY dbgroup "
                + "HAVING array_agg(db || ':' || role ORDER BY db || ':' || role) = ?::text[] ORDER BY dbgroup",
                rs -> rs.getString(1), sorted);
    }

    /** The dbgroups a db belongs to. */
    public List<String> dbgroupsOf(String db) {
        return repo.list("SELECT dbgroup FROM ibex.dbgroup_member WHERE db = ? ORDER BY dbgroup",
                rs -> rs.getString(1), db);
    }

    // ---- syncs --------------------------------------------------------------------------------------

    public boolean syncExists(String name) {
        return exists("sync", name);
    }

    public void insertSync(String name, Map<String, Object> columns) {
        insert("sync", "name", name, columns, SYNC_COLUMNS);
    }

    public void updateSync(String name, Map<String, Object> columns) {
        update("sync", "name", name, columns, SYNC_COLUMNS);
    }

    public void deleteSync(String name) {
        repo.update("DELETE FROM ibex.sync WHERE name = ?", name);
    }

    // ---- who uses what ------------------------------------------------------------------------------

    /** Syncs that read from or write to the db, or read its relations. */
    public List<String> syncsUsingDb(String db) {
        return repo.list("""
                SELECT s.name FROM ibex.sync s
                WHERE EXISTS (SELECT 1 FROM ibex.dbgroup_member m WHERE m.dbgroup = s.dbgroup AND m.db = ?)
                   OR EXISTS (SELECT 1 FROM ibex.relgroup_member g JOIN ibex.relation r ON r.id = g.relation
                              WHERE g.relgroup = s.relgroup AND r.db = ?)
                ORDER BY s.name""", rs -> rs.getString(1), db, db);
    }

    public List<String> syncsUsingRelation(int relation) {
        return repo.list("SELECT s.name FROM ibex.sync s JOIN ibex.relgroup_member g ON g.relgroup = s.relgroup "
                + "WHERE g.relation = ? ORDER BY s.name", rs -> rs.getString(1), relation);
    }

    public List<String> syncsUsingRelgroup(String relgroup) {
        return repo.list("SELECT name FROM ibex.sync WHERE relgroup = ? ORDER BY name", rs -> rs.getString(1), relgroup);
    }

    public List<String> syncsUsingDbgroup(String dbgroup) {
        return repo.list("SELECT name FROM ibex.sync WHERE dbgroup = ? ORDER BY name", rs -> rs.getString(1), dbgroup);
    }

    /** The source dbs of these syncs, as they stand in this transaction. */
    public List<String> sourcesOf(Collection<String> syncs) {
        return repo.list("SELECT DISTINCT m.db FROM ibex.sync s JOIN ibex.dbgroup_member m ON m.dbgroup = s.dbgroup "
                + "WHERE m.role = 'source' AND s.name = ANY (?) ORDER BY 1", rs -> rs.getString(1), List.copyOf(syncs));
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private boolean exists(String table, String name) {
        return repo.one("SELECT 1 FROM ibex." + table + " WHERE name = ?", rs -> 1, name).isPresent();
    }

    private void insert(String table, String keyColumn, Object key, Map<String, Object> columns, Set<String> allowed) {
        StringBuilder cols = new StringBuilder(keyColumn);
        StringBuilder marks = new StringBuilder("?");
        List<Object> params = new ArrayList<>(List.of(key));
        for (var e : columns.entrySet()) {
            check(e.getKey(), allowed);
            cols.append(", ").append(Identifiers.quote(e.getKey()));
            marks.append(", ").append(placeholder(e.getKey()));
            params.add(e.getValue());
        }
        repo.update("INSERT INTO ibex." + table + " (" + cols + ") VALUES (" + marks + ")", params.toArray());
    }

    private void update(String table, String keyColumn, Object key, Map<String, Object> columns, Set<String> allowed) {
        if (columns.isEmpty()) {
            return;
        }
        StringBuilder set = new StringBuilder();
        List<Object> params = new ArrayList<>();
        for (var e : columns.entrySet()) {
            check(e.getKey(), allowed);
            set.append(set.isEmpty() ? "" : ", ").append(Identifiers.quote(e.getKey())).append(" = ")
                    .append(placeholder(e.getKey()));
            params.add(e.getValue());
        }
        params.add(key);
        repo.update("UPDATE ibex." + table + " SET " + set + " WHERE " + keyColumn + " = ?", params.toArray());
    }

    private static String placeholder(String column) {
        return INTERVALS.contains(column) ? "CAST(? AS interval)" : ARRAYS.contains(column) ? "CAST(? AS text[])" : "?";
    }

    private static void check(String column, Set<String> allowed) {
        if (!allowed.contains(column)) {
            throw new IllegalArgumentException("not a model column: " + column);
        }
    }

    private static Relation toRelation(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Relation(rs.getInt("id"), rs.getString("db"), rs.getString("schemaname"), rs.getString("tablename"),
                rs.getString("reltype"), Repository.strings(rs.getArray("keycols")),
                Repository.strings(rs.getArray("keytypes")));
    }

    public static void checkName(String what, String name) {
        if (!name.matches(NAME)) {
            throw IbexException.badInput("Invalid " + what + " name \"" + name + "\": use letters, digits and _ . -"
                    + ", starting with a letter or _");
        }
    }
}
