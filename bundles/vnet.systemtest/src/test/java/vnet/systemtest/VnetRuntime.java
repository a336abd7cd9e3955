package vnet.systemtest;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import vnet.testing.ExternalProcess;

/**
 * {@code java -jar runtime/target/vnet.jar} as a user starts it, in a work folder of its own (its OSGi
 * state lives there), with Gogo commands typed on its standard input. Stopped by PID.
 */
final class VnetRuntime implements AutoCloseable {
    /**
     * The HTTP port for a test's runtime: any free one (on 127.0.0.1, the runtime's default address), not the
     * default 9464, which another runtime of the same test, a parallel build or an operator's vnet may hold.
     */
    static final String HTTP_ANY_PORT = "-Dorg.osgi.service.http.port=0";

    private final ExternalProcess process;
    private int marks;

    private VnetRuntime(ExternalProcess process) {
        this.process = process;
    }

    /**
     * Starts the runtime.
     *
     * @param workDir    its working folder (OSGi state, log {@code vnet.log})
     * @param runtimeDir {@code vnet.runtime.dir}: where ports put their sockets
     * @param jvmArgs    more JVM arguments, e.g. {@code -Dvnet.default=false}
     */
    static VnetRuntime start(Path workDir, Path runtimeDir, String... jvmArgs) throws IOException {
        return startIn(null, workDir, runtimeDir, jvmArgs);
    }

    /**
     * Starts the runtime inside network namespace {@code netns} ({@code ip netns exec}, which keeps the PID), so the
     * interfaces it makes (host peers' TAPs) live there; null for this process's namespace.
     */
    static VnetRuntime startIn(String netns, Path workDir, Path runtimeDir, String... jvmArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (netns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", netns));
        }
        cmd.add(Build.java());
        cmd.addAll(List.of(jvmArgs));
        if (List.of(jvmArgs).stream().noneMatch(a -> a.startsWith("-Dorg.osgi.service.http.port="))) {
            cmd.add(HTTP_ANY_PORT);
        }
        if (List.of(jvmArgs).stream().noneMatch(a -> a.startsWith("-Dgosh.args="))) {
            // Commands come on a pipe, errors included: a console that carries on after them, as on a terminal.
            cmd.add("-Dgosh.args=--interactive");
        }
        cmd.add("-Dvnet.runtime.dir=" + runtimeDir);
        cmd.add("-jar");
        cmd.add(Build.runtimeJar().toString());
        return new VnetRuntime(ExternalProcess.command(cmd).name("vnet").directory(workDir)
                .log(workDir.resolve("vnet.log")).stdinPipe(true).timeLimit(Duration.ofMinutes(10)).start());
    }

    /** Types a Gogo command and returns what it printed (and any log lines that came meanwhile). */
    String run(String command) throws IOException, InterruptedException, TimeoutException {
        return run(command, Duration.ofSeconds(60));
    }

    String run(String command, Duration limit) throws IOException, InterruptedException, TimeoutException {
        int before = process.output().length();
        String mark = "VNET-MARK-" + (++marks);
        process.send(command);
        process.send("echo " + mark);
        process.awaitLine(Pattern.compile("^(g! )*" + mark + "$"), limit);
        String out = process.output();
        int end = out.indexOf(mark, before);
        return out.substring(Math.min(before, end), end).replace("g! ", "");
    }

    /** Waits for a line of output. */
    Matcher await(Pattern pattern, Duration limit) throws InterruptedException, TimeoutException {
        Matcher m = pattern.matcher(process.awaitLine(pattern, limit).group());
        if (!m.find()) {
            throw new IllegalStateException("no match");
        }
        return m;
    }

    String output() {
        return process.output();
    }

    Path log() {
        return process.log();
    }

    /** Waits for the runtime to end; its exit code. */
    int waitFor(Duration limit) throws InterruptedException, TimeoutException {
        return process.waitFor(limit);
    }

    long pid() {
        return process.pid();
    }

    /** The lines of {@code text} a person reads, without java.util.logging's records. */
    static List<String> printed(String text) {
        List<String> lines = new ArrayList<>();
        for (String l : text.split("\r?\n")) {
            if (l.isBlank() || l.matches("^[A-Z][a-z]{2} \\d{1,2}, \\d{4} .*") || l.matches("^(INFO|WARNING|FINE|SEVERE): .*")) {
                continue;
            }
            lines.add(l);
        }
        return lines;
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(5));
    }
}
