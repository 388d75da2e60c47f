package dev.ibex.migrate;

import dev.ibex.pg.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * How a target session may set session_replication_role = replica (DESIGN.md, "Trigger suppression
 * on targets"), probed in the design's order. Used by validate and by compare --repair.
 * TODO: switch to the engine's suppression class once it lands on main, so the two never disagree.
 */
public record ReplicaRole(Route route, String function) {

    public enum Route {
        SUPERUSER("superuser: plain SET"),
        PARAMETER_PRIVILEGE("SET privilege on session_replication_role (PG 15+): plain SET"),
        AIVEN_EXTRAS("aiven_extras.session_replication_role(text)"),
        RDS_FUNCTION("rds_session_replication_role(text)"),
        NONE("none");

        private final String description;

        Route(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /** What a user must do when there is no route, naming the three ways. */
    public static String fixFor(String user) {
        return "let user \"" + user + "\" set session_replication_role in one of three ways: "
                + "GRANT SET ON PARAMETER session_replication_role TO \"" + user + "\" (PostgreSQL 15+, as superuser); "
                + "CREATE EXTENSION aiven_extras (Aiven); or install a SECURITY DEFINER function "
                + "rds_session_replication_role(text) and GRANT EXECUTE on it to \"" + user + "\" (RDS and others)";
    }

    private static final String EXECUTABLE_FUNCTION = """
            SELECT p.oid::pg_catalog.regprocedure::text, n.nspname
              FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE p.proname = ? AND (? IS NULL OR n.nspname = ?) AND p.pronargs = 1
               AND p.proargtypes[0] = 'pg_catalog.text'::pg_catalog.regtype
               AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE')
               AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
             ORDER BY n.nspname = 'public' DESC, n.nspname LIMIT 1""";

    public static ReplicaRole probe(DbSession s) throws SQLException {
        Connection c = s.connection();
        if (s.superuser()) {
            return new ReplicaRole(Route.SUPERUSER, null);
        }
        if (s.versionNum() >= 150000 && "t".equals(s.scalar(
                "SELECT pg_catalog.has_parameter_privilege(current_user, 'session_replication_role', 'SET')"))) {
            return new ReplicaRole(Route.PARAMETER_PRIVILEGE, null);
        }
        String aiven = function(c, "session_replication_role", "aiven_extras");
        if (aiven != null) {
            return new ReplicaRole(Route.AIVEN_EXTRAS, aiven);
        }
        String rds = function(c, "rds_session_replication_role", null);
        if (rds != null) {
            return new ReplicaRole(Route.RDS_FUNCTION, rds);
        }
        return new ReplicaRole(Route.NONE, null);
    }

    private static String function(Connection c, String name, String schema) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(EXECUTABLE_FUNCTION)) {
            ps.setString(1, name);
            ps.setString(2, schema);
            ps.setString(3, schema);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return Identifiers.quote(rs.getString(2)) + "." + Identifiers.quote(name);
            }
        }
    }

    public boolean available() {
        return route != Route.NONE;
    }

    public String description() {
        return function == null ? route.description() : function + "(text)";
    }

    /** Sets the role for this session; call {@link #reset} when the transaction has ended. */
    public void set(Connection c, String value) throws SQLException {
        if (route == Route.NONE) {
            throw new IllegalStateException("no way to set session_replication_role");
        }
        try (Statement st = c.createStatement()) {
            if (function == null) {
                st.execute("SET session_replication_role = " + Identifiers.literal(value));
            } else {
                st.execute("SELECT " + function + "(" + Identifiers.literal(value) + ")");
            }
        }
    }

    public void reset(Connection c) throws SQLException {
        set(c, "origin");
    }
}
