package dev.ibex.status;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.DbPools;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's Prometheus endpoint: GET /metrics on the metrics address. Scrapes are answered
 * one at a time on one daemon thread, so a slow repository holds up only the next scrape, and a
 * controller that stops is not kept alive by it.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    public static final String PATH = "/metrics";

    private final HttpServer server;
    private final ExecutorService executor;
    private final IbexMetrics metrics;

    private MetricsEndpoint(HttpServer server, ExecutorService executor, IbexMetrics metrics) {
        this.server = server;
        this.executor = executor;
        this.metrics = metrics;
    }

    /**
     * Binds the address and serves until {@link #close}; fails with one line when the address is
     * taken or not this machine's.
     *
     * @param syncsHeld  how many syncs the controller runs a worker for
     */
    public static MetricsEndpoint start(MetricsAddress address, ConnectionSpec spec, DbPools pools,
                                        IntSupplier syncsHeld) {
        HttpServer server;
        try {
            server = HttpServer.create(address.socket(), 0);
        } catch (IOException e) {
            throw IbexException.badInput("Cannot serve metrics on " + address + " (" + e.getMessage()
                    + "): choose another --metrics-port or --metrics-address");
        }
        IbexMetrics metrics;
        try {
            metrics = new IbexMetrics(spec, pools, syncsHeld);
        } catch (RuntimeException e) {
            server.stop(0);
            throw e;
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ibex-metrics");
            t.setDaemon(true);
            return t;
        });
        MetricsEndpoint endpoint = new MetricsEndpoint(server, executor, metrics);
        server.createContext(PATH, endpoint::handle);
        server.setExecutor(executor);
        startOn(executor, server);
        log.info("Serving metrics on http://{}{}", address, PATH);
        return endpoint;
    }

    /**
     * Starts the server from the daemon thread: the JDK's dispatcher thread ("HTTP-Dispatcher")
     * takes its daemon flag from the thread that starts it, so it cannot keep the JVM alive either.
     */
    private static void startOn(ExecutorService executor, HttpServer server) {
        try {
            executor.submit(server::start).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while starting the metrics endpoint", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Cannot start the metrics endpoint", e.getCause());
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body;
            int code = 200;
            try {
                body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
            } catch (RuntimeException e) {
                // a bug in a meter must not end the endpoint: the scrape fails, the next may not
                log.warn("Metrics scrape failed", e);
                body = ("scrape failed: " + e + "\n").getBytes(StandardCharsets.UTF_8);
                code = 500;
            }
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(code, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        } finally {
            exchange.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        metrics.close();
        log.info("Metrics endpoint closed");
    }
}
