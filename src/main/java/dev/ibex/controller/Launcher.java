package dev.ibex.controller;

import dev.ibex.ExitCode;
import dev.ibex.IbexException;
import dev.ibex.config.IbexConfig;
import dev.ibex.config.Setting;
import dev.ibex.pg.ConnectionSpec;
import dev.ibex.pg.ServerVersion;
import dev.ibex.repository.Repository;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts the controller in the background: a new JVM of this same program running
 * {@code ibex start --foreground}, in a session of its own (setsid) so the terminal's signals do
 * not reach it, its stdout and stderr in ibex.out beside the log (not in the log, which rolls).
 * Returns once the controller has announced itself in the repository.
 */
public final class Launcher {

    public static final Duration START_WAIT = Duration.ofSeconds(60);

    /**
     * The daemon waits on sockets and moves bytes: C2's compile work cost it more CPU than all its
     * runs under load (taken from the source's transactions on a small machine), and a parallel
     * collector and 1 MB stacks per thread only add memory. JAVA_OPTS overrides any of these.
     */
    static final List<String> DAEMON_JVM_DEFAULTS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-Xss512k", "-XX:ReservedCodeCacheSize=32m");

    /** What happened: the controller's pid, or why it did not come up. */
    public record Started(long pid, Path logFile) {
    }

    private Launcher() {
    }

    public static Started start(IbexConfig config, boolean debug) {
        ConnectionSpec spec = config.repository();
        Path piddir = config.piddir().toAbsolutePath();
        Path logDir = config.logDir().toAbsolutePath();
        Path logFile = ControllerLog.file(logDir);
        OffsetDateTime before;
        try (Repository repo = Repository.open(spec)) {
            // several controllers may share the repository, one per host (per pid file)
            Optional<RunningController> local = RunningController.local(repo, new PidFile(piddir));
            if (local.isPresent()) {
                throw RunningController.alreadyRunning(repo, local);
            }
            new PidFile(piddir).removeStale();
            before = repo.one("SELECT now()", rs -> rs.getObject(1, OffsetDateTime.class)).orElseThrow();
            repo.commit();
        }
        createDirectory(piddir, "pid", "--piddir");
        createDirectory(logDir, "log", "--log-dir");
        long logStart = logFile.toFile().length();
        Path out = logDir.resolve(ControllerLog.OUT);
        Process child = spawn(command(config, spec, piddir, logDir, debug), spec, out);
        return awaitUp(spec, child, before, logFile, logStart, out);
    }

    private static List<String> command(IbexConfig config, ConnectionSpec spec, Path piddir, Path logDir,
                                        boolean debug) {
        List<String> cmd = new ArrayList<>();
        setsid().ifPresent(cmd::add);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> inherited = ManagementFactory.getRuntimeMXBean().getInputArguments();
        // first, so that the same flags in JAVA_OPTS (passed on below) override them; two collectors would not start
        boolean ownCollector = inherited.stream().anyMatch(a -> a.startsWith("-XX:+Use") && a.endsWith("GC"));
        DAEMON_JVM_DEFAULTS.stream().filter(a -> !(ownCollector && a.endsWith("GC"))).forEach(cmd::add);
        for (String arg : inherited) {
            if (!arg.startsWith("-agentlib") && !arg.startsWith("-javaagent") && !arg.startsWith("-Xrunjdwp")) {
                cmd.add(arg);
            }
        }
        String assumed = System.getProperty(ServerVersion.ASSUME);
        if (assumed != null) {
            cmd.add("-D" + ServerVersion.ASSUME + "=" + assumed); // a test's, set after this JVM started
        }
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add("dev.ibex.Ibex");
        cmd.addAll(List.of("start", "--foreground", "--detached"));
        cmd.addAll(List.of("--db-host", spec.host(), "--db-port", String.valueOf(spec.port()), "--db-name",
                spec.dbname(), "--db-user", spec.user(), "--piddir", piddir.toString(), "--log-dir",
                logDir.toString(), "--log-level", config.get(Setting.LOG_LEVEL)));
        if (config.get(Setting.METRICS_PORT) != null) {
            cmd.addAll(List.of("--metrics-port", config.get(Setting.METRICS_PORT), "--metrics-address",
                    config.get(Setting.METRICS_ADDRESS)));
        }
        if (debug) {
            cmd.add("--debug");
        }
        return cmd;
    }

    private static Process spawn(List<String> cmd, ConnectionSpec spec, Path out) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (spec.password() != null) {
            // never on the command line, where ps shows it
            pb.environment().put(Setting.DB_PASS.env(), spec.password());
        }
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.to(out.toFile()));
        pb.redirectErrorStream(true);
        try {
            return pb.start();
        } catch (IOException e) {
            throw new IbexException(ExitCode.INTERNAL, "Cannot start a Java process for the controller: "
                    + e.getMessage() + ": check JAVA_HOME", null, e);
        }
    }

    private static Started awaitUp(ConnectionSpec spec, Process child, OffsetDateTime before, Path logFile,
                                   long logStart, Path out) {
        long deadline = System.nanoTime() + START_WAIT.toNanos();
        try (Repository repo = Repository.open(spec)) {
            ControllerClient client = new ControllerClient(repo);
            while (System.nanoTime() < deadline) {
                Optional<RunningController> up = client.all().stream()
                        .filter(c -> c.started() != null && !c.started().isBefore(before.toInstant()))
                        .filter(c -> c.pid() == child.pid() || child.descendants().anyMatch(d -> d.pid() == c.pid()))
                        .findFirst();
                if (up.isPresent()) {
                    return new Started(up.get().pid(), logFile);
                }
                if (!child.isAlive() && child.exitValue() != 0) {
                    String why = lastLines(out, 0);
                    throw new IbexException(child.exitValue(), "The ibex controller did not start: "
                            + (why.equals(NO_MESSAGE) ? lastLines(logFile, logStart) : why), "see " + logFile, null);
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IbexException(ExitCode.INTERNAL, "The ibex controller did not report itself up within "
                + START_WAIT.toSeconds() + " s: see " + logFile);
    }

    private static final String NO_MESSAGE = "no message";

    /** What the child wrote to a file since it started, its last few lines joined. */
    private static String lastLines(Path logFile, long from) {
        try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
            long len = f.length();
            long start = Math.max(from, len - 4000);
            byte[] b = new byte[(int) (len - start)];
            f.seek(start);
            f.readFully(b);
            List<String> lines = new String(b, StandardCharsets.UTF_8).strip().lines()
                    .filter(l -> !l.startsWith("\tat ") && !l.isBlank()).toList();
            return lines.isEmpty() ? NO_MESSAGE : String.join(" / ", lines.subList(Math.max(0, lines.size() - 3),
                    lines.size()));
        } catch (IOException e) {
            return NO_MESSAGE;
        }
    }

    private static Optional<String> setsid() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, "setsid");
            if (Files.isExecutable(p)) {
                return Optional.of(p.toString());
            }
        }
        return Optional.empty();
    }

    private static String classPath() {
        try {
            Path code = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(code) ? code.toString() : System.getProperty("java.class.path");
        } catch (URISyntaxException | SecurityException e) {
            return System.getProperty("java.class.path");
        }
    }

    private static void createDirectory(Path dir, String what, String option) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw IbexException.badInput("Cannot create the " + what + " directory " + dir + " (" + e.getMessage()
                    + "): choose another with " + option);
        }
        if (!Files.isWritable(dir)) {
            throw IbexException.badInput("The " + what + " directory " + dir + " is not writable: choose another with "
                    + option);
        }
    }
}
