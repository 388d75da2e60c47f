package dev.ibex.pg;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Small connection pools, one per db, created on first use. Every connection speaks the same text
 * dialect ({@link SessionSettings}) so that keys and COPY rows read on a source mean the same on
 * a target.
 */
public final class DbPools implements AutoCloseable {

    public static final int MAX_POOL_SIZE = 4;
    public static final String APPLICATION_NAME = "ibex";
    /**
     * How long a borrower waits on the pool before a connection of its own asks the db directly.
     * The pool retries a refused connect until its whole connection timeout has passed, so a db
     * that is down (stopped, its port closed) would cost that much on its first use; a connect of
     * our own fails in milliseconds there, and a db that is only slow to answer keeps its full wait.
     */
    static final long FIRST_WAIT_MILLIS = 1000;

    private final Map<ConnectionSpec, HikariDataSource> pools = new ConcurrentHashMap<>();
    private final long connectionTimeoutMillis;
    private volatile String applicationName = APPLICATION_NAME;

    public DbPools() {
        this((ConnectionSpec.CONNECT_TIMEOUT_SECONDS + 2) * 1000L);
    }

    /** @param connectionTimeoutMillis how long a borrower waits for a database that does not answer */
    public DbPools(long connectionTimeoutMillis) {
        this.connectionTimeoutMillis = connectionTimeoutMillis;
    }

    /**
     * The application_name of the connections of pools made from now on; a controller marks its
     * own ("ibex c12") so that another controller taking its syncs over can cut them off.
     */
    public DbPools applicationName(String name) {
        this.applicationName = name;
        return this;
    }

    public String applicationName() {
        return applicationName;
    }

    /** A pooled connection to {@code db}, or an error naming the db, the cause and the fix. */
    public Connection connection(Connectable db) {
        ConnectionSpec spec = db.spec();
        HikariDataSource pool = pools.computeIfAbsent(spec, this::create);
        try {
            return borrow(pool, spec);
        } catch (SQLException e) {
            SQLException cause = e.getCause() instanceof SQLException se ? se : e;
            throw PgErrors.connectFailed(spec, cause);
        }
    }

    /**
     * From the pool; after {@link #FIRST_WAIT_MILLIS} without a connection, while the pool is not
     * full (so it waits for a new connection, not a busy one), the db is asked directly: its
     * failure is the borrower's at once, and if it answers the wait goes on for the rest of the
     * connection timeout.
     */
    private Connection borrow(HikariDataSource source, ConnectionSpec spec) throws SQLException {
        if (connectionTimeoutMillis <= 2 * FIRST_WAIT_MILLIS || !(source.getHikariPoolMXBean() instanceof HikariPool pool)) {
            return source.getConnection();
        }
        try {
            return pool.getConnection(FIRST_WAIT_MILLIS);
        } catch (SQLTransientConnectionException notYet) {
            if (pool.getActiveConnections() < MAX_POOL_SIZE) {
                spec.connect(applicationName).close();
            }
            return pool.getConnection(connectionTimeoutMillis - FIRST_WAIT_MILLIS);
        }
    }

    private HikariDataSource create(ConnectionSpec spec) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("ibex-" + spec.label());
        config.setDataSource(SessionSettings.dataSource(spec.jdbcUrl(), spec.properties(applicationName)));
        config.setMaximumPoolSize(MAX_POOL_SIZE);
        config.setMinimumIdle(0);
        config.setIdleTimeout(120_000);
        config.setConnectionTimeout(Math.max(250, connectionTimeoutMillis));
        // a db that is down when the pool is made must not fail here: its sync retries later
        config.setInitializationFailTimeout(-1);
        return new HikariDataSource(config);
    }

    /** Closes the pool of one db, e.g. after its connection settings changed. */
    public void close(Connectable db) {
        HikariDataSource pool = pools.remove(db.spec());
        if (pool != null) {
            pool.close();
        }
    }

    public void closeAll() {
        pools.values().forEach(HikariDataSource::close);
        pools.clear();
    }

    @Override
    public void close() {
        closeAll();
    }
}
