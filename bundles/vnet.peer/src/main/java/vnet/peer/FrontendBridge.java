package vnet.peer;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;

import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.Errno;
import vnet.linux.Epoll;
import vnet.linux.EventFd;
import vnet.linux.LinuxException;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.Checksums;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.VirtioNetHeader;

/**
 * {@code peer=}: the host peer is the vhost-user front-end (driver side) of the vnet port listening at the peer path,
 * through {@link VhostUserFrontend}. The TX thread sleeps in epoll on the TAP and sends what the host stack transmits;
 * the RX thread connects (and reconnects while the port is away), then sleeps in {@link VhostUserFrontend#receive}
 * until the port's device calls, and writes what it receives to the TAP.
 *
 * <p>Offloads: receive checksum and TSO (GUEST_*) are asked for, and such frames go to the TAP as they are. Transmit
 * checksum (CSUM) is asked for and the TAP told to hand us partial checksums only when the port accepted it; a
 * partial checksum that still meets a port without CSUM is completed here. Transmit TSO (HOST_TSO*) is not asked for:
 * the TAP never enables TSO, so the host kernel segments in software.
 */
final class FrontendBridge extends Bridge {
    private static final Logger LOG = System.getLogger(FrontendBridge.class.getName());

    /** Offloads asked of the port. */
    static final long OFFLOADS = Features.CSUM | Features.GUEST_CSUM;
    /** Receive TSO needs big receive buffers: only with mergeable ones (not with {@code legacy}). */
    static final long RECEIVE_TSO = Features.GUEST_TSO4 | Features.GUEST_TSO6 | Features.GUEST_ECN;
    /** With {@code legacy}: no VERSION_1, no MRG_RXBUF, so the header is 10 bytes. */
    static final long LEGACY_RINGS = Features.RING_INDIRECT_DESC | Features.RING_EVENT_IDX | Features.ANY_LAYOUT;

    private static final long TOKEN_WAKE = 0;
    private static final long TOKEN_TAP = 1;
    private static final int IDLE_WAIT_MS = 1000;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration RECONNECT_DELAY = Duration.ofMillis(250);
    private static final Duration RECEIVE_WAIT = Duration.ofSeconds(1);
    /** Largest frame sent to the port: no transmit TSO, so an MTU-sized frame (up to jumbo frames). */
    static final int MAX_SEND_FRAME = 9216;

    private final VhostUserFrontend.Options frontendOptions;
    private final EventFd wakeup;
    private final Epoll epoll;
    private final Thread rxThread;
    private volatile VhostUserFrontend frontend;
    private volatile boolean running = true;
    private volatile String lastError;
    private volatile int connections;
    private boolean tapDead;

    /** TX thread's: TAP staging (header then frame), the frame to send, the header read. */
    private final UnsafeBuffer fromTap;
    private final FrameBuffer txFrame = new FrameBuffer(MAX_SEND_FRAME);
    private final VirtioNetHeader tapHeaderIn = new VirtioNetHeader();
    /** RX thread's: the received frame, TAP staging. */
    private final FrameBuffer rxFrame = new FrameBuffer();
    private final UnsafeBuffer toTap;

    private FrontendBridge(TapInterface tap, PeerOptions options) throws LinuxException {
        super(tap, options);
        this.frontendOptions = frontendOptions(options);
        this.wakeup = EventFd.create();
        this.epoll = Epoll.create(2);
        this.fromTap = tapBuffer(tapHeader);
        this.toTap = tapBuffer(tapHeader);
        this.rxThread = new Thread(this::rxLoop, "vnet-peer-" + tap.name() + "-rx");
        rxThread.setDaemon(true);
    }

    /** The front-end options for {@code options}: legacy or not, offloads, frames up to {@link #MAX_SEND_FRAME}. */
    static VhostUserFrontend.Options frontendOptions(PeerOptions options) {
        long features = options.legacy() ? LEGACY_RINGS | OFFLOADS
                : VhostUserFrontend.DEFAULT_FEATURES | OFFLOADS | RECEIVE_TSO;
        return VhostUserFrontend.Options.defaults().withFeatures(features).withMaxFrameSize(MAX_SEND_FRAME)
                .withTimeout(CONNECT_TIMEOUT);
    }

    /** Starts both threads; the port is reached in the background (and again whenever it goes away). */
    static FrontendBridge start(TapInterface tap, PeerOptions options) throws IOException {
        FrontendBridge b = new FrontendBridge(tap, options);
        try {
            b.epoll.add(b.wakeup.fd().fd(), Epoll.EPOLLIN, TOKEN_WAKE);
            b.epoll.add(tap.fd(), Epoll.EPOLLIN, TOKEN_TAP);
            b.startTxThread();
            b.rxThread.start();
            return b;
        } catch (IOException | RuntimeException e) {
            b.close();
            throw e;
        }
    }

    @Override
    boolean isConnected() {
        VhostUserFrontend f = frontend;
        return f != null && f.isConnected();
    }

    /** The current front-end, or null while the port is not reached. */
    VhostUserFrontend frontend() {
        return frontend;
    }

    /** Why the last connection attempt or connection failed, or null. */
    String lastError() {
        return lastError;
    }

    /** How many times the port was reached. */
    int connections() {
        return connections;
    }

    // ---- TX: TAP → port -------------------------------------------------------------------------------------------

    @Override
    void txLoop() {
        while (running) {
            int frames = 0;
            int n;
            while (frames < BURST && (n = readTap()) > 0) {
                frames++;
                send(n);
            }
            if (frames == 0 && running) {
                try {
                    int ready = epoll.epollWait(IDLE_WAIT_MS);
                    for (int i = 0; i < ready; i++) {
                        if (epoll.token(i) == TOKEN_WAKE) {
                            wakeup.drain();
                        }
                    }
                } catch (LinuxException | IllegalStateException e) {
                    if (running) {
                        LOG.log(Level.ERROR, "host peer " + tap.name() + ": epoll failed", e);
                        pause(Duration.ofMillis(100)); // do not spin on a lasting failure
                    }
                }
            }
        }
    }

    private int readTap() {
        if (tapDead) {
            return 0;
        }
        try {
            int n = tap.read(fromTap.addressOffset(), fromTap.capacity());
            if (n > 0) {
                stats.tapFramesRead++;
            }
            return Math.max(n, 0);
        } catch (LinuxException e) {
            tapDead = true;
            LOG.log(Level.WARNING, "host peer {0}: the TAP interface is gone ({1})", tap.name(), e.getMessage());
            try {
                epoll.remove(tap.fd());
            } catch (LinuxException | IllegalStateException ignored) {
                // closed already
            }
            return 0;
        }
    }

    /** Sends the frame of {@code n} bytes (with its TAP header) in {@link #fromTap}, or counts it dropped. */
    private void send(int n) {
        VhostUserFrontend f = frontend;
        int length = n - tapHeader;
        if (f == null || length < 14 || length > MAX_SEND_FRAME) {
            stats.toVirtioDropped++;
            return;
        }
        VirtioNetHeader h = tapHeaderIn.decode(fromTap, 0, tapHeader);
        long features = f.features();
        if (h.isGso()) {
            stats.toVirtioDropped++; // TSO is never enabled on the TAP towards a port; a stale frame
            return;
        }
        txFrame.buffer().putBytes(0, fromTap, tapHeader, length);
        txFrame.length(length);
        VirtioNetHeader out = txFrame.header().copyFrom(h).numBuffers(0)
                .flags(h.flags() & VirtioNetHeader.F_NEEDS_CSUM); // a driver never sets DATA_VALID
        if (h.needsCsum() && (features & Features.CSUM) == 0) {
            if (!Checksums.complete(txFrame.buffer(), 0, length, h.csumStart(), h.csumOffset())) {
                stats.toVirtioDropped++;
                return;
            }
            out.flags(0).csumStart(0).csumOffset(0);
            stats.checksumsCompleted++;
        }
        try {
            if (f.send(txFrame)) {
                stats.toVirtio++;
                return;
            }
        } catch (IOException e) {
            // the port went away: the RX thread reconnects
        }
        stats.toVirtioDropped++;
    }

    // ---- RX: port → TAP, and the connection -------------------------------------------------------------------

    private void rxLoop() {
        while (running) {
            VhostUserFrontend f;
            try {
                f = VhostUserFrontend.connect(options.peer(), frontendOptions);
            } catch (InterruptedIOException e) {
                break;
            } catch (IOException | RuntimeException e) {
                noteError(e.getMessage());
                pause(RECONNECT_DELAY);
                continue;
            }
            if (!running) {
                f.close();
                break;
            }
            try {
                tap.setOffload(deviceTransmitOffloads(f.features()));
            } catch (LinuxException e) {
                LOG.log(Level.WARNING, "host peer {0}: TUNSETOFFLOAD: {1}", tap.name(), e.getMessage());
            }
            frontend = f;
            connections++;
            LOG.log(Level.DEBUG, "host peer {0}: reached {1} with {2}, TAP offloads 0x{3}", tap.name(), options.peer(),
                    Features.toString(f.features()), Integer.toHexString(tap.offload()));
            try {
                while (running) {
                    if (f.receive(rxFrame, RECEIVE_WAIT)) {
                        stats.virtioFramesTaken++;
                        writeTap();
                    }
                }
            } catch (IOException e) {
                if (running) {
                    noteError(e.getMessage());
                }
            }
            frontend = null;
            f.close();
            if (running) {
                pause(RECONNECT_DELAY);
            }
        }
    }

    private void writeTap() {
        int length = rxFrame.length();
        if (tapDead || length > MAX_FRAME) {
            stats.toTapDropped++;
            return;
        }
        rxFrame.header().numBuffers(0).encode(toTap, 0, tapHeader);
        toTap.putBytes(tapHeader, rxFrame.buffer(), 0, length);
        try {
            if (tap.write(toTap.addressOffset(), tapHeader + length) == tapHeader + length) {
                stats.toTap++;
                return;
            }
        } catch (LinuxException e) {
            if (e.errno() == Errno.EBADFD) {
                tapDead = true; // also seen by the TX thread through its own read
            }
        }
        stats.toTapDropped++;
    }

    private void noteError(String message) {
        if (!message.equals(lastError)) {
            LOG.log(Level.DEBUG, "host peer {0}: {1}", tap.name(), message);
        }
        lastError = message;
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Disconnects from the port and stops both threads; the TAP is the caller's. */
    @Override
    public void close() {
        running = false;
        VhostUserFrontend f = frontend;
        if (f != null) {
            f.close(); // wakes a receive
        }
        rxThread.interrupt(); // wakes a connect retry or the reconnect pause
        try {
            wakeup.signal();
        } catch (LinuxException | IllegalStateException ignored) {
            // closed
        }
        joinTxThread();
        if (rxThread.isAlive() || rxThread.getState() != Thread.State.NEW) {
            try {
                rxThread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        f = frontend;
        if (f != null) {
            f.close();
        }
        epoll.close();
        wakeup.close();
    }
}
