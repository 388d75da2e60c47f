package dev.ibex.status;

import dev.ibex.IbexException;
import dev.ibex.config.IbexConfig;
import dev.ibex.config.Setting;
import java.net.InetSocketAddress;
import java.util.Optional;

/** Where the controller serves its metrics: the metrics-address and metrics-port settings, checked. */
public record MetricsAddress(String host, int port) {

    /** None when metrics-port is not set: the endpoint is off unless asked for. */
    public static Optional<MetricsAddress> of(IbexConfig config) {
        String port = config.get(Setting.METRICS_PORT);
        if (port == null || port.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new MetricsAddress(config.get(Setting.METRICS_ADDRESS).trim(), port(port.trim())));
    }

    private static int port(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw IbexException.badInput("Metrics port \"" + text + "\" is not a TCP port (1 to 65535): fix "
                + "--metrics-port, " + Setting.METRICS_PORT.env() + " or " + Setting.METRICS_PORT.key()
                + " in the configuration file");
    }

    InetSocketAddress socket() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
