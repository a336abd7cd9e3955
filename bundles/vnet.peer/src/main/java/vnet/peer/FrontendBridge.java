package vnet.peer;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;

import vnet.linux.LinuxException;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.VirtioNetHeader;

/**
 * {@code peer=path}: the host peer is the vhost-user front-end (driver side) of the vnet port listening at the peer
 * path, through {@link VhostUserFrontend}. The TX thread sleeps in epoll on the TAP and sends what the host stack
 * transmits; the RX thread connects (and reconnects while the port is away), then sleeps in
 * {@link VhostUserFrontend#receive} until the port's device calls, and writes what it receives to the TAP (see
 * {@link DriverBridge}).
 *
 * <p>Offloads: receive checksum and TSO (GUEST_*) are asked for, and such frames go to the TAP as they are. Transmit
 * checksum (CSUM) is asked for and the TAP told to hand us partial checksums only when the port accepted it; a
 * partial checksum that still meets a port without CSUM is completed here. Transmit TSO (HOST_TSO*) is asked for too
 * (not with {@code legacy}); where the port accepts it the TAP hands us the host stack's 64 KiB TCP segments and vnet
 * passes them on whole or segments them for receivers without TSO; elsewhere the host kernel segments.
 */
final class FrontendBridge extends DriverBridge<VhostUserFrontend> {
    private static final Logger LOG = System.getLogger(FrontendBridge.class.getName());

    /** Offloads asked of the port. */
    static final long OFFLOADS = Features.CSUM | Features.GUEST_CSUM;
    /** Receive TSO needs big receive buffers: only with mergeable ones (not with {@code legacy}). */
    static final long RECEIVE_TSO = Features.GUEST_TSO4 | Features.GUEST_TSO6 | Features.GUEST_ECN;
    /** Transmit TSO: the TAP then reads frames of up to 64 KiB, sent as one chain. */
    static final long TRANSMIT_TSO = Features.HOST_TSO4 | Features.HOST_TSO6 | Features.HOST_ECN;
    /** With {@code legacy}: no VERSION_1, no MRG_RXBUF, so the header is 10 bytes. */
    static final long LEGACY_RINGS = Features.RING_INDIRECT_DESC | Features.RING_EVENT_IDX | Features.ANY_LAYOUT;

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration RECEIVE_WAIT = Duration.ofSeconds(1);
    /** Largest frame sent to a port without transmit TSO: an MTU-sized frame (up to jumbo frames). */
    static final int MAX_SEND_FRAME = 9216;

    private final VhostUserFrontend.Options frontendOptions;
    /** TX thread's: the frame to send. */
    private final FrameBuffer txFrame = new FrameBuffer(MAX_FRAME);
    /** RX thread's: the received frame. */
    private final FrameBuffer rxFrame = new FrameBuffer();

    private FrontendBridge(TapInterface tap, PeerOptions options) throws LinuxException {
        super(tap, options);
        this.frontendOptions = frontendOptions(options);
    }

    /** The front-end options for {@code options}: legacy or not, offloads, frames up to {@link #MAX_SEND_FRAME}. */
    static VhostUserFrontend.Options frontendOptions(PeerOptions options) {
        long features = options.legacy() ? LEGACY_RINGS | OFFLOADS
                : VhostUserFrontend.DEFAULT_FEATURES | OFFLOADS | RECEIVE_TSO | TRANSMIT_TSO;
        return VhostUserFrontend.Options.defaults().withFeatures(features)
                .withMaxFrameSize(options.legacy() ? MAX_SEND_FRAME : MAX_FRAME)
                .withTimeout(CONNECT_TIMEOUT);
    }

    /** Starts both threads; the port is reached in the background (and again whenever it goes away). */
    static FrontendBridge start(TapInterface tap, PeerOptions options) throws IOException {
        FrontendBridge b = new FrontendBridge(tap, options);
        b.startThreads();
        return b;
    }

    /** The current front-end, or null while the port is not reached. */
    VhostUserFrontend frontend() {
        return connection();
    }

    @Override
    VhostUserFrontend connect() throws IOException {
        return VhostUserFrontend.connect(options.peer(), frontendOptions);
    }

    @Override
    void connected(VhostUserFrontend f) {
        try {
            tap.setOffload(deviceTransmitOffloads(f.features()));
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, "host peer {0}: TUNSETOFFLOAD: {1}", tap.name(), e.getMessage());
        }
        LOG.log(Level.DEBUG, "host peer {0}: reached {1} with {2}, TAP offloads 0x{3}", tap.name(), options.peer(),
                Features.toString(f.features()), Integer.toHexString(tap.offload()));
    }

    @Override
    boolean receive(VhostUserFrontend f) throws IOException {
        if (f.receive(rxFrame, RECEIVE_WAIT)) {
            stats.virtioFramesTaken++;
            int length = rxFrame.length();
            if (length > MAX_FRAME) {
                stats.toTapDropped++;
            } else {
                rxFrame.header().numBuffers(0).encode(toTap, 0, tapHeader);
                toTap.putBytes(tapHeader, rxFrame.buffer(), 0, length);
                writeTap(length);
            }
        }
        return true; // a lost connection throws
    }

    @Override
    int maxSendFrame(VhostUserFrontend f) {
        return (f.features() & TRANSMIT_TSO) != 0 ? MAX_FRAME : MAX_SEND_FRAME;
    }

    @Override
    boolean sendsGso(VhostUserFrontend f) {
        return (f.features() & TRANSMIT_TSO) != 0;
    }

    @Override
    boolean send(VhostUserFrontend f, VirtioNetHeader h, int length) {
        txFrame.buffer().putBytes(0, fromTap, tapHeader, length);
        txFrame.length(length);
        VirtioNetHeader out = txFrame.header().copyFrom(h).numBuffers(0)
                .flags(h.flags() & VirtioNetHeader.F_NEEDS_CSUM); // a driver never sets DATA_VALID
        if (h.needsCsum() && (f.features() & Features.CSUM) == 0) {
            if (!completeChecksum(txFrame.buffer(), 0, length, h)) {
                return false;
            }
            out.flags(0).csumStart(0).csumOffset(0);
        }
        try {
            return f.send(txFrame);
        } catch (IOException e) {
            return false; // the port went away: the RX thread reconnects
        }
    }

    @Override
    boolean isConnected(VhostUserFrontend f) {
        return f.isConnected();
    }

    @Override
    void disconnect(VhostUserFrontend f) {
        f.close();
    }

    @Override
    int virtioHeaderSize() {
        VhostUserFrontend f = connection();
        return f == null ? 0 : f.headerSize();
    }

    @Override
    long virtioFeatures() {
        VhostUserFrontend f = connection();
        return f == null ? 0 : f.features();
    }
}
