package vnet.transport.vxlan.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

import com.sun.jna.Library;
import com.sun.jna.Native;

import vnet.testing.ExternalProcess;

/**
 * A network namespace this test creates (names start with {@code vx-}: this work's prefix) and deletes in
 * {@link #close()} with everything in it. {@link #call} runs Java code on a thread that entered the namespace
 * ({@code setns}), so sockets it opens (a VXLAN port's) live there, while the rest of the JVM stays where it is.
 */
final class Netns implements AutoCloseable {
    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final int CLONE_NEWNET = 0x4000_0000;
    private static final int O_RDONLY_CLOEXEC = 02000000;

    interface C extends Library {
        C LIB = Native.load("c", C.class);

        int open(String path, int flags);

        int setns(int fd, int nstype);

        int close(int fd);
    }

    private final String name;

    private Netns(String name) {
        this.name = name;
    }

    /** Creates {@code name} (deleting a stale one of that name first) with its loopback up. */
    static Netns create(String name) throws IOException {
        if (!name.startsWith("vx-")) {
            throw new IllegalArgumentException(name);
        }
        try {
            ExternalProcess.run(LIMIT, "ip", "netns", "del", name);
        } catch (IOException absent) {
            // none left over
        }
        ExternalProcess.run(LIMIT, "ip", "netns", "add", name);
        Netns ns = new Netns(name);
        try {
            ns.exec("ip", "link", "set", "lo", "up");
        } catch (IOException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    String name() {
        return name;
    }

    /** Runs a command in the namespace (bounded); its output; throws if it fails. */
    String exec(String... command) throws IOException {
        return ExternalProcess.run(LIMIT, wrap(command));
    }

    /** Starts a long-running command in the namespace, stopped by PID when closed or after {@code limit}. */
    ExternalProcess start(String name, Duration limit, String... command) throws IOException {
        return ExternalProcess.command(wrap(command)).name(name).timeLimit(limit).start();
    }

    private String[] wrap(String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        return cmd.toArray(String[]::new);
    }

    /** Runs {@code task} on a fresh thread inside this namespace and returns its result. */
    <T> T call(Callable<T> task) throws Exception {
        FutureTask<T> f = new FutureTask<>(() -> {
            int fd = C.LIB.open("/var/run/netns/" + name, O_RDONLY_CLOEXEC);
            if (fd < 0) {
                throw new IOException("cannot open namespace " + name + ": errno " + Native.getLastError());
            }
            try {
                if (C.LIB.setns(fd, CLONE_NEWNET) != 0) {
                    throw new IOException("setns " + name + ": errno " + Native.getLastError());
                }
            } finally {
                C.LIB.close(fd);
            }
            return task.call();
        });
        Thread t = new Thread(f, "in-" + name);
        t.start();
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    @Override
    public void close() {
        try {
            ExternalProcess.run(LIMIT, "ip", "netns", "del", name);
        } catch (IOException e) {
            System.err.println("cannot delete network namespace " + name + ": " + e.getMessage());
        }
    }
}
