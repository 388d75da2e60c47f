package dev.ibex.test;

import dev.ibex.cli.IbexCommand;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** Runs the ibex CLI in this JVM, or as a separate process through bin/ibex. */
public final class Cli {

    /** What one invocation printed and how it ended. */
    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Cli() {
    }

    /** The words {@code first} followed by {@code more}: a verb and the options of a db, say. */
    public static String[] args(String[] first, String... more) {
        List<String> all = new ArrayList<>(Arrays.asList(first));
        all.addAll(Arrays.asList(more));
        return all.toArray(String[]::new);
    }

    /** In this JVM: fast; environment variables are this JVM's. */
    public static Result run(TestDb repository, String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        if (repository != null) {
            all.addAll(Arrays.asList(repository.repositoryOptions()));
        }
        return run(all.toArray(String[]::new));
    }

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = IbexCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    /** Through bin/ibex in a new process, with extra environment variables. */
    public static Result process(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of("bin", "ibex").toAbsolutePath().toString());
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("IBEX_") || k.startsWith("PG"));
        pb.environment().putAll(env);
        String assumed = System.getProperty(dev.ibex.pg.ServerVersion.ASSUME);
        if (assumed != null && !assumed.isBlank()) { // a cross-version run that takes 9.3.5 for 8.4
            pb.environment().merge("JAVA_OPTS", "-D" + dev.ibex.pg.ServerVersion.ASSUME + "=" + assumed,
                    (a, b) -> a + " " + b);
        }
        try {
            File out = File.createTempFile("ibex-out", ".txt");
            File err = File.createTempFile("ibex-err", ".txt");
            pb.redirectOutput(out).redirectError(err).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("ibex " + String.join(" ", args) + " did not end in 120 s");
            }
            Result r = new Result(p.exitValue(), java.nio.file.Files.readString(out.toPath(), StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(err.toPath(), StandardCharsets.UTF_8));
            out.delete();
            err.delete();
            return r;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
