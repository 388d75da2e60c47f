package dev.ibex.migrate;

import dev.ibex.IbexException;
import dev.ibex.replicate.TriggerSuppression;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * How a target session may set session_replication_role = replica (DESIGN.md, "Trigger suppression
 * on targets"): the engine's {@link TriggerSuppression} probe, so validate, compare --repair and the
 * sync runs never disagree, with the route named for validate's report.
 */
public record ReplicaRole(Route route, TriggerSuppression suppression) {

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
                + "CREATE EXTENSION aiven_extras (Aiven); or, as the service's administrator (RDS and others), "
                + "psql -v grantee=" + user + " -f sql/shims/rds_session_replication_role.sql";
    }

    public static ReplicaRole probe(DbSession s) throws SQLException {
        TriggerSuppression t;
        try {
            t = TriggerSuppression.probe(s.connection(), s.name());
        } catch (IbexException none) {
            return new ReplicaRole(Route.NONE, null);
        }
        Route route = switch (t.mode()) {
            case SET -> s.superuser() ? Route.SUPERUSER : Route.PARAMETER_PRIVILEGE;
            case AIVEN_EXTRAS -> Route.AIVEN_EXTRAS;
            case RDS_SHIM -> Route.RDS_FUNCTION;
        };
        return new ReplicaRole(route, t);
    }

    public boolean available() {
        return suppression != null;
    }

    public String description() {
        return available() && suppression.function() != null ? suppression.function() + "(text)" : route.description();
    }

    /** First statement of a transaction (autocommit off) in which target triggers must not fire. */
    public void begin(Connection c) throws SQLException {
        if (!available()) {
            throw new IllegalStateException("no way to set session_replication_role");
        }
        suppression.begin(c);
    }

    /** After that transaction ended: a session-wide setting goes back to origin. */
    public void end(Connection c) throws SQLException {
        if (available()) {
            suppression.end(c);
        }
    }
}
