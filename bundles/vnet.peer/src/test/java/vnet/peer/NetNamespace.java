package vnet.peer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import vnet.testing.Apt;
import vnet.testing.ExternalProcess;

/**
 * A network namespace a test creates ({@code ip netns add vnetpeer-<pid>-<n>}) and deletes in {@link #close()}, with
 * everything in it (TAP interfaces moved there are deleted with it). Every command is bounded by a timeout and killed
 * by PID. Namespaces of this naming left by a killed JVM (whose PID is gone) are removed on first use.
 */
final class NetNamespace implements AutoCloseable {
    static final String PREFIX = "vnetpeer-";
    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static boolean staleRemoved;

    private final String name;
    private boolean closed;

    private NetNamespace(String name) {
        this.name = name;
    }

    /** Creates a namespace with its loopback up. */
    static NetNamespace create() throws IOException {
        removeStale();
        String name = PREFIX + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        run("ip", "netns", "add", name);
        NetNamespace ns = new NetNamespace(name);
        try {
            ns.exec("ip", "link", "set", "lo", "up");
        } catch (IOException | RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    String name() {
        return name;
    }

    /** Runs a command inside the namespace; returns its output; throws if it fails. */
    String exec(String... command) throws IOException {
        return execWithin(LIMIT, command);
    }

    /** Like {@link #exec}, with another time limit. */
    String execWithin(Duration limit, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        return ExternalProcess.run(limit, cmd.toArray(String[]::new));
    }

    /** Moves interface {@code ifname} from the root namespace into this one. */
    void moveLink(String ifname) throws IOException {
        run("ip", "link", "set", "dev", ifname, "netns", name);
    }

    /** Whether an interface of that name is in this namespace. */
    boolean hasLink(String ifname) throws IOException {
        try {
            exec("ip", "link", "show", "dev", ifname);
            return true;
        } catch (IOException e) {
            if (e.getMessage().contains("does not exist")) {
                return false;
            }
            throw e;
        }
    }

    /** Address, then link up. */
    void configure(String ifname, String cidr) throws IOException {
        exec("ip", "addr", "add", cidr, "dev", ifname);
        exec("ip", "link", "set", "dev", ifname, "up");
    }

    /** Result of a ping run. */
    record Ping(int sent, int received, String output) {
    }

    private static final Pattern PING_SUMMARY = Pattern.compile("(\\d+) packets transmitted, (\\d+) (?:packets )?received");

    /** {@code ping -c count -i interval -W 2 address} inside the namespace (iputils, installed if missing). */
    Ping ping(String address, int count, String interval) throws IOException {
        Apt.install("iputils-ping");
        String out = execAnyExit(Duration.ofSeconds(30 + 3L * count), "ping", "-c", Integer.toString(count), "-i", interval,
                "-W", "2", address);
        Matcher m = PING_SUMMARY.matcher(out);
        if (!m.find()) {
            throw new IOException("no ping summary in:\n" + out);
        }
        return new Ping(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), out);
    }

    /** Pings {@code address} once a second until it answers or {@code limit} passes; true if it answered. */
    boolean awaitReply(String address, Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (ping(address, 1, "1").received() == 1) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command in the namespace and returns its output whatever its exit code (bounded, killed by PID). */
    String execAnyExit(Duration limit, String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        try (ExternalProcess p = ExternalProcess.command(cmd).timeLimit(limit).start()) {
            p.waitFor(limit.plusSeconds(5));
            String out = p.output();
            java.nio.file.Files.deleteIfExists(p.log());
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + cmd, e);
        } catch (TimeoutException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    static String run(String... command) throws IOException {
        return ExternalProcess.run(LIMIT, command);
    }

    /** Whether an interface of that name is in the root namespace. */
    static boolean rootHasLink(String ifname) {
        return java.nio.file.Files.exists(java.nio.file.Path.of("/sys/class/net", ifname));
    }

    private static synchronized void removeStale() {
        if (staleRemoved) {
            return;
        }
        staleRemoved = true;
        try {
            for (String line : run("ip", "netns", "list").split("\n")) {
                String ns = line.split(" ")[0].trim();
                if (!ns.startsWith(PREFIX)) {
                    continue;
                }
                String[] f = ns.substring(PREFIX.length()).split("-");
                long pid;
                try {
                    pid = Long.parseLong(f[0]);
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).isEmpty()) {
                    run("ip", "netns", "del", ns);
                }
            }
        } catch (IOException e) {
            // best effort
        }
    }

    /** Deletes the namespace (and the interfaces in it). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            run("ip", "netns", "del", name);
        } catch (IOException e) {
            System.err.println("cannot delete network namespace " + name + ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
