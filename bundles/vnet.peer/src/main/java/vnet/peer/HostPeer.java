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
 * is the vhost-user back-end a guest's NIC connects to; with {@code peer=path} it is the vhost-user front-end of a vnet
 * port; with {@code peer=<link>:<port>} it is the in-process driver of a switch or link port whose transport is
 * {@code inproc}, found through an {@link InprocPortResolver} (see {@link PeerOptions}). {@link #close()} disconnects
 * and deletes the interface.
 *
 * <p>Threads: one TX thread per peer reads the TAP and writes into the virtio side, with the nice value of
 * {@code priority=}; the virtio → TAP direction is driven by the guest's kicks (same thread, {@code bind=}) or the
 * port's calls (an RX thread, {@code peer=}). No thread polls; a {@code peer=} host peer whose port is away looks for
 * it again every 250 ms.
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
     * Creates the TAP interface, sets its MAC, and attaches it as {@code options} say. A {@code peer=<link>:<port>}
     * host peer needs {@link #start(PeerOptions, int, InprocPortResolver)}.
     *
     * @param index the interface number ({@code vp<index>}), or -1 for the lowest free one
     * @throws PeerOptionException if the interface name would be too long, or {@code options} name a switch port
     * @throws IOException         if the interface exists already, the bind path cannot be listened at, or the
     *                             priority cannot be set
     */
    public static HostPeer start(PeerOptions options, int index) throws IOException {
        return start(options, index, null);
    }

    /**
     * Creates the TAP interface, sets its MAC, and attaches it as {@code options} say; a {@code peer=<link>:<port>}
     * host peer finds its port through {@code resolver} (and waits while it finds none).
     *
     * @param index    the interface number ({@code vp<index>}), or -1 for the lowest free one
     * @param resolver finds in-framework ports for {@code peer=<link>:<port>}; null if there is none
     * @throws PeerOptionException if the interface name would be too long, or {@code options} name a switch port and
     *                             {@code resolver} is null
     * @throws IOException         if the interface exists already, the bind path cannot be listened at, or the
     *                             priority cannot be set
     */
    public static HostPeer start(PeerOptions options, int index, InprocPortResolver resolver) throws IOException {
        if (options.isSwitchPort() && resolver == null) {
            refuseSwitchPort(options);
        }
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
            Bridge bridge = options.isBind() ? BackendBridge.start(tap, options)
                    : options.isSwitchPort() ? InprocBridge.start(tap, options, resolver)
                    : FrontendBridge.start(tap, options);
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
        return startAll(options, null);
    }

    /** Like {@link #startAll(String)}; {@code peer=<link>:<port>} host peers find their ports through {@code resolver}. */
    public static List<HostPeer> startAll(String options, InprocPortResolver resolver) throws IOException {
        List<PeerOptions> all = PeerOptions.parse(options);
        if (resolver == null) {
            for (PeerOptions o : all) {
                if (o.isSwitchPort()) {
                    refuseSwitchPort(o); // before any interface is made
                }
            }
        }
        List<HostPeer> started = new ArrayList<>();
        try {
            for (PeerOptions o : all) {
                started.add(start(o, -1, resolver));
            }
            return List.copyOf(started);
        } catch (IOException | RuntimeException e) {
            started.forEach(HostPeer::close);
            throw e;
        }
    }

    private static void refuseSwitchPort(PeerOptions options) {
        String part = "peer=" + options.peerPort();
        throw new PeerOptionException(part, part + " names a switch port, which a host peer reaches only in-process: "
                + "as a vnet.peer configuration in the OSGi framework, or through an InprocPortResolver given to "
                + "HostPeer.start; here give the port's socket path instead (a path contains '/')");
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

    /**
     * The virtio_net_hdr size of the virtio side now, or 0 while not connected. Always 0 for {@code peer=<link>:<port>}:
     * the in-framework endpoint hands over bare frames.
     */
    public int virtioHeaderSize() {
        return bridge.virtioHeaderSize();
    }

    /** The virtio features negotiated with the guest or port now, or 0 while not connected (always for an inproc port). */
    public long virtioFeatures() {
        return bridge.virtioFeatures();
    }

    /**
     * Tells a {@code peer=} host peer whose port is away to look for it now instead of at its next try (250 ms): the
     * ports its {@link InprocPortResolver} knows changed. Harmless otherwise.
     */
    public void portsChanged() {
        if (bridge instanceof DriverBridge<?> d) {
            d.retryNow();
        }
    }

    /** Why the last attempt to reach the {@code peer=} port, or the last connection to it, failed; or null. */
    public String lastError() {
        return bridge instanceof DriverBridge<?> d ? d.lastError() : null;
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
