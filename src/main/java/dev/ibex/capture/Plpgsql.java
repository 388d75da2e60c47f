package dev.ibex.capture;

import dev.ibex.IbexException;
import dev.ibex.pg.SqlState;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * PL/pgSQL on a source: ibex's triggers need it, and PostgreSQL before 9.0 does not install it in
 * new databases. A database owner may create it there (pg_pltemplate marks it trusted).
 */
public final class Plpgsql {

    private static final String INSTALLED = "SELECT 1 FROM pg_catalog.pg_language WHERE lanname = 'plpgsql'";

    private Plpgsql() {
    }

    public static boolean installed(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); var rs = st.executeQuery(INSTALLED)) {
            return rs.next();
        }
    }

    /** What a superuser must run when the connecting user may not create it. */
    public static String fix(String dbname) {
        return "have a superuser (or the database owner) run: psql -d " + dbname + " -c 'CREATE LANGUAGE plpgsql'";
    }

    /** Creates PL/pgSQL when it is missing, in the caller's transaction; refuses in one line when not allowed. */
    static void ensure(Connection c, String db) throws SQLException {
        if (installed(c)) {
            return;
        }
        var savepoint = c.setSavepoint();
        try (Statement st = c.createStatement()) {
            st.execute(CaptureSql.plpgsql());
            c.releaseSavepoint(savepoint);
        } catch (SQLException e) {
            c.rollback(savepoint);
            if (!SqlState.INSUFFICIENT_PRIVILEGE.is(e)) {
                throw e;
            }
            throw IbexException.badInput("Db \"" + db + "\" has no PL/pgSQL, which ibex's capture triggers need, and its user "
                    + "may not create it: " + fix(c.getCatalog()));
        }
    }
}
