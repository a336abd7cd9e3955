package vnet.testing;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An external command bounded by {@code timeout --signal=KILL}, with stdout and stderr appended to a log file.
 * {@link #close()} stops it by PID (never by name): SIGTERM to the command, then SIGKILL to whatever is left
 * of the process tree. Processes still open when the JVM exits are closed by a shutdown hook.
 */
public final class ExternalProcess implements AutoCloseable {

    private static final Set<ExternalProcess> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(OPEN).forEach(ExternalProcess::close),
                "vnet-external-process-reaper"));
    }

    private static final Duration POLL = Duration.ofMillis(100);

    private final String name;
    private final Process wrapper;
    private final Path log;
    private final OutputStream stdin;
    private volatile long pid = -1;

    private ExternalProcess(String name, Process wrapper, Path log) {
        this.name = name;
        this.wrapper = wrapper;
        this.log = log;
        this.stdin = wrapper.getOutputStream();
    }

    /** Starts building a process that runs {@code command}. */
    public static Builder command(List<String> command) {
        return new Builder(command);
    }

    public static Builder command(String... command) {
        return new Builder(List.of(command));
    }

    public static final class Builder {
        private final List<String> command;
        private String name;
        private Path log;
        private Duration timeLimit = Duration.ofMinutes(5);
        private boolean stdinPipe;
        private Path directory;
        private final Map<String, String> environment = new LinkedHashMap<>();

        private Builder(List<String> command) {
            if (command.isEmpty()) {
                throw new IllegalArgumentException("empty command");
            }
            this.command = List.copyOf(command);
            this.name = Path.of(command.get(0)).getFileName().toString();
        }

        /** Name used in messages. Default: the command's file name. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Log file (appended to). Default: a new temporary file. */
        public Builder log(Path log) {
            this.log = log;
            return this;
        }

        /** The process is killed (SIGKILL) after this long, whatever happens. Default 5 minutes. */
        public Builder timeLimit(Duration timeLimit) {
            this.timeLimit = timeLimit;
            return this;
        }

        /** Keep standard input open as a pipe for {@link #send(String)}; otherwise it reads /dev/null. */
        public Builder stdinPipe(boolean stdinPipe) {
            this.stdinPipe = stdinPipe;
            return this;
        }

        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        public Builder env(String key, String value) {
            environment.put(key, value);
            return this;
        }

        public ExternalProcess start() throws IOException {
            Path logFile = log != null ? log : Files.createTempFile("vnet-" + name + "-", ".log");
            if (logFile.getParent() != null) {
                Files.createDirectories(logFile.getParent());
            }
            long secs = Math.max(1, (timeLimit.toMillis() + 999) / 1000);
            List<String> cmd = new ArrayList<>(List.of("timeout", "--signal=KILL", Long.toString(secs)));
            cmd.addAll(command);
            Files.writeString(logFile, "$ " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(stdinPipe ? ProcessBuilder.Redirect.PIPE
                            : ProcessBuilder.Redirect.from(new File("/dev/null")));
            if (directory != null) {
                pb.directory(directory.toFile());
            }
            pb.environment().putAll(environment);
            ExternalProcess p = new ExternalProcess(name, pb.start(), logFile);
            OPEN.add(p);
            return p;
        }
    }

    public String name() {
        return name;
    }

    public Path log() {
        return log;
    }

    /** The log so far. */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PID of the command itself (the child of {@code timeout}); the wrapper's PID if it already ended. */
    public long pid() {
        if (pid > 0) {
            return pid;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < deadline && wrapper.isAlive()) {
            Optional<ProcessHandle> child = wrapper.toHandle().children().findFirst();
            if (child.isPresent()) {
                pid = child.get().pid();
                return pid;
            }
            sleep(Duration.ofMillis(10));
        }
        return wrapper.pid();
    }

    /** PID of the {@code timeout} wrapper. */
    public long wrapperPid() {
        return wrapper.pid();
    }

    public boolean isAlive() {
        return wrapper.isAlive();
    }

    /** Writes one line to standard input (only with {@link Builder#stdinPipe(boolean)}). */
    public void send(String line) throws IOException {
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    /** Waits for the process to end; returns its exit code (124 or 137 if {@code timeout} killed it). */
    public int waitFor(Duration limit) throws InterruptedException, TimeoutException {
        if (!wrapper.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException(name + " still running after " + limit);
        }
        return wrapper.exitValue();
    }

    /**
     * Waits until a line of the log matches {@code pattern} ({@link Matcher#find()}), polling the file.
     * Fails early if the process ends without such a line.
     */
    public MatchResult awaitLine(Pattern pattern, Duration limit) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            boolean ended = !wrapper.isAlive();
            String out = output();
            // Only whole lines while the command runs: a line being written may end later ("VNET-MD5 <sum> 167" of
            // what becomes "... 16777216"), and a pattern would match its beginning.
            int end = ended ? out.length() : Math.max(out.lastIndexOf('\n'), out.lastIndexOf('\r')) + 1;
            for (String line : out.substring(0, end).split("\r?\n|\r")) {
                Matcher m = pattern.matcher(line);
                if (m.find()) {
                    return m.toMatchResult();
                }
            }
            if (ended) {
                throw new TimeoutException(name + " ended (exit " + wrapper.exitValue() + ") without a line matching /"
                        + pattern + "/; log " + log + ":\n" + tail(40));
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("no line matching /" + pattern + "/ from " + name + " within " + limit
                        + "; log " + log + ":\n" + tail(40));
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** The last {@code lines} lines of the log. */
    public String tail(int lines) {
        String[] all = output().split("\n");
        return String.join("\n", java.util.Arrays.asList(all).subList(Math.max(0, all.length - lines), all.length));
    }

    /** Asks the command to stop (SIGTERM by PID) and waits up to {@code grace}; then {@link #close()}s. */
    public void stop(Duration grace) {
        if (wrapper.isAlive()) {
            ProcessHandle.of(pid()).ifPresent(ProcessHandle::destroy);
            try {
                wrapper.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        close();
    }

    /** Kills the process tree by PID (SIGTERM, then SIGKILL after a short grace). Idempotent. */
    @Override
    public void close() {
        OPEN.remove(this);
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already closed
        }
        if (wrapper.isAlive()) {
            // The command first, so that timeout does not outlive it; SIGTERM lets QEMU/testpmd clean up.
            List<ProcessHandle> tree = new ArrayList<>(wrapper.toHandle().descendants().toList());
            tree.forEach(ProcessHandle::destroy);
            try {
                wrapper.waitFor(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            tree.addAll(wrapper.toHandle().descendants().toList());
            tree.forEach(ProcessHandle::destroyForcibly);
            wrapper.destroyForcibly();
            try {
                wrapper.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return name + "[pid " + (pid > 0 ? pid : wrapper.pid()) + ", log " + log + "]";
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs a command to completion (bounded), returning its output; throws if it fails. */
    public static String run(Duration limit, String... command) throws IOException {
        try (ExternalProcess p = command(command).timeLimit(limit).start()) {
            int rc;
            try {
                rc = p.waitFor(limit.plusSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted: " + String.join(" ", command), e);
            } catch (TimeoutException e) {
                throw new IOException(e.getMessage(), e);
            }
            String out = p.output();
            out = out.substring(out.indexOf('\n') + 1); // drop the "$ command" header
            Files.deleteIfExists(p.log());
            if (rc != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + rc + "):\n" + out);
            }
            return out;
        }
    }
}
