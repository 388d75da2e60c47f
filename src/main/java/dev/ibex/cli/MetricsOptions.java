package dev.ibex.cli;

import dev.ibex.config.IbexConfig;
import dev.ibex.config.Setting;
import picocli.CommandLine.Option;

/** The options of the verbs that start a controller: where it serves its metrics, if at all. */
public class MetricsOptions {

    @Option(names = "--metrics-port", paramLabel = "PORT", description = "Serve Prometheus metrics on "
            + "http://ADDRESS:PORT/metrics (also IBEX_METRICS_PORT, metrics-port; default: no endpoint).")
    String port;

    @Option(names = "--metrics-address", paramLabel = "ADDRESS", description = "Address of the metrics endpoint "
            + "(also IBEX_METRICS_ADDRESS, metrics-address; default 127.0.0.1).")
    String address;

    /** The settings with these options over them. */
    IbexConfig over(IbexConfig config) {
        return config.with(Setting.METRICS_PORT, port).with(Setting.METRICS_ADDRESS, address);
    }
}
