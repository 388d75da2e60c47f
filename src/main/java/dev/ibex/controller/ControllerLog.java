package dev.ibex.controller;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import dev.ibex.IbexException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * The controller's log: {@code <log-dir>/ibex.log}, one line per event with the thread and the sync
 * (MDC "sync"), and stderr too when running attached to a terminal or systemd. A logback file named
 * by -Dlogback.configurationFile takes precedence over all of this.
 */
public final class ControllerLog {

    public static final String FILE = "ibex.log";
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
        FileAppender<ILoggingEvent> file = new FileAppender<>();
        file.setContext(ctx);
        file.setName("FILE");
        file.setFile(file(logDir).toString());
        file.setAppend(true);
        file.setEncoder(encoder(ctx));
        file.start();
        root.addAppender(file);
        if (toStderr) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setContext(ctx);
            console.setName("STDERR");
            console.setTarget("System.err");
            console.setEncoder(encoder(ctx));
            console.start();
            root.addAppender(console);
        }
        for (String quiet : new String[] {"com.zaxxer.hikari", "org.quartz", "org.postgresql"}) {
            ctx.getLogger(quiet).setLevel(Level.WARN);
        }
    }

    private static PatternLayoutEncoder encoder(LoggerContext ctx) {
        PatternLayoutEncoder e = new PatternLayoutEncoder();
        e.setContext(ctx);
        e.setPattern(PATTERN);
        e.start();
        return e;
    }
}
