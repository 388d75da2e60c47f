package dev.ibex.migrate;

import dev.ibex.pg.Catalog;
import dev.ibex.pg.PgErrors;
import dev.ibex.pg.ServerVersion;
import dev.ibex.pg.SqlFeature;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Catalog lookups on the user's databases over short-lived read-only connections, for one
 * configuration command. A server older than ibex supports is refused; of an old one, the user is
 * told once what it lacks.
 */
public final class Catalogs {

    private final Consumer<String> out;
    private final Set<String> toldOld = new HashSet<>();

    public Catalogs(Consumer<String> out) {
        this.out = out;
    }

    public <T> T with(Db db, Function<Catalog, T> work) {
        try (Connection c = db.spec().connect("ibex")) {
            ServerVersion version = ServerVersion.of(c);
            version.requireSupportedSource(db.name());
            List<String> notes = SqlFeature.oldSourceNotes(version);
            if (!notes.isEmpty() && toldOld.add(db.name())) {
                out.accept("Note: db \"" + db.name() + "\" runs PostgreSQL " + version + ", which ibex reads as an old "
                        + "source: " + String.join("; ", notes));
            }
            c.setReadOnly(true);
            return work.apply(new Catalog(c, db.name()));
        } catch (SQLException e) {
            throw PgErrors.failed("Reading db \"" + db.name() + "\"", e);
        }
    }
}
