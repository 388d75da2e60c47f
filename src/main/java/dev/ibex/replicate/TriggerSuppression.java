package dev.ibex.replicate;

import dev.ibex.pg.Identifiers;
import dev.ibex.pg.SqlState;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Turns off a target's triggers, rules and foreign-key checks for one apply transaction
 * (session_replication_role = replica), in the first way the connected user may.
 */
public final class TriggerSuppression {

    /** How suppression works on one target; the word is stored in ibex.sync_state.suppression. */
    public enum Mode {
        /** superuser, or GRANT SET ON PARAMETER session_replication_role (PG 15+): SET LOCAL */
        SET("set"),
        /** Aiven's aiven_extras.session_replication_role(text) */
        AIVEN_EXTRAS("aiven_extras"),
        /** sql/shims/rds_session_replication_role.sql */
        RDS_SHIM("rds_shim");

        public final String word;

        Mode(String word) {
            this.word = word;
        }
    }

    private final Mode mode;
    private final String function;

    private TriggerSuppression(Mode mode, String function) {
        this.mode = mode;
        this.function = function;
    }

    public Mode mode() {
        return mode;
    }

    /** The function called (schema.name, quoted where needed), or null for a plain SET. */
    public String function() {
        return function;
    }

    /** Superuser, or (PG 15+) the SET privilege on the parameter; %s is where the latter goes. */
    private static final String PROBE = """
            SELECT current_setting('is_superuser') = 'on' %s,
                   (SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'aiven_extras' AND p.proname = 'session_replication_role'
                      AND p.proargtypes = '25'::pg_catalog.oidvector
                      AND has_schema_privilege(n.oid, 'USAGE') AND has_function_privilege(p.oid, 'EXECUTE')),
                   (SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                    -- through search_path, else in public where the shipped shim puts it (a session
                    -- may have pinned search_path to pg_catalog); (text) is argument type 25;
                    -- no to_regprocedure: old servers are written to as well (9.4 has it)
                    WHERE p.proname = 'rds_session_replication_role' AND p.proargtypes = '25'::pg_catalog.oidvector
                      AND (pg_catalog.pg_function_is_visible(p.oid) OR n.nspname = 'public')
                      AND has_function_privilege(p.oid, 'EXECUTE')
                      -- found through search_path, where anyone may create functions on older
                      -- servers: only a SECURITY DEFINER function of a privileged owner is the shim
                      AND p.prosecdef
                      AND (EXISTS (SELECT 1 FROM pg_catalog.pg_roles o WHERE o.oid = p.proowner AND o.rolsuper)
                           OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = 'rds_superuser'
                                      AND pg_catalog.pg_has_role(p.proowner, r.oid, 'MEMBER'))
                           %s)
                    ORDER BY pg_catalog.pg_function_is_visible(p.oid) DESC LIMIT 1)""";

    /** has_parameter_privilege does not exist before 15, not even in a branch that is never taken. */
    private static final String PARAMETER_PRIVILEGE =
            "OR has_parameter_privilege(current_user, 'session_replication_role', 'SET')";
    private static final String OWNER_PARAMETER_PRIVILEGE =
            "OR has_parameter_privilege(p.proowner, 'session_replication_role', 'SET')";

    /**
     * Finds how this connection's user may suppress triggers, or refuses with what to set up.
     *
     * @param db the target's name, for the message
     */
    public static TriggerSuppression probe(Connection c, String db) throws SQLException {
        boolean pg15;
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int >= 150000")) {
            rs.next();
            pg15 = rs.getBoolean(1);
        }
        String probe = PROBE.formatted(pg15 ? PARAMETER_PRIVILEGE : "", pg15 ? OWNER_PARAMETER_PRIVILEGE : "");
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(probe)) {
            rs.next();
            if (rs.getBoolean(1)) {
                return new TriggerSuppression(Mode.SET, null);
            }
            if (rs.getString(2) != null) {
                return new TriggerSuppression(Mode.AIVEN_EXTRAS, rs.getString(2));
            }
            if (rs.getString(3) != null) {
                return new TriggerSuppression(Mode.RDS_SHIM, rs.getString(3));
            }
        } finally {
            if (!c.getAutoCommit()) {
                c.rollback();
            }
        }
        throw SqlState.INSUFFICIENT_PRIVILEGE.refusal("Cannot turn off triggers and foreign keys on db \"" + db
                + "\" for user " + currentUser(c) + ": make the user superuser or GRANT SET ON PARAMETER "
                + "session_replication_role TO it (PostgreSQL 15+), or on Aiven let it execute "
                + "aiven_extras.session_replication_role(text), or have an administrator run "
                + "sql/shims/rds_session_replication_role.sql for it");
    }

    /** First statement of an apply transaction. */
    public void begin(Connection c) throws SQLException {
        exec(c, beginSql());
    }

    /** First statement of an apply transaction, sent in the same round trip as {@code more}. */
    public void begin(Connection c, String more) throws SQLException {
        exec(c, beginSql(more));
    }

    /** The first statements of an apply transaction, {@code more} after them: for a caller that sends more still. */
    String beginSql(String more) {
        return beginSql() + "; " + more;
    }

    private String beginSql() {
        return mode == Mode.SET ? "SET LOCAL session_replication_role = replica"
                : "SELECT " + function + "(" + Identifiers.literal("replica") + ")";
    }

    /**
     * After the apply transaction committed or rolled back: the functions set the role for the
     * session, and a pooled connection must go back clean.
     */
    public void end(Connection c) throws SQLException {
        if (mode == Mode.SET) {
            return;
        }
        exec(c, "SELECT " + function + "(" + Identifiers.literal("origin") + ")");
        if (!c.getAutoCommit()) {
            c.commit();
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_user")) {
            rs.next();
            return Identifiers.quote(rs.getString(1));
        }
    }
}
