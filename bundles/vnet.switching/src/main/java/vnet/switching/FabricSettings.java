package vnet.switching;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
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
 */
public record FabricSettings(long pollMicros, int maxQueueSize, Set<FileIdentity> trusted, Path runtimeDir,
        boolean busyPoll) {
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
        trusted = Set.copyOf(trusted);
        Objects.requireNonNull(runtimeDir, "runtimeDir");
    }

    /** Settings without busy polling. */
    public FabricSettings(long pollMicros, int maxQueueSize, Set<FileIdentity> trusted, Path runtimeDir) {
        this(pollMicros, maxQueueSize, trusted, runtimeDir, false);
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
        return new FabricSettings(value, maxQueueSize, trusted, runtimeDir, busyPoll);
    }

    /** These settings with another maximum queue size. */
    public FabricSettings withMaxQueueSize(int value) {
        return new FabricSettings(pollMicros, value, trusted, runtimeDir, busyPoll);
    }

    /** These settings with another runtime folder. */
    public FabricSettings withRuntimeDir(Path value) {
        return new FabricSettings(pollMicros, maxQueueSize, trusted, value, busyPoll);
    }

    /** These settings with busy polling on or off. */
    public FabricSettings withBusyPoll(boolean value) {
        return new FabricSettings(pollMicros, maxQueueSize, trusted, runtimeDir, value);
    }

    /** These settings trusting exactly the dataspace files at {@code paths} (see {@link #identify}). */
    public FabricSettings withTrustedDataspaces(String... paths) {
        return new FabricSettings(pollMicros, maxQueueSize, identify(paths), runtimeDir, busyPoll);
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
