package vnet.switching;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import vnet.transport.shm.FileIdentity;
import vnet.transport.shm.PortSettings;
import vnet.virtqueue.RingLayout;

/**
 * The options of a p2p link or switch as a whole, from the L4Re p2p server's command line.
 *
 * @param pollMicros   0: notification mode (drivers kick, the worker sleeps in epoll); else poll mode, every that
 *                     many microseconds, with kicks turned off ({@code --poll})
 * @param maxQueueSize largest virtqueue size a port accepts, a power of 2 in 1..32768 ({@code --size})
 * @param trusted      identities of the trusted dataspaces; empty: any ({@code --register-ds})
 * @param runtimeDir   the folder under which the fabric's ports put their sockets ({@code <runtimeDir>/<name>/})
 * @param busyPoll     busy-poll mode, for a dedicated core (a DPDK lcore, an OVS PMD thread): the worker polls the
 *                     queues without pause, no syscall and no sleep while frames flow, kicks turned off
 *                     ({@code busy.poll}); excludes a poll interval
 * @param workers      data-path threads ({@code workers}, 1..{@value #MAX_WORKERS}): a switch spreads its ports over
 *                     them, a p2p link gives each direction its own (so it uses at most 2)
 * @param cpus         CPUs to pin the workers to ({@code cpus}), worker i on {@code cpus[i % size]}; empty: not pinned
 */
public record FabricSettings(long pollMicros, int maxQueueSize, Set<FileIdentity> trusted, Path runtimeDir,
        boolean busyPoll, int workers, List<Integer> cpus) {
    /** Most workers of one link or switch (a switch keeps a 1 MiB hand-off ring per ordered pair of workers). */
    public static final int MAX_WORKERS = 16;
    /** Highest CPU number + 1 that {@code cpus} takes (the kernel's largest CONFIG_NR_CPUS). */
    public static final int MAX_CPU = 8192;

    /** Where sockets go when neither the configuration nor the framework property {@code vnet.runtime.dir} says. */
    public static final Path DEFAULT_RUNTIME_DIR = Path.of("/tmp/vnet");

    /** Checks the values; the messages name the option as the configuration does. */
    public FabricSettings {
        if (pollMicros < 0) {
            throw new IllegalArgumentException("poll=" + pollMicros
                    + " is negative: give 0 (notification mode) or a poll interval in microseconds");
        }
        if (!RingLayout.isPowerOfTwoSize(maxQueueSize)) {
            throw new IllegalArgumentException("size=" + maxQueueSize + " is not a power of 2 in 1.."
                    + PortSettings.QUEUE_SIZE_MAX);
        }
        if (busyPoll && pollMicros > 0) {
            throw new IllegalArgumentException("busy.poll=true and poll=" + pollMicros
                    + " exclude each other: busy polling has no interval");
        }
        if (workers < 1 || workers > MAX_WORKERS) {
            throw new IllegalArgumentException("workers=" + workers + " is out of range 1.." + MAX_WORKERS);
        }
        for (Integer cpu : cpus) {
            if (cpu == null || cpu < 0 || cpu >= MAX_CPU) {
                throw new IllegalArgumentException("cpus: " + cpu + " is not a CPU number (0.." + (MAX_CPU - 1) + ")");
            }
        }
        trusted = Set.copyOf(trusted);
        cpus = List.copyOf(cpus);
        Objects.requireNonNull(runtimeDir, "runtimeDir");
    }

    /** Settings of one unpinned worker. */
    public FabricSettings(long pollMicros, int maxQueueSize, Set<FileIdentity> trusted, Path runtimeDir,
            boolean busyPoll) {
        this(pollMicros, maxQueueSize, trusted, runtimeDir, busyPoll, 1, List.of());
    }

    /** Settings of one unpinned worker without busy polling. */
    public FabricSettings(long pollMicros, int maxQueueSize, Set<FileIdentity> trusted, Path runtimeDir) {
        this(pollMicros, maxQueueSize, trusted, runtimeDir, false);
    }

    /**
     * Parses {@code cpus}: a comma-separated list of CPU numbers and ranges ({@code 2,3} or {@code 0-3,6}).
     *
     * @throws IllegalArgumentException {@code cpus=<value> is not a CPU list (e.g. 0-3,6)}
     */
    public static List<Integer> parseCpus(String value) {
        List<Integer> list = new java.util.ArrayList<>();
        if (value == null || value.isBlank()) {
            return list;
        }
        try {
            for (String part : value.split(",", -1)) {
                String p = part.trim();
                int dash = p.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1).trim());
                if (from < 0 || to < from || to >= MAX_CPU) {
                    throw new NumberFormatException();
                }
                for (int c = from; c <= to; c++) {
                    list.add(c);
                }
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cpus=" + value + " is not a CPU list (e.g. 0-3,6)");
        }
        return list;
    }

    /** Whether drivers are asked not to kick: poll mode or busy-poll mode. */
    public boolean polling() {
        return pollMicros > 0 || busyPoll;
    }

    /** Notification mode, queues up to 256, any dataspace, sockets under /tmp/vnet. */
    public static FabricSettings defaults() {
        return new FabricSettings(0, PortSettings.QUEUE_SIZE_DEFAULT, Set.of(), DEFAULT_RUNTIME_DIR);
    }

    /** These settings with another poll interval. */
    public FabricSettings withPollMicros(long value) {
        return new FabricSettings(value, maxQueueSize, trusted, runtimeDir, busyPoll, workers, cpus);
    }

    /** These settings with another maximum queue size. */
    public FabricSettings withMaxQueueSize(int value) {
        return new FabricSettings(pollMicros, value, trusted, runtimeDir, busyPoll, workers, cpus);
    }

    /** These settings with another runtime folder. */
    public FabricSettings withRuntimeDir(Path value) {
        return new FabricSettings(pollMicros, maxQueueSize, trusted, value, busyPoll, workers, cpus);
    }

    /** These settings with busy polling on or off. */
    public FabricSettings withBusyPoll(boolean value) {
        return new FabricSettings(pollMicros, maxQueueSize, trusted, runtimeDir, value, workers, cpus);
    }

    /** These settings with {@code value} workers. */
    public FabricSettings withWorkers(int value) {
        return new FabricSettings(pollMicros, maxQueueSize, trusted, runtimeDir, busyPoll, value, cpus);
    }

    /** These settings with the workers pinned to {@code value} (empty: not pinned). */
    public FabricSettings withCpus(List<Integer> value) {
        return new FabricSettings(pollMicros, maxQueueSize, trusted, runtimeDir, busyPoll, workers, value);
    }

    /** These settings trusting exactly the dataspace files at {@code paths} (see {@link #identify}). */
    public FabricSettings withTrustedDataspaces(String... paths) {
        return new FabricSettings(pollMicros, maxQueueSize, identify(paths), runtimeDir, busyPoll, workers, cpus);
    }

    /**
     * The identities of the trusted dataspace files ({@code register.ds}).
     *
     * @throws IllegalArgumentException {@code register.ds: cannot use "<path>": <reason>}
     */
    public static Set<FileIdentity> identify(String... paths) {
        Set<FileIdentity> ids = new LinkedHashSet<>();
        if (paths != null) {
            for (String p : paths) {
                if (p == null || p.isBlank()) {
                    throw new IllegalArgumentException("register.ds: an empty path is not a dataspace");
                }
                try {
                    ids.add(FileIdentity.of(Path.of(p)));
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("register.ds: cannot use \"" + p + "\": "
                            + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.toString()));
                }
            }
        }
        return ids;
    }
}
