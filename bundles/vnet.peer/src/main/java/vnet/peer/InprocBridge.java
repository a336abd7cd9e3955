package vnet.peer;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

import vnet.linux.LinuxException;
import vnet.transport.shm.inproc.Endpoint;
import vnet.transport.shm.inproc.InprocPort;
import vnet.virtio.net.VirtioNetHeader;

/**
 * {@code peer=<link>:<port>}: the host peer is the in-process driver of a vnet switch or link port whose transport is
 * {@code inproc}: it finds the {@link InprocPort} through an {@link InprocPortResolver}, attaches, and moves frames
 * between the TAP and the {@link Endpoint} (see {@link DriverBridge}: a TX thread on the TAP, an RX thread that
 * attaches, waits in {@link Endpoint#await} and writes to the TAP). When the port goes away (its configuration deleted,
 * its transport's bundle stopped) the endpoint closes and the RX thread looks for the port again until it is back.
 *
 * <p>The endpoint takes and gives bare Ethernet frames (the in-framework driver negotiates no offloads), so the TAP
 * takes no offloads either: the host kernel completes checksums and segments; a stray partial checksum is completed
 * here, a GSO frame dropped. {@code legacy} only changes the TAP's header to 10 bytes. Without {@code mac=}, the TAP
 * takes the port's {@code mac=} when it has one (a switch drops frames from any other source address of that port).
 */
final class InprocBridge extends DriverBridge<Endpoint> {
    private static final Logger LOG = System.getLogger(InprocBridge.class.getName());

    private static final long RECEIVE_WAIT_MS = 1000;

    private final InprocPortResolver resolver;
    private final SwitchPort port;

    private InprocBridge(TapInterface tap, PeerOptions options, InprocPortResolver resolver) throws LinuxException {
        super(tap, options);
        this.resolver = resolver;
        this.port = options.peerPort();
    }

    /** Starts both threads; the port is found and attached in the background (and again whenever it goes away). */
    static InprocBridge start(TapInterface tap, PeerOptions options, InprocPortResolver resolver) throws IOException {
        InprocBridge b = new InprocBridge(tap, options, resolver);
        b.startThreads();
        return b;
    }

    @Override
    Endpoint connect() throws IOException {
        InprocPort p = resolver.find(port);
        if (p == null) {
            throw new IOException("no inproc port " + port + " (yet)");
        }
        return p.attach();
    }

    @Override
    void connected(Endpoint e) {
        try {
            tap.setOffload(0);
        } catch (LinuxException ex) {
            LOG.log(Level.WARNING, "host peer {0}: TUNSETOFFLOAD: {1}", tap.name(), ex.getMessage());
        }
        long portMac = e.mac();
        if (portMac >= 0) {
            if (options.mac() == PeerOptions.NO_MAC) {
                try {
                    if (tap.mac() != portMac) {
                        tap.setMac(portMac);
                        LOG.log(Level.INFO, "host peer {0}: takes the MAC {1} of port {2}", tap.name(),
                                PeerOptions.formatMac(portMac), port);
                    }
                } catch (LinuxException ex) {
                    LOG.log(Level.WARNING, "host peer {0}: cannot take the MAC {1} of port {2}: {3}", tap.name(),
                            PeerOptions.formatMac(portMac), port, ex.getMessage());
                }
            } else if (options.mac() != portMac) {
                LOG.log(Level.WARNING, "host peer {0}: mac={1} differs from port {2}''s mac={3}; a switch drops its "
                        + "frames as spoofed", tap.name(), options.macString(), port, PeerOptions.formatMac(portMac));
            }
        }
        LOG.log(Level.DEBUG, "host peer {0}: attached to inproc port {1}", tap.name(), port);
    }

    @Override
    boolean receive(Endpoint e) {
        try {
            if (!e.await(RECEIVE_WAIT_MS, TimeUnit.MILLISECONDS)) {
                return e.isOpen();
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt(); // close() interrupts
            return false;
        }
        int n;
        while ((n = e.receive(toTap, tapHeader)) != Endpoint.NONE) {
            stats.virtioFramesTaken++;
            writeTap(n); // the header in front stays all zero: no offloads
        }
        return e.isOpen();
    }

    @Override
    int maxSendFrame(Endpoint e) {
        return e.maxFrameLength();
    }

    @Override
    boolean send(Endpoint e, VirtioNetHeader h, int length) {
        if (h.needsCsum() && !completeChecksum(fromTap, tapHeader, length, h)) {
            return false;
        }
        return e.send(fromTap, tapHeader, length);
    }

    @Override
    boolean isConnected(Endpoint e) {
        return e.isOpen();
    }

    @Override
    void disconnect(Endpoint e) {
        e.close();
    }

    /** 0: the endpoint hands over bare frames, the port's virtio_net_hdr stays inside it. */
    @Override
    int virtioHeaderSize() {
        return 0;
    }

    /** 0: the in-framework driver's features are not seen from here. */
    @Override
    long virtioFeatures() {
        return 0;
    }
}
