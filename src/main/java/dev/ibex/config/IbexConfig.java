package dev.ibex.config;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.pg.ConnectionSpec;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The resolved settings, from (highest first) command-line options, IBEX_* environment variables,
 * the YAML file, libpq's PG* variables and ~/.pgpass (repository connection only), and defaults.
 */
public final class IbexConfig {

    private final Map<Setting, String> values;
    private final Path file;
    private final Map<String, String> env;

    private IbexConfig(Map<Setting, String> values, Path file, Map<String, String> env) {
        this.values = values;
        this.file = file;
        this.env = env;
    }

    /**
     * @param options  values given on the command line (absent keys were not given)
     * @param explicitFile  --config, or null
     */
    public static IbexConfig resolve(Map<Setting, String> options, Path explicitFile, Map<String, String> env) {
        Path file = findFile(explicitFile, env);
        Map<Setting, String> fromFile = file == null ? Map.of() : readYaml(file);
        Map<Setting, String> values = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String v = options.get(s);
            if (v == null) {
                v = blankToNull(env.get(s.env()));
            }
            if (v == null) {
                v = fromFile.get(s);
            }
            if (v != null) {
                values.put(s, v);
            }
        }
        return new IbexConfig(values, file, env);
    }

    public static IbexConfig fromEnvironment() {
        return resolve(Map.of(), null, System.getenv());
    }

    /** The value of a setting, or its default (which may be null). */
    public String get(Setting s) {
        return values.getOrDefault(s, s.defaultValue());
    }

    /** These settings with {@code s} set to {@code value} (a verb's own option); null leaves it as it was. */
    public IbexConfig with(Setting s, String value) {
        if (value == null) {
            return this;
        }
        Map<Setting, String> changed = new EnumMap<>(Setting.class);
        changed.putAll(values);
        changed.put(s, value);
        return new IbexConfig(changed, file, env);
    }

    public Path file() {
        return file;
    }

    public Path piddir() {
        return Path.of(get(Setting.PIDDIR));
    }

    public Path logDir() {
        return Path.of(get(Setting.LOG_DIR));
    }

    /** The repository connection, with libpq's variables and ~/.pgpass as the last resort. */
    public ConnectionSpec repository() {
        String host = firstNonNull(values.get(Setting.DB_HOST), blankToNull(env.get("PGHOST")), "localhost");
        String portText = firstNonNull(values.get(Setting.DB_PORT), blankToNull(env.get("PGPORT")), "5432");
        int port;
        try {
            port = Integer.parseInt(portText.trim());
        } catch (NumberFormatException e) {
            throw IbexException.badInput("Repository port \"" + portText + "\" is not a number: give --db-port, "
                    + "IBEX_DB_PORT or db-port in " + describeFile());
        }
        String name = get(Setting.DB_NAME);
        String user = firstNonNull(values.get(Setting.DB_USER), blankToNull(env.get("PGUSER")),
                System.getProperty("user.name"));
        String pass = firstNonNull(values.get(Setting.DB_PASS), blankToNull(env.get("PGPASSWORD")), null);
        return new ConnectionSpec("repository", host, port, name, user, pass, null, null).withPgpass();
    }

    private String describeFile() {
        return file == null ? "the configuration file" : file.toString();
    }

    static Path findFile(Path explicit, Map<String, String> env) {
        if (explicit != null) {
            if (!Files.isReadable(explicit)) {
                throw IbexException.badInput("Configuration file " + explicit + " does not exist or is not readable: "
                        + "check the path given to --config");
            }
            return explicit;
        }
        String fromEnv = blankToNull(env.get("IBEX_CONFIG"));
        if (fromEnv != null) {
            Path p = Path.of(fromEnv);
            if (!Files.isReadable(p)) {
                throw IbexException.badInput("Configuration file " + p + " named by IBEX_CONFIG does not exist "
                        + "or is not readable: fix or unset IBEX_CONFIG");
            }
            return p;
        }
        List<Path> candidates = new ArrayList<>();
        String home = System.getProperty("ibex.home");
        if (home != null) {
            candidates.add(Path.of(home, "conf", "ibex.yml"));
        }
        candidates.add(Path.of(System.getProperty("user.home"), ".ibex.yml"));
        candidates.add(Path.of("/etc/ibex/ibex.yml"));
        return candidates.stream().filter(Files::isReadable).findFirst().orElse(null);
    }

    static Map<Setting, String> readYaml(Path file) {
        Object doc;
        try (Reader r = Files.newBufferedReader(file)) {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException | YAMLException e) {
            throw new IbexException(ExitCode.BAD_INPUT, "Cannot read configuration file " + file
                    + ": fix its YAML syntax", firstLine(e.getMessage()), e);
        }
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        if (doc == null) {
            return out;
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw IbexException.badInput("Configuration file " + file + " must be a mapping of settings ("
                    + String.join(", ", Setting.keys()) + ")");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Setting s = Setting.byKey(key);
            if (s == null) {
                throw IbexException.badInput("Unknown setting \"" + key + "\" in " + file + ": known settings are "
                        + String.join(", ", Setting.keys()));
            }
            if (e.getValue() != null) {
                out.put(s, String.valueOf(e.getValue()));
            }
        }
        return out;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return null;
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @SafeVarargs
    private static <T> T firstNonNull(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
