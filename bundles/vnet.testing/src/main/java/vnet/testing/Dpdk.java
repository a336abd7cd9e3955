package vnet.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DPDK's {@code dpdk-testpmd} (Debian package {@code dpdk-dev}, DPDK 22.11) as a peer: installed on demand, run
 * without PCI devices and without hugepages (or on them, see {@link Testpmd.Builder#hugepages}), interactive with
 * commands fed on standard input, stopped by PID.
 *
 * <pre>{@code
 * try (Dpdk.Testpmd t = Dpdk.testpmd(dir).vdev("net_vhost0,iface=" + a + ",queues=1").start()) { ... }
 * }</pre>
 */
public final class Dpdk {

    public static final String TESTPMD = "/usr/bin/dpdk-testpmd";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Pattern IFACE = Pattern.compile("(?:^|,)(?:iface|path)=([^,]+)");

    private Dpdk() {
    }

    /** Installs {@code dpdk-testpmd} if missing (about 20 s the first time). */
    public static synchronized void ensureInstalled() throws IOException {
        if (!Files.isExecutable(Path.of(TESTPMD))) {
            Apt.install("dpdk-dev");
        }
    }

    /**
     * Makes sure at least {@code pages} 2 MB hugepages are free, reserving more in {@code /proc/sys/vm/nr_hugepages}
     * (root); closing gives back what was reserved. Fails when the kernel cannot find them.
     */
    public static AutoCloseable reserveHugepages(int pages) throws IOException {
        Path nr = Path.of("/proc/sys/vm/nr_hugepages");
        int before = Integer.parseInt(Files.readString(nr).trim());
        int free = hugepagesFree();
        if (free >= pages) {
            return () -> { };
        }
        Files.writeString(nr, Integer.toString(before + pages - free));
        if (hugepagesFree() < pages) {
            Files.writeString(nr, Integer.toString(before));
            throw new IOException("cannot reserve " + pages + " hugepages of 2 MB (free: " + hugepagesFree() + ")");
        }
        return () -> Files.writeString(nr, Integer.toString(before));
    }

    private static int hugepagesFree() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("HugePages_Free:")) {
                return Integer.parseInt(line.substring("HugePages_Free:".length()).trim());
            }
        }
        throw new IOException("no HugePages_Free in /proc/meminfo");
    }

    /** A testpmd builder whose log goes to {@code workDir}. */
    public static Testpmd.Builder testpmd(Path workDir) {
        return new Testpmd.Builder(workDir);
    }

    public static final class Testpmd implements AutoCloseable {

        /** Printed once forwarding runs (with {@code --auto-start}). */
        public static final Pattern STARTED = Pattern.compile("Start automatic packet forwarding");

        private final ExternalProcess process;
        private final String filePrefix;
        private final List<Path> sockets;

        private Testpmd(ExternalProcess process, String filePrefix, List<Path> sockets) {
            this.process = process;
            this.filePrefix = filePrefix;
            this.sockets = sockets;
        }

        public static final class Builder {
            private final Path workDir;
            private final List<String> vdevs = new ArrayList<>();
            private String lcores = "0-1";
            private int memoryMb = 1024;
            private boolean hugepages;
            private String forwardMode = "io";
            private int nice = 19;
            private int mbufs = 8192;
            private Duration timeLimit = Duration.ofMinutes(5);
            private final List<String> appArgs = new ArrayList<>();
            private String name = "testpmd";

            private Builder(Path workDir) {
                this.workDir = workDir;
            }

            /** A virtual device, e.g. {@code net_vhost0,iface=/tmp/x/a.sock,queues=1}; its socket is removed on close. */
            public Builder vdev(String vdev) {
                vdevs.add(vdev);
                return this;
            }

            /** EAL {@code -l}: the first lcore is the main one, the others forward (default "0-1": one forwarder). */
            public Builder lcores(String lcores) {
                this.lcores = lcores;
                return this;
            }

            public Builder memoryMb(int memoryMb) {
                this.memoryMb = memoryMb;
                return this;
            }

            /** {@code --forward-mode} (default io: port 0 and port 1 are wired to each other). */
            public Builder forwardMode(String forwardMode) {
                this.forwardMode = forwardMode;
                return this;
            }

            /**
             * Niceness (default 19): the forwarding lcore busy-polls a core, so it should give way to the guests
             * and to everything else on a two-core machine.
             */
            public Builder nice(int nice) {
                this.nice = nice;
                return this;
            }

            /**
             * On 2 MB hugepages ({@code --in-memory --single-file-segments}: memfds of hugepages, no files left
             * behind) instead of {@code --no-huge}; reserve them first with {@link Dpdk#reserveHugepages}.
             */
            public Builder hugepages(boolean hugepages) {
                this.hugepages = hugepages;
                return this;
            }

            /** {@code --total-num-mbufs} (default 8192: small, enough for a few ports). */
            public Builder mbufs(int mbufs) {
                this.mbufs = mbufs;
                return this;
            }

            public Builder timeLimit(Duration timeLimit) {
                this.timeLimit = timeLimit;
                return this;
            }

            /** Extra testpmd application arguments (after {@code --}). */
            public Builder appArgs(String... args) {
                appArgs.addAll(List.of(args));
                return this;
            }

            public Builder name(String name) {
                this.name = name;
                return this;
            }

            public List<String> commandLine(String filePrefix) {
                List<String> cmd = new ArrayList<>(List.of("nice", "-n", Integer.toString(nice),
                        "stdbuf", "-oL", "-eL", // line-buffered log, so that awaitLine sees lines at once
                        TESTPMD, "-l", lcores));
                cmd.addAll(hugepages ? List.of("--in-memory", "--single-file-segments") : List.of("--no-huge"));
                cmd.addAll(List.of("-m", Integer.toString(memoryMb), "--no-pci", "--file-prefix", filePrefix));
                for (String v : vdevs) {
                    cmd.add("--vdev");
                    cmd.add(v);
                }
                cmd.addAll(List.of("--", "-i", "--auto-start", "--forward-mode=" + forwardMode,
                        "--total-num-mbufs=" + mbufs));
                cmd.addAll(appArgs);
                return cmd;
            }

            /** Starts testpmd and waits until it forwards. */
            public Testpmd start() throws IOException, InterruptedException, TimeoutException {
                ensureInstalled();
                Files.createDirectories(workDir);
                String prefix = "vnet-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
                List<Path> socks = new ArrayList<>();
                for (String v : vdevs) {
                    Matcher m = IFACE.matcher(v);
                    if (v.startsWith("net_vhost") && m.find()) {
                        Path s = Path.of(m.group(1));
                        Files.deleteIfExists(s); // stale socket from a killed run
                        socks.add(s);
                    }
                }
                ExternalProcess p = ExternalProcess.command(commandLine(prefix)).name(name)
                        .log(workDir.resolve(name + ".log")).timeLimit(timeLimit).stdinPipe(true).start();
                Testpmd t = new Testpmd(p, prefix, socks);
                try {
                    p.awaitLine(STARTED, Duration.ofSeconds(60));
                } catch (TimeoutException | InterruptedException | RuntimeException e) {
                    t.close();
                    throw e;
                }
                return t;
            }
        }

        public ExternalProcess process() {
            return process;
        }

        /** PID of dpdk-testpmd. */
        public long pid() {
            return process.pid();
        }

        public Path log() {
            return process.log();
        }

        /** Sends an interactive command, e.g. {@code "show port stats all"}; its output goes to the log. */
        public void command(String line) throws IOException {
            process.send(line);
        }

        public MatchResult awaitLine(Pattern pattern, Duration limit) throws TimeoutException, InterruptedException {
            return process.awaitLine(pattern, limit);
        }

        /** Asks testpmd to quit, then kills it by PID if needed; removes its sockets and runtime folder. */
        @Override
        public void close() {
            if (process.isAlive()) {
                try {
                    process.send("quit");
                    process.waitFor(Duration.ofSeconds(5));
                } catch (IOException | TimeoutException e) {
                    // kill below
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            process.close();
            for (Path s : sockets) {
                try {
                    Files.deleteIfExists(s);
                } catch (IOException ignored) {
                    // best effort
                }
            }
            WorkDir.deleteTree(Path.of("/var/run/dpdk", filePrefix));
        }
    }
}
