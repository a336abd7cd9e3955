package vnet.peer;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import vnet.linux.Errno;
import vnet.linux.LinuxException;

/**
 * A host peer (QNX vdevpeer-net): a TAP interface {@code <name><n>} in the host whose frames go to and come from a
 * virtio-net device, so the host's kernel stack can address, route or bridge guests. With {@code bind=} the host peer
 * is the vhost-user back-end a guest's NIC connects to; with {@code peer=} it is the vhost-user front-end of a vnet
 * port (see {@link PeerOptions}). {@link #close()} disconnects and deletes the interface.
 *
 * <p>Threads: one TX thread per peer reads the TAP and writes into the virtio side, with the nice value of
 * {@code priority=}; the virtio → TAP direction is driven by the guest's kicks (same thread, {@code bind=}) or the
 * port's calls (an RX thread, {@code peer=}). No thread polls.
 */
public final class HostPeer implements PeerStatus, AutoCloseable {
    private static final Logger LOG = System.getLogger(HostPeer.class.getName());

    private final PeerOptions options;
    private final TapInterface tap;
    private final Bridge bridge;
    private boolean closed;

    private HostPeer(PeerOptions options, TapInterface tap, Bridge bridge) {
        this.options = options;
        this.tap = tap;
        this.bridge = bridge;
    }

    /**
     * Creates the TAP interface, sets its MAC, and attaches it as {@code options} say.
     *
     * @param index the interface number ({@code vp<index>}), or -1 for the lowest free one
     * @throws PeerOptionException if the interface name would be too long
     * @throws IOException         if the interface exists already, the bind path cannot be listened at, or the
     *                             priority cannot be set
     */
    public static HostPeer start(PeerOptions options, int index) throws IOException {
        String name = index >= 0 ? options.interfaceName(index) : options.name() + "%d";
        if (index < 0) {
            options.interfaceName(0); // the name with one digit must fit
        }
        TapInterface tap;
        try {
            tap = TapInterface.create(name, options.headerSize());
        } catch (LinuxException e) {
            String what = e.errno() == Errno.EBUSY ? " (an interface of that name exists)" : "";
            throw new IOException("host peer " + options + ": cannot create TAP interface "
                    + (index >= 0 ? name : options.name() + "<n>") + what + ": " + e.getMessage(), e);
        }
        try {
            if (options.mac() != PeerOptions.NO_MAC) {
                tap.setMac(options.mac());
            }
            Bridge bridge = options.isBind() ? BackendBridge.start(tap, options) : FrontendBridge.start(tap, options);
            LOG.log(Level.INFO, "host peer {0}: {1}", tap.name(), options);
            return new HostPeer(options, tap, bridge);
        } catch (IOException | RuntimeException e) {
            tap.close();
            if (e instanceof LinuxException le) {
                throw new IOException("host peer " + tap.name() + " (" + options + "): " + le.getMessage(), le);
            }
            throw e;
        }
    }

    /**
     * Starts every host peer of a QNX option string, numbering interfaces as the kernel does (lowest free per
     * prefix). If one fails, those already started are closed.
     */
    public static List<HostPeer> startAll(String options) throws IOException {
        List<HostPeer> started = new ArrayList<>();
        try {
            for (PeerOptions o : PeerOptions.parse(options)) {
                started.add(start(o, -1));
            }
            return List.copyOf(started);
        } catch (IOException | RuntimeException e) {
            started.forEach(HostPeer::close);
            throw e;
        }
    }

    /** The options it was started with. */
    @Override
    public PeerOptions options() {
        return options;
    }

    /** The TAP interface's name, e.g. {@code vp0}. */
    @Override
    public String interfaceName() {
        return tap.name();
    }

    /** The TAP interface's MAC address, as the kernel reports it (48 bits). */
    public long mac() throws IOException {
        return tap.mac();
    }

    /** The virtio_net_hdr size on the TAP: 10 with {@code legacy}, else 12. */
    public int tapHeaderSize() {
        return tap.headerSize();
    }

    /** The TAP offloads ({@code TUN_F_*} bits) in force. */
    public int tapOffloads() {
        return tap.offload();
    }

    /** The bind path (a guest connects there), or null for a {@code peer=} host peer. */
    public Path bindPath() {
        return options.bind();
    }

    /** Whether a guest is connected ({@code bind=}) or the vnet port is reached ({@code peer=}) and running. */
    @Override
    public boolean isConnected() {
        return bridge.isConnected();
    }

    /** The TX thread's kernel thread id (as in {@code /proc/self/task/<tid>}). */
    @Override
    public int txThreadId() {
        return bridge.txThreadId();
    }

    /** The frame counters. */
    @Override
    public PeerStats stats() {
        return bridge.stats;
    }

    /** The virtio_net_hdr size of the virtio side now, or 0 while not connected. */
    public int virtioHeaderSize() {
        if (bridge instanceof BackendBridge b) {
            var d = b.port().device();
            return d == null ? 0 : d.headerSize();
        }
        var f = ((FrontendBridge) bridge).frontend();
        return f == null ? 0 : f.headerSize();
    }

    /** The virtio features negotiated with the guest or port now, or 0 while not connected. */
    public long virtioFeatures() {
        if (bridge instanceof BackendBridge b) {
            var d = b.port().device();
            return d == null ? 0 : d.features();
        }
        var f = ((FrontendBridge) bridge).frontend();
        return f == null ? 0 : f.features();
    }

    /** Stops the threads, disconnects, and deletes the TAP interface. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        bridge.close();
        tap.close();
    }

    @Override
    public String toString() {
        return "HostPeer[" + tap.name() + ", " + options + ", " + (isConnected() ? "connected" : "not connected") + ", "
                + stats() + "]";
    }
}
