package dev.ibex.migrate;

import dev.ibex.capture.Plpgsql;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import dev.ibex.pg.SqlState;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Checks of a source server against one target server, and of the source alone. */
final class ServerChecks {

    private final Validator v;
    private final DbSession source;
    private final DbSession target;

    ServerChecks(Validator v, DbSession source, DbSession target) {
        this.v = v;
        this.source = source;
        this.target = target;
    }

    void run() throws SQLException {
        sameDatabase();
        if (v.isWayBack()) {
            versionBack();
            return;
        }
        version();
        if (target.serverVersion().compareTo(ServerVersion.OLDEST_TARGET) >= 0) {
            extensions();
            languages();
        }
    }

    void sourceOnly() throws SQLException {
        oldSource();
        plpgsql();
        largeObjects();
        size();
    }

    // ---- source against target ---------------------------------------------------------------

    /**
     * The system identifier from pg_control_system() (9.6+) with the database oid identifies a
     * database; where that function is not readable we fall back to the server's address and
     * port with the database name and oid.
     */
    void sameDatabase() throws SQLException {
        Identity s = Identity.of(source);
        Identity t = Identity.of(target);
        boolean bySystemId = s.systemId() != null && t.systemId() != null;
        boolean same = bySystemId
                ? s.systemId().equals(t.systemId()) && s.databaseOid().equals(t.databaseOid())
                : s.address().equals(t.address()) && s.databaseOid().equals(t.databaseOid());
        String how = bySystemId ? "system identifier and database oid"
                : "server address, port, database name and oid (pg_control_system() is not readable here)";
        if (same) {
            v.fail("same-database", "source db " + source.name() + " and target db " + target.name()
                    + " are the same database (compared by " + how + ")",
                    "point the target at the new server with 'ibex update db " + target.name() + " host=... dbname=...'");
        } else {
            v.pass("same-database", "source db " + source.name() + " and target db " + target.name()
                    + " are different databases (compared by " + how + ")");
        }
    }

    void version() {
        String detail = "target db " + target.name() + " runs PostgreSQL " + target.version() + ", source db "
                + source.name() + " runs " + source.version();
        if (target.serverVersion().compareTo(ServerVersion.OLDEST_TARGET) < 0) {
            v.fail("version", detail + ": ibex writes to targets from PostgreSQL " + ServerVersion.OLDEST_TARGET.majorText()
                    + " on", "use a target server at PostgreSQL " + ServerVersion.OLDEST_TARGET.majorText() + " or newer");
        } else if (target.major() < source.major()) {
            v.fail("version", detail + ": the target is older",
                    "use a target server at PostgreSQL " + source.version() + " or newer");
        } else {
            v.pass("version", detail);
        }
    }

    /** The way back of a cutover goes to the old server: older is expected, but it must still take writes. */
    void versionBack() {
        String detail = "target db " + target.name() + " runs PostgreSQL " + target.version() + ", source db "
                + source.name() + " runs " + source.version();
        if (target.serverVersion().compareTo(ServerVersion.OLDEST_TARGET) < 0) {
            v.fail("version", detail + ": ibex writes to targets from PostgreSQL "
                    + ServerVersion.OLDEST_TARGET.majorText() + " on, so the way back cannot reach it",
                    "cut over without --reverse (the old db stays as it was at the cutover)");
        } else {
            v.pass("version", detail);
        }
    }

    void extensions() throws SQLException {
        if (!source.serverVersion().has(SqlFeature.EXTENSIONS)) {
            v.pass("extensions", "source db " + source.name() + " runs PostgreSQL " + source.version()
                    + ", which has no extensions (contrib modules there are plain objects that copy schema carries)");
            return;
        }
        Map<String, String> used = pairs(source, "SELECT extname, extversion FROM pg_catalog.pg_extension "
                + "WHERE extname <> 'plpgsql' ORDER BY extname");
        Map<String, String> installed = pairs(target, "SELECT extname, extversion FROM pg_catalog.pg_extension");
        Map<String, String> available = pairs(target,
                "SELECT name, default_version FROM pg_catalog.pg_available_extensions");
        List<String> missing = new ArrayList<>();
        List<String> notInstalled = new ArrayList<>();
        for (String ext : used.keySet()) {
            if (installed.containsKey(ext)) {
                continue;
            }
            (available.containsKey(ext) ? notInstalled : missing).add(ext);
        }
        if (!missing.isEmpty()) {
            v.fail("extensions", "target db " + target.name() + " lacks extension(s) used on source db "
                    + source.name() + ": " + String.join(", ", missing),
                    "install them on the target server (package, or ask the provider), or drop them from the source");
        }
        if (!notInstalled.isEmpty()) {
            v.warn("extensions", "extension(s) " + String.join(", ", notInstalled) + " are available on target db "
                    + target.name() + " but not created",
                    "'ibex copy schema " + source.name() + " " + target.name() + "' creates them, or run CREATE EXTENSION "
                    + "as a user who may");
        }
        if (missing.isEmpty() && notInstalled.isEmpty()) {
            v.pass("extensions", used.isEmpty() ? "source db " + source.name() + " uses no extensions"
                    : "target db " + target.name() + " has " + String.join(", ", used.keySet()));
        }
    }

    void languages() throws SQLException {
        List<String> used = source.column("SELECT lanname FROM pg_catalog.pg_language WHERE lanispl ORDER BY lanname");
        List<String> present = target.column("SELECT lanname FROM pg_catalog.pg_language");
        List<String> installable = target.column("SELECT name FROM pg_catalog.pg_available_extensions");
        List<String> missing = new ArrayList<>();
        List<String> notInstalled = new ArrayList<>();
        for (String lang : used) {
            if (!present.contains(lang)) {
                (installable.contains(lang) ? notInstalled : missing).add(lang);
            }
        }
        if (!missing.isEmpty()) {
            v.fail("languages", "target db " + target.name() + " lacks procedural language(s) " + String.join(", ", missing),
                    "install them on the target server, or rewrite the functions that use them");
        }
        if (!notInstalled.isEmpty()) {
            v.warn("languages", "language(s) " + String.join(", ", notInstalled) + " are available on target db "
                    + target.name() + " but not created", "run CREATE EXTENSION for each on the target");
        }
        if (missing.isEmpty() && notInstalled.isEmpty()) {
            v.pass("languages", "target db " + target.name() + " has " + String.join(", ", used));
        }
    }

    // ---- the source alone ----------------------------------------------------------------------

    /** A source older than ibex reads is refused; an old one is told what it lacks and what ibex does instead. */
    void oldSource() {
        ServerVersion version = source.serverVersion();
        if (version.compareTo(ServerVersion.OLDEST) < 0) {
            v.fail("source-version", "source db " + source.name() + " runs PostgreSQL " + version.majorText()
                    + ", older than " + ServerVersion.OLDEST.majorText() + ", the oldest source ibex supports",
                    "upgrade it to 8.4 or later first (pg_dump and restore, or Bucardo 4)");
            return;
        }
        List<String> notes = SqlFeature.oldSourceNotes(version);
        v.pass("source-version", "source db " + source.name() + " runs PostgreSQL " + version.majorText()
                + (notes.isEmpty() ? "" : ": " + String.join("; ", notes)));
    }

    /** The capture triggers are PL/pgSQL, which 8.4 does not install by default. */
    void plpgsql() throws SQLException {
        if (Plpgsql.installed(source.connection())) {
            v.pass("plpgsql", "source db " + source.name() + " has PL/pgSQL");
        } else if ("t".equals(source.scalar("SELECT pg_catalog.pg_has_role(d.datdba, 'MEMBER') "
                + "FROM pg_catalog.pg_database d WHERE d.datname = current_database()")) || source.superuser()) {
            v.pass("plpgsql", "source db " + source.name() + " has no PL/pgSQL yet: ibex creates it when the sync "
                    + "starts (CREATE LANGUAGE plpgsql, which its user may run as the database owner)");
        } else {
            v.fail("plpgsql", "source db " + source.name() + " has no PL/pgSQL, which the capture triggers need, and user \""
                    + source.user() + "\" may not create it", Plpgsql.fix(source.db().spec().dbname()));
        }
    }

    void largeObjects() throws SQLException {
        String count;
        try {
            count = source.scalar(source.serverVersion().has(SqlFeature.LARGE_OBJECT_METADATA)
                    ? "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata"
                    : "SELECT count(DISTINCT loid) FROM pg_catalog.pg_largeobject");
        } catch (SQLException e) {
            if (!SqlState.INSUFFICIENT_PRIVILEGE.is(e)) {
                throw e;
            }
            v.warn("large-objects", "user \"" + source.user() + "\" may not read pg_largeobject on source db "
                    + source.name() + ": ibex does not replicate large objects, if there are any",
                    "check as a superuser: SELECT count(DISTINCT loid) FROM pg_largeobject");
            return;
        }
        if (!"0".equals(count)) {
            v.warn("large-objects", "source db " + source.name() + " holds " + count
                    + " large object(s) (pg_largeobject): ibex does not replicate them",
                    "move them by hand at cutover (pg_dump --large-objects) or store them in bytea columns");
        } else {
            v.pass("large-objects", "source db " + source.name() + " holds no large objects");
        }
    }

    /** PostgreSQL reports no free disk space over SQL, so the target side is always unknown. */
    void size() throws SQLException {
        String size = source.scalar("SELECT pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(current_database()))");
        v.pass("size", "source db " + source.name() + " is " + size
                + "; free space on the targets is unknown (PostgreSQL does not report it): "
                + "make sure each has room for " + size + " plus indexes");
    }

    private static Map<String, String> pairs(DbSession s, String sql) throws SQLException {
        Map<String, String> out = new TreeMap<>();
        try (var st = s.connection().createStatement(); var rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    /** What identifies a database; systemId is null where pg_control_system() cannot be read. */
    record Identity(String systemId, String databaseOid, String address) {

        static Identity of(DbSession s) throws SQLException {
            String systemId = null;
            if (s.serverVersion().has(SqlFeature.CONTROL_SYSTEM)) {
                try {
                    systemId = s.scalar("SELECT system_identifier::text FROM pg_catalog.pg_control_system()");
                } catch (SQLException e) {
                    systemId = null;
                }
            }
            String oid = s.scalar("SELECT oid::text FROM pg_catalog.pg_database WHERE datname = current_database()");
            String server = s.scalar("SELECT coalesce(host(inet_server_addr()), '') || ':' "
                    + "|| coalesce(inet_server_port()::text, '')");
            String address = (":".equals(server) ? s.db().spec().hostPort() : server) + "/"
                    + s.scalar("SELECT current_database()");
            return new Identity(systemId, oid, address);
        }
    }
}
