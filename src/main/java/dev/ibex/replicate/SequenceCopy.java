package dev.ibex.replicate;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.DbPools;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.SqlState;
import dev.ibex.repository.Db;
import dev.ibex.repository.Relation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Triggers do not see sequences: every run sets each sequence of the relgroup, on every target
 * that took the batch, to the last_value and is_called the source reads in the run's transaction
 * (the same on 9.6 and 10+, unlike the pg_sequence columns).
 */
final class SequenceCopy {

    private static final String READ = "SELECT last_value, is_called FROM %s";
    private static final String SET = "SELECT pg_catalog.setval(?::regclass, ?, ?)";

    private record Value(Relation sequence, long lastValue, boolean isCalled) {
    }

    private final DbPools pools;
    private final Db source;
    private final RunRecord run;

    SequenceCopy(DbPools pools, Db source, RunRecord run) {
        this.pools = pools;
        this.source = source;
        this.run = run;
    }

    /** @param s the batch's source transaction */
    void copy(Connection s, List<Relation> sequences, List<Db> targets) throws SQLException {
        if (sequences.isEmpty() || targets.isEmpty()) {
            return;
        }
        List<Value> values = read(s, sequences);
        for (Db t : targets) {
            set(t, values);
        }
    }

    /** A sequence missing on the source fails the run: no target can get its value. */
    private List<Value> read(Connection s, List<Relation> sequences) throws SQLException {
        List<Value> values = new ArrayList<>();
        for (Relation r : sequences) {
            try (Statement st = s.createStatement(); ResultSet rs = st.executeQuery(READ.formatted(r.quoted()))) {
                rs.next();
                values.add(new Value(r, rs.getLong(1), rs.getBoolean(2)));
            } catch (SQLException e) {
                if (SqlState.UNDEFINED_TABLE.is(e)) {
                    throw new IbexException(ExitCode.BAD_INPUT, "Sequence " + r.display()
                            + " does not exist on source db \"" + source.name()
                            + "\": create it there, or remove it from the relgroup");
                }
                throw e;
            }
        }
        return values;
    }

    /**
     * One sequence failing on a target is that target's error; the others are set still. setval is
     * not transactional, and the pool replaces a connection another controller ended (taking the
     * sync over) with a fresh one that nothing ends: so the claim must still hold once the
     * connection is open, else a run that stood still after its read sets an older value back.
     */
    private void set(Db t, List<Value> values) {
        Connection c;
        try {
            c = pools.connection(t);
        } catch (IbexException e) {
            run.error(PgErrors.describe(TargetSession.applyingTo(t), e));
            return;
        }
        try (c; PreparedStatement ps = c.prepareStatement(SET)) {
            run.checkFence();
            c.setAutoCommit(true);
            for (Value v : values) {
                ps.setString(1, v.sequence().quoted());
                ps.setLong(2, v.lastValue());
                ps.setBoolean(3, v.isCalled());
                try {
                    ps.executeQuery().close();
                    run.sequenceSet();
                } catch (SQLException e) {
                    run.error(failure(v.sequence(), t, e));
                }
            }
        } catch (SQLException e) {
            run.error(PgErrors.describe(TargetSession.applyingTo(t), e));
        }
    }

    private static String failure(Relation r, Db t, SQLException e) {
        return SqlState.UNDEFINED_TABLE.is(e)
                ? "Sequence " + r.display() + " does not exist on target db \"" + t.name()
                        + "\": create it there (ibex copy schema copies sequences)"
                : "Setting sequence " + r.display() + " on target db \"" + t.name() + "\" failed: "
                        + PgErrors.message(e);
    }
}
