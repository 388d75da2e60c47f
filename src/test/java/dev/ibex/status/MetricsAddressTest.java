package dev.ibex.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.IbexException;
import dev.ibex.config.IbexConfig;
import dev.ibex.config.Setting;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MetricsAddressTest {

    private static Optional<MetricsAddress> of(Map<Setting, String> options, Map<String, String> env) {
        return MetricsAddress.of(IbexConfig.resolve(options, null, env));
    }

    @Test
    void offUnlessAPortIsGiven() {
        assertEquals(Optional.empty(), of(Map.of(), Map.of()));
        assertEquals(Optional.empty(), of(Map.of(Setting.METRICS_ADDRESS, "0.0.0.0"), Map.of()));
    }

    @Test
    void loopbackUnlessAnAddressIsGiven() {
        assertEquals(Optional.of(new MetricsAddress("127.0.0.1", 9187)),
                of(Map.of(Setting.METRICS_PORT, "9187"), Map.of()));
        assertEquals(Optional.of(new MetricsAddress("0.0.0.0", 9188)),
                of(Map.of(Setting.METRICS_ADDRESS, "0.0.0.0"), Map.of("IBEX_METRICS_PORT", "9188")));
    }

    @Test
    void aStartOptionOverridesTheEnvironment() {
        IbexConfig config = IbexConfig.resolve(Map.of(), null, Map.of("IBEX_METRICS_PORT", "9188"))
                .with(Setting.METRICS_PORT, "9190").with(Setting.METRICS_ADDRESS, null);
        assertEquals(Optional.of(new MetricsAddress("127.0.0.1", 9190)), MetricsAddress.of(config));
    }

    @Test
    void aBadPortIsOneLineNamingTheOption() {
        for (String bad : new String[] {"0", "65536", "http"}) {
            IbexException e = assertThrows(IbexException.class, () -> of(Map.of(Setting.METRICS_PORT, bad), Map.of()));
            assertTrue(e.getMessage().contains("--metrics-port"), e.getMessage());
        }
    }
}
