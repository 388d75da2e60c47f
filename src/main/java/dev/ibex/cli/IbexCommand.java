package dev.ibex.cli;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.config.IbexConfig;
import dev.ibex.config.Setting;
import dev.ibex.pg.DriverLog;
import dev.ibex.pg.PgErrors;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The top-level command: global options, shared by every verb before or after it. */
@Command(name = "ibex",
        versionProvider = IbexCommand.Version.class,
        description = {"Trigger-based PostgreSQL replication, in the tradition of Bucardo.", ""},
        synopsisSubcommandLabel = "VERB",
        subcommands = {
            HelpVerb.class,
            InstallCommand.class,
            UpgradeCommand.class,
            AddCommand.class,
            UpdateCommand.class,
            RemoveCommand.class,
            ListCommand.class,
            ValidateCommand.class,
            CopyCommand.class,
            CompareCommand.class,
            CutoverCommand.class,
            StartCommand.class,
            StopCommand.class,
            RestartCommand.class,
            ReloadCommand.class,
            KickCommand.class,
            StatusCommand.class,
            ActivateCommand.class,
            DeactivateCommand.class,
            PauseCommand.class,
            ResumeCommand.class,
            SetCommand.class,
            ShowCommand.class,
            DemoCommand.class,
        },
        footer = {"", "Run 'ibex help VERB' for one verb's words. Exit codes: 0 ok, 1 bad input, "
                + "2 a sync run failed, 3 database error, 4 internal error."})
public class IbexCommand implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--help", usageHelp = true, description = "Show this help.")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "Print the version.")
    boolean version;

    @Option(names = {"-h", "--db-host", "--dbhost"}, scope = ScopeType.INHERIT, paramLabel = "HOST",
            description = "Repository host (also IBEX_DB_HOST, PGHOST).")
    String dbHost;

    @Option(names = {"-p", "--db-port", "--dbport"}, scope = ScopeType.INHERIT, paramLabel = "PORT",
            description = "Repository port (also IBEX_DB_PORT, PGPORT).")
    String dbPort;

    @Option(names = {"-d", "--db-name", "--dbname"}, scope = ScopeType.INHERIT, paramLabel = "NAME",
            description = "Repository database (also IBEX_DB_NAME; default ibex).")
    String dbName;

    @Option(names = {"-U", "--db-user", "--dbuser"}, scope = ScopeType.INHERIT, paramLabel = "USER",
            description = "Repository user (also IBEX_DB_USER, PGUSER).")
    String dbUser;

    @Option(names = {"-P", "--db-pass", "--dbpass"}, scope = ScopeType.INHERIT, paramLabel = "PASS",
            description = "Repository password (also IBEX_DB_PASS, PGPASSWORD, ~/.pgpass).")
    String dbPass;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "YAML settings file (also IBEX_CONFIG; else conf/ibex.yml, ~/.ibex.yml, /etc/ibex/ibex.yml).")
    Path configFile;

    @Option(names = {"--piddir", "--pid-dir"}, scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Directory of the controller's pid file.")
    String piddir;

    @Option(names = {"--log-dir", "--log-destination"}, scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Directory of the controller's log file.")
    String logDir;

    @Option(names = "--log-level", scope = ScopeType.INHERIT, paramLabel = "LEVEL", converter = LogLevel.class,
            description = "error, warn, info, debug or trace.")
    String logLevel;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Show stack traces of errors.")
    boolean debug;

    @Option(names = {"--quiet", "-q"}, scope = ScopeType.INHERIT, description = "Print less.")
    boolean quiet;

    private IbexConfig config;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing verb");
    }

    /** The settings, resolved once per invocation. */
    public IbexConfig config() {
        if (config == null) {
            Map<Setting, String> given = new EnumMap<>(Setting.class);
            put(given, Setting.DB_HOST, dbHost);
            put(given, Setting.DB_PORT, dbPort);
            put(given, Setting.DB_NAME, dbName);
            put(given, Setting.DB_USER, dbUser);
            put(given, Setting.DB_PASS, dbPass);
            put(given, Setting.PIDDIR, piddir);
            put(given, Setting.LOG_DIR, logDir);
            put(given, Setting.LOG_LEVEL, logLevel);
            IbexConfig resolved = IbexConfig.resolve(given, configFile, System.getenv());
            String level = resolved.get(Setting.LOG_LEVEL);
            if (!LogLevel.valid(level)) {
                throw IbexException.badInput("Invalid log level \"" + level + "\" (from IBEX_LOG_LEVEL or log-level in "
                        + (resolved.file() == null ? "the configuration file" : resolved.file()) + "): use "
                        + LogLevel.NAMES);
            }
            config = resolved;
        }
        return config;
    }

    /** --log-level: one of the levels the controller's log knows, in any case. */
    static final class LogLevel implements CommandLine.ITypeConverter<String> {
        static final List<String> LEVELS = List.of("error", "warn", "info", "debug", "trace");
        static final String NAMES = "error, warn, info, debug or trace";

        static boolean valid(String level) {
            return level != null && LEVELS.contains(level.trim().toLowerCase(java.util.Locale.ROOT));
        }

        @Override
        public String convert(String value) {
            if (!valid(value)) {
                throw new CommandLine.TypeConversionException("\"" + value + "\" is not a log level: use " + NAMES);
            }
            return value.trim();
        }
    }

    public boolean debug() {
        return debug;
    }

    public boolean quiet() {
        return quiet;
    }

    private static void put(Map<Setting, String> m, Setting s, String v) {
        if (v != null) {
            m.put(s, v);
        }
    }

    public static CommandLine commandLine() {
        DriverLog.quiet();
        CommandLine cl = new CommandLine(new IbexCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpWidth(120); // the verbs' Bucardo-style synopses are pre-formatted lines
        cl.setExecutionExceptionHandler(IbexCommand::handleExecutionException);
        cl.setParameterExceptionHandler(IbexCommand::handleParameterException);
        cl.getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_COMMAND_LIST, IbexCommand::verbList);
        return cl;
    }

    /** Bucardo's misspellings of verbs: accepted, as Bucardo accepts them, but not listed. */
    static final Set<String> TYPO_ALIASES = Set.of("uprgade", "ugprade", "udpate", "lsit", "liast", "lisy", "lit", "strt");

    /** The verbs, each with its summary sentence; picocli's own list would show the typo aliases. */
    private static String verbList(Help help) {
        int names = 28;
        TextTable table = TextTable.forColumns(help.colorScheme(),
                new Column(names, 2, Column.Overflow.SPAN), new Column(help.commandSpec().usageMessage().width() - names, 1, Column.Overflow.WRAP));
        for (Help verb : help.subcommands().values()) {
            CommandSpec spec = verb.commandSpec();
            if (spec.usageMessage().hidden()) {
                continue;
            }
            String words = Stream.concat(Stream.of(spec.name()),
                    Arrays.stream(spec.aliases()).filter(a -> !TYPO_ALIASES.contains(a))).collect(Collectors.joining(", "));
            table.addRowValues(words, summary(spec));
        }
        return table.toString();
    }

    /** The verb's header if it has one, else the first line of its description. */
    static String summary(CommandSpec verb) {
        String[] header = verb.usageMessage().header();
        return header.length > 0 ? header[0] : verb.usageMessage().description()[0];
    }

    /** Runs the CLI and returns the exit code; never calls System.exit, so tests can call it. */
    public static int run(String... args) {
        return commandLine().execute(rewriteVerb(args));
    }

    /** Bucardo accepts `add_sync` for `add sync` and `reload_config` for `reload config`. */
    static String[] rewriteVerb(String[] args) {
        List<String> out = new ArrayList<>(Arrays.asList(args));
        for (int i = 0; i < out.size(); i++) {
            String a = out.get(i);
            if (a.startsWith("-")) {
                continue;
            }
            int us = a.indexOf('_');
            if (us > 0 && !a.contains("=") && !a.contains(":")
                    && List.of("add", "update", "remove", "list", "reload", "status").contains(a.substring(0, us))) {
                out.set(i, a.substring(0, us));
                out.add(i + 1, a.substring(us + 1));
            }
            break;
        }
        return out.toArray(String[]::new);
    }

    private static int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult pr) {
        IbexCommand root = cl.getCommandSpec().root().userObject() instanceof IbexCommand r ? r : null;
        boolean debug = root != null && root.debug;
        PrintWriter err = cl.getErr();
        if (e instanceof IbexException ie) {
            err.println(oneLine(ie.getMessage()));
            if (ie.causeLine() != null && !ie.causeLine().isBlank()) {
                err.println("  " + oneLine(ie.causeLine()));
            }
            if (debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return ie.exitCode();
        }
        err.println(oneLine("Internal error: " + e + " (run again with --debug for details)"));
        if (debug) {
            e.printStackTrace(err);
        } else if (PgErrors.rootCause(e) != e) {
            err.println("  " + oneLine(String.valueOf(PgErrors.rootCause(e))));
        }
        err.flush();
        return ExitCode.INTERNAL.code();
    }

    private static int handleParameterException(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String verb = cl.getCommandName();
        if (verb.equals("ibex") && e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-")) {
            err.println(oneLine("Unknown verb \"" + u.getUnmatched().get(0) + "\": see 'ibex --help'"));
            err.flush();
            return ExitCode.BAD_INPUT.code();
        }
        err.println(oneLine(e.getMessage() + (verb.equals("ibex") ? ": see 'ibex --help'" : ": see 'ibex help " + verb + "'")));
        err.flush();
        return ExitCode.BAD_INPUT.code();
    }

    /**
     * An error message as one line: the words a user typed may hold line breaks or other control
     * characters (a name pasted with its newline), which are shown escaped, as \\n or \\u0000.
     */
    static String oneLine(String message) {
        StringBuilder sb = new StringBuilder(message.length());
        message.codePoints().forEach(c -> {
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029 || c == 0x85) {
                        sb.append(String.format("\\u%04x", c));
                    } else {
                        sb.appendCodePoint(c);
                    }
                }
            }
        });
        return sb.toString();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = IbexCommand.class.getPackage().getImplementationVersion();
            return new String[] {"ibex version " + (v == null ? "development" : v)};
        }
    }
}
