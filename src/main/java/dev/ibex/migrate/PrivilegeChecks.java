package dev.ibex.migrate;

import dev.ibex.repository.Relation;
import dev.ibex.repository.SyncPlan;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** What the connecting users may do: read and capture on sources, write and suppress on targets. */
final class PrivilegeChecks {

    private static final String TABLE_PRIVILEGE = """
            SELECT pg_catalog.has_table_privilege(c.oid, ?)
              FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ? AND c.relname = ?""";

    private static final String IBEX_SCHEMA = """
            SELECT pg_catalog.pg_has_role(n.nspowner, 'MEMBER'), pg_catalog.pg_get_userbyid(n.nspowner)
              FROM pg_catalog.pg_namespace n WHERE n.nspname = 'ibex'""";

    private final Validator v;
    private final SyncPlan plan;

    PrivilegeChecks(Validator v, SyncPlan plan) {
        this.v = v;
        this.plan = plan;
    }

    void source(DbSession s) throws SQLException {
        List<Relation> tables = plan.tables().stream().filter(r -> r.db().equals(s.name())).toList();
        // UPDATE: capture locks every table at once (LOCK TABLE ... ACCESS EXCLUSIVE needs UPDATE, DELETE or TRUNCATE)
        missing(s, tables, "source", List.of("SELECT", "UPDATE", "TRIGGER"), "tables");
        // each run reads the sequences' last_value and is_called
        List<Relation> sequences = plan.sequences().stream().filter(r -> r.db().equals(s.name())).toList();
        if (!sequences.isEmpty()) {
            missing(s, sequences, "source", List.of("SELECT"), "sequences");
        }
        ibexSchema(s);
    }

    void target(DbSession t) throws SQLException {
        missing(t, plan.tables(), "target", List.of("INSERT", "DELETE", "TRUNCATE"), "tables");
        if (!plan.sequences().isEmpty()) { // setval
            missing(t, plan.sequences(), "target", List.of("UPDATE"), "sequences");
        }
        suppression(t);
    }

    private void missing(DbSession s, List<Relation> tables, String role, List<String> privileges, String what)
            throws SQLException {
        List<String> lacking = new ArrayList<>();
        for (Relation r : tables) {
            List<String> not = new ArrayList<>();
            for (String p : privileges) {
                Boolean has = has(s, p, r);
                if (has != null && !has) {
                    not.add(p);
                }
            }
            if (!not.isEmpty()) {
                lacking.add(String.join("/", not) + " on " + r.display());
            }
        }
        if (lacking.isEmpty()) {
            v.pass("privileges", "user \"" + s.user() + "\" on " + role + " db " + s.name() + " has "
                    + String.join(", ", privileges) + " on the sync's " + what);
        } else {
            v.fail("privileges", "user \"" + s.user() + "\" on " + role + " db " + s.name() + " lacks "
                    + String.join("; ", lacking), "GRANT " + String.join(", ", privileges) + " ON those " + what + " TO \""
                    + s.user() + "\" (as their owner)");
        }
    }

    /** Null when the table does not exist (the tables check reports that). */
    private static Boolean has(DbSession s, String privilege, Relation r) throws SQLException {
        try (PreparedStatement ps = s.connection().prepareStatement(TABLE_PRIVILEGE)) {
            ps.setString(1, privilege);
            ps.setString(2, r.schema());
            ps.setString(3, r.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBoolean(1) : null;
            }
        }
    }

    /** Capture lives in schema ibex on the source: we must create it, or own it already. */
    private void ibexSchema(DbSession s) throws SQLException {
        try (PreparedStatement ps = s.connection().prepareStatement(IBEX_SCHEMA); ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                if (rs.getBoolean(1)) {
                    v.pass("privileges", "schema ibex on source db " + s.name() + " exists and belongs to \""
                            + rs.getString(2) + "\"");
                } else {
                    v.fail("privileges", "schema ibex on source db " + s.name() + " belongs to \"" + rs.getString(2)
                            + "\", not to \"" + s.user() + "\"",
                            "connect as its owner, or ALTER SCHEMA ibex OWNER TO \"" + s.user() + "\"");
                }
                return;
            }
        }
        if ("t".equals(s.scalar("SELECT pg_catalog.has_database_privilege(current_database(), 'CREATE')"))) {
            v.pass("privileges", "user \"" + s.user() + "\" may create schema ibex on source db " + s.name());
        } else {
            v.fail("privileges", "user \"" + s.user() + "\" may not create schema ibex on source db " + s.name(),
                    "GRANT CREATE ON DATABASE " + s.scalar("SELECT pg_catalog.quote_ident(current_database())")
                    + " TO \"" + s.user() + "\", or have its owner run CREATE SCHEMA ibex AUTHORIZATION \"" + s.user() + "\"");
        }
    }

    private void suppression(DbSession t) throws SQLException {
        ReplicaRole role = ReplicaRole.probe(t);
        if (role.available()) {
            v.pass("suppression", "target db " + t.name() + ": session_replication_role via " + role.description());
        } else {
            v.fail("suppression", "target db " + t.name() + ": user \"" + t.user()
                    + "\" cannot set session_replication_role, so target triggers and foreign keys would fire",
                    ReplicaRole.fixFor(t.user()));
        }
    }
}
