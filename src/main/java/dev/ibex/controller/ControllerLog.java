package dev.ibex.controller;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import dev.ibex.IbexException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * The controller's log: {@code <log-dir>/ibex.log}, one line per event with the thread and the sync
 * (MDC "sync"), and stderr too when running attached to a terminal or systemd. It rolls daily and at
 * 100 MB into gzipped {@code ibex.DATE.N.log.gz}, kept 30 days and 1 GB at most: a migration sync
 * runs for weeks and must not fill the disk it logs to. A logback file named by
 * -Dlogback.configurationFile (conf/logback.xml is the same as an example) takes precedence over all of this.
 */
public final class ControllerLog {

    public static final String FILE = "ibex.log";
    /** The detached controller's stdout and stderr: what the JVM prints before or beside logback. */
    public static final String OUT = "ibex.out";
    static final String ROLLED = "ibex.%d{yyyy-MM-dd}.%i.log.gz";
    static final String MAX_FILE_SIZE = "100MB";
    static final int MAX_DAYS = 30;
    static final String TOTAL_SIZE_CAP = "1GB";
    static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %X{sync:--} %logger{0}: %msg%n";

    private ControllerLog() {
    }

    public static Path file(Path logDir) {
        return logDir.resolve(FILE);
    }

    /**
     * @param toStderr also log to stderr (not when stderr already is the log file)
     */
    public static void configure(Path logDir, String level, boolean toStderr) {
        if (System.getProperty("logback.configurationFile") != null) {
            return;
        }
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw IbexException.badInput("Cannot create log directory " + logDir + ": " + e.getMessage()
                    + ": choose another with --log-dir");
        }
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level, Level.INFO));
        root.addAppender(rollingFile(ctx, logDir));
        if (toStderr) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setContext(ctx);
            console.setName("STDERR");
            console.setTarget("System.err");
            console.setEncoder(encoder(ctx));
            console.start();
            root.addAppender(console);
        }
        for (String quiet : new String[] {"com.zaxxer.hikari", "org.postgresql"}) {
            ctx.getLogger(quiet).setLevel(Level.WARN);
        }
    }

    private static RollingFileAppender<ILoggingEvent> rollingFile(LoggerContext ctx, Path logDir) {
        RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
        file.setContext(ctx);
        file.setName("FILE");
        file.setFile(file(logDir).toString());
        file.setAppend(true);
        file.setEncoder(encoder(ctx));
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(ctx);
        policy.setParent(file);
        policy.setFileNamePattern(logDir.resolve(ROLLED).toString());
        policy.setMaxFileSize(FileSize.valueOf(MAX_FILE_SIZE));
        policy.setMaxHistory(MAX_DAYS);
        policy.setTotalSizeCap(FileSize.valueOf(TOTAL_SIZE_CAP));
        file.setRollingPolicy(policy);
        policy.start();
        file.start();
        return file;
    }

    private static PatternLayoutEncoder encoder(LoggerContext ctx) {
        PatternLayoutEncoder e = new PatternLayoutEncoder();
        e.setContext(ctx);
        e.setPattern(PATTERN);
        e.start();
        return e;
    }
}
