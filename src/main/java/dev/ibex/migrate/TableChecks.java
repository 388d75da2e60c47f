package dev.ibex.migrate;

import dev.ibex.pg.Catalog;
import dev.ibex.pg.ColumnDiff;
import dev.ibex.pg.Identifiers;
import dev.ibex.pg.ServerVersion;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import dev.ibex.repository.SyncPlan;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The sync's tables: present with the same columns everywhere, keyed, with names that fit. */
final class TableChecks {

    private final Validator v;
    private final SyncPlan plan;
    private final Map<String, DbSession> sessions;

    TableChecks(Validator v, SyncPlan plan, Map<String, DbSession> sessions) {
        this.v = v;
        this.plan = plan;
        this.sessions = sessions;
    }

    void run() throws SQLException {
        columns();
        keys();
        notValidChecks();
        identifierLength();
    }

    /** CHECK constraints added NOT VALID on a target: old source rows that break them cannot be copied. */
    private static final String NOT_VALID_CHECKS = """
            SELECT n.nspname, c.relname, string_agg(quote_ident(k.conname), ', ' ORDER BY k.conname)
              FROM pg_catalog.pg_constraint k
              JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE k.contype = 'c' AND NOT k.convalidated
             GROUP BY n.nspname, c.relname""";

    void notValidChecks() throws SQLException {
        for (Db target : v.allTargets()) {
            DbSession t = sessions.get(target.name());
            if (t == null || t.serverVersion().compareTo(ServerVersion.OLDEST_TARGET) < 0) {
                continue; // the version check failed it already, and convalidated is 9.1+
            }
            Map<String, String> notValid = new HashMap<>();
            try (PreparedStatement ps = t.connection().prepareStatement(NOT_VALID_CHECKS);
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    notValid.put(rs.getString(1) + "\0" + rs.getString(2), rs.getString(3));
                }
            }
            List<String> found = v.tables().stream().filter(r -> notValid.containsKey(r.schema() + "\0" + r.name()))
                    .map(r -> r.display() + " (" + notValid.get(r.schema() + "\0" + r.name()) + ")").toList();
            if (found.isEmpty()) {
                v.pass("constraints", "no table on target db " + target.name() + " has a NOT VALID CHECK constraint");
            } else {
                v.warn("constraints", "target db " + target.name() + " has NOT VALID CHECK constraints on "
                        + String.join(", ", found) + ": source rows that break them cannot be copied, and the sync "
                        + "stops at the first", "validate them on the target (ALTER TABLE ... VALIDATE CONSTRAINT ...) "
                        + "after cleaning the source rows, or drop them there");
            }
        }
    }

    /** Every table on its source and on every target, with the source's column names and types. */
    void columns() throws SQLException {
        List<Relation> tables = v.tables();
        for (Db target : v.allTargets()) {
            DbSession t = sessions.get(target.name());
            if (t == null) {
                continue;
            }
            int problems = 0;
            for (Relation r : tables) {
                DbSession s = sessions.get(r.db());
                if (s == null) {
                    continue;
                }
                Optional<List<Catalog.Column>> src = s.columns(r.schema(), r.name());
                if (src.isEmpty()) {
                    problems++;
                    v.fail("tables", "table " + r.display() + " does not exist on source db " + s.name(),
                            "create it, or remove it from the relgroup with 'ibex remove table " + r.display() + "'");
                    continue;
                }
                problems += compare(r, s, src.get(), t);
            }
            if (problems == 0) {
                v.pass("tables", tables.size() + " table(s) exist on target db " + target.name()
                        + " with the source's columns and types");
            }
        }
    }

    private int compare(Relation r, DbSession s, List<Catalog.Column> src, DbSession t) throws SQLException {
        Optional<List<Catalog.Column>> dst = t.columns(r.schema(), r.name());
        if (dst.isEmpty()) {
            v.fail("tables", "table " + r.display() + " does not exist on target db " + t.name(),
                    "run 'ibex copy schema " + s.name() + " " + t.name() + "' or create it by hand");
            return 1;
        }
        Map<ColumnDiff.Kind, List<String>> found = new EnumMap<>(ColumnDiff.Kind.class);
        for (ColumnDiff.Finding f : ColumnDiff.of(src, dst.get())) {
            found.computeIfAbsent(f.kind(), k -> new ArrayList<>()).add(f.kind() == ColumnDiff.Kind.TYPE_DIFFERS
                    ? f.column() + " is " + f.target().type() + " on the target, " + f.source().type() + " on the source"
                    : f.column());
        }
        List<String> missing = found.getOrDefault(ColumnDiff.Kind.MISSING, List.of());
        List<String> differ = found.getOrDefault(ColumnDiff.Kind.TYPE_DIFFERS, List.of());
        List<String> required = found.getOrDefault(ColumnDiff.Kind.EXTRA_REQUIRED, List.of());
        List<String> extra = found.getOrDefault(ColumnDiff.Kind.EXTRA, List.of());
        int problems = 0;
        String where = "table " + r.display() + " on target db " + t.name();
        if (!missing.isEmpty()) {
            problems++;
            v.fail("tables", where + " lacks column(s) " + String.join(", ", missing),
                    "add them on the target (ALTER TABLE " + r.quoted() + " ADD COLUMN ...)");
        }
        if (!differ.isEmpty()) {
            problems++;
            v.fail("tables", where + ": " + String.join("; ", differ), "give the target column the source's type");
        }
        if (!required.isEmpty()) {
            problems++;
            v.fail("tables", where + " has NOT NULL column(s) without default that the source lacks: "
                    + String.join(", ", required), "give them a default or drop them on the target");
        }
        if (!extra.isEmpty()) {
            problems++;
            v.warn("tables", where + " has extra column(s) " + String.join(", ", extra)
                    + " that will hold their defaults", "drop them on the target if they are not wanted");
        }
        return problems;
    }

    /** Delta targets get rows by key: every table they read needs one. */
    void keys() {
        if (plan.targets().isEmpty()) {
            v.pass("keys", "no delta targets: tables are copied whole to fullcopy targets");
            return;
        }
        List<Relation> keyless = v.tables().stream().filter(r -> !r.hasKey()).toList();
        for (Relation r : keyless) {
            v.fail("keys", "table " + r.display() + " has no primary key or usable unique index, "
                    + "so its changes cannot be replicated",
                    "add a primary key on the source (then 'ibex update table " + r.display()
                    + "'), or feed its targets as fullcopy");
        }
        if (keyless.isEmpty()) {
            v.pass("keys", "all " + v.tables().size() + " table(s) have a key");
        }
    }

    /** "delta_" + schema + "_" + table over 63 bytes is shortened with a hash: harmless but surprising. */
    void identifierLength() {
        List<String> longNames = new ArrayList<>();
        for (Relation r : plan.relations()) {
            String base = "delta_" + r.schema() + "_" + r.name();
            if (base.getBytes(StandardCharsets.UTF_8).length > Identifiers.MAX_BYTES) {
                longNames.add(r.display() + " -> " + Identifiers.derived("delta_", r.schema() + "_" + r.name()));
            }
        }
        if (longNames.isEmpty()) {
            v.pass("identifiers", "all capture names fit in " + Identifiers.MAX_BYTES + " bytes");
        } else {
            v.warn("identifiers", "capture names over " + Identifiers.MAX_BYTES + " bytes will be shortened with a hash: "
                    + String.join(", ", longNames), "nothing to do unless you look for them by name; shorter table "
                    + "names avoid it");
        }
    }
}
