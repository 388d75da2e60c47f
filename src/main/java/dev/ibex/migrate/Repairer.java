package dev.ibex.migrate;

import dev.ibex.IbexException;
import dev.ibex.pg.Catalog;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * `ibex compare --repair`: for the differing keys of one table on one target, in one target
 * transaction with session_replication_role = replica, DELETE the keys and COPY the source's
 * current rows for them in. The target deletes first and the source is read afterwards, so a sync
 * applying the same keys meanwhile either waits for us or is newer than what we copy.
 */
public final class Repairer {

    private static final int KEYS_PER_CHUNK = 5_000;

    public record Repaired(long deleted, long inserted) {
    }

    private Repairer() {
    }

    public static Repaired repair(Db source, Db target, Relation table, List<RowDiff> diffs) {
        if (diffs.isEmpty()) {
            return new Repaired(0, 0);
        }
        try (DbSession src = DbSession.open(source, "ibex compare --repair");
             DbSession dst = DbSession.open(target, "ibex compare --repair")) {
            settings(src.connection());
            settings(dst.connection());
            Optional<List<Catalog.Column>> cols = src.columns(table.schema(), table.name());
            if (cols.isEmpty()) {
                throw IbexException.badInput("Cannot repair " + table.display() + ": it does not exist on source db "
                        + source.name());
            }
            TableSql sql = new TableSql(table, cols.get());
            ReplicaRole role = ReplicaRole.probe(dst);
            if (!role.available()) {
                throw IbexException.badInput("Cannot repair " + table.display() + " on target db " + target.name()
                        + " without trigger suppression: " + ReplicaRole.fixFor(dst.user()));
            }
            return apply(src.connection(), dst.connection(), role, sql, diffs.stream().map(RowDiff::key).toList());
        } catch (SQLException e) {
            throw PgErrors.failed("Repairing " + table.display() + " on target db " + target.name(), e);
        }
    }

    private static Repaired apply(Connection src, Connection dst, ReplicaRole role, TableSql sql, List<List<String>> keys)
            throws SQLException {
        dst.setAutoCommit(false);
        long deleted = 0;
        long inserted = 0;
        try {
            role.begin(dst);
            for (int from = 0; from < keys.size(); from += KEYS_PER_CHUNK) {
                List<List<String>> chunk = keys.subList(from, Math.min(keys.size(), from + KEYS_PER_CHUNK));
                deleted += delete(dst, sql, chunk);
                inserted += copy(src, dst, sql, chunk);
            }
            dst.commit();
        } catch (SQLException | RuntimeException e) {
            dst.rollback();
            throw e;
        } finally {
            dst.setAutoCommit(true);
            resetQuietly(role, dst);
        }
        return new Repaired(deleted, inserted);
    }

    /** Pooled or not, leave the session as we found it; a dead connection is being closed anyway. */
    private static void resetQuietly(ReplicaRole role, Connection dst) {
        try {
            role.end(dst);
        } catch (SQLException e) {
            // the caller closes this connection next
        }
    }

    private static long delete(Connection dst, TableSql sql, List<List<String>> keys) throws SQLException {
        try (PreparedStatement ps = dst.prepareStatement(sql.deleteKeys())) {
            int width = keys.get(0).size();
            for (int i = 0; i < width; i++) {
                final int col = i;
                ps.setArray(i + 1, dst.createArrayOf("text", keys.stream().map(k -> k.get(col)).toArray()));
            }
            return ps.executeUpdate();
        }
    }

    private static long copy(Connection src, Connection dst, TableSql sql, List<List<String>> keys) throws SQLException {
        try {
            CopyManager out = src.unwrap(PGConnection.class).getCopyAPI();
            CopyManager in = dst.unwrap(PGConnection.class).getCopyAPI();
            ByteArrayOutputStream rows = new ByteArrayOutputStream();
            out.copyOut(sql.copyOut(keys), rows);
            return in.copyIn(sql.copyIn(), new ByteArrayInputStream(rows.toByteArray()));
        } catch (IOException e) {
            throw new SQLException("copying rows failed: " + e.getMessage(), e);
        }
    }

    private static void settings(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String set : TableSql.settings(ServerVersion.of(c))) {
                st.execute(set);
            }
        }
    }
}
