package vnet.transport.vxlan.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.DatagramBatch;
import vnet.linux.Epoll;
import vnet.linux.EventFd;
import vnet.linux.LinuxException;
import vnet.linux.UdpSocket;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.inproc.InprocDevice;
import vnet.transport.vxlan.VxlanOptions;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.NetDriver;
import vnet.virtio.net.VirtioNetHeader;

/**
 * A switch port whose far side is a VXLAN tunnel. The port is an {@link InprocDevice} (real virtqueues in a memfd,
 * as an in-framework port has) whose driver is this port's own thread: frames the switch delivers to the port are
 * taken from the receive queue, encapsulated and sent by UDP to one remote (a destination learned behind it) or to
 * every remote (broadcast, multicast, unknown unicast: head-end replication); datagrams received are checked (source
 * one of the remotes, I flag, VNI, size), decapsulated and put on the transmit queue for the switch to forward.
 *
 * <p>Underlay I/O is batched: up to {@value #BURST} datagrams per {@code recvmmsg} and per {@code sendmmsg}. Sending
 * goes through a raw UDP socket, because each datagram needs its own source port (a hash of the inner flow) and a
 * UDP socket has one; receiving goes through a UDP socket bound to {@code local:dstport}. A frame flooded to several
 * remotes is copied once and sent from that one buffer to each. One thread does both directions, a bounded burst each
 * in turn, and sleeps in epoll on the socket and the receive queue's call when both are idle. Nothing allocates per
 * frame; nothing locks.
 *
 * <p>The driver negotiates no checksum or segmentation offload, so the switch completes partial checksums before
 * delivering here and never hands this port a GSO frame (a frame that needs segmenting is dropped by the switch and
 * counted there as an offload drop until software segmentation exists). The port has no {@code mac=}: the switch's
 * source check applies to ports with one, and this port carries every remote station's address.
 */
final class VxlanPort implements DevicePort {
    private static final Logger LOG = System.getLogger(VxlanPort.class.getName());

    /** VIRTIO 1.x, mergeable receive buffers, event index; no offloads (see above). */
    static final long DRIVER_FEATURES = Features.VERSION_1 | Features.MRG_RXBUF | Features.RING_EVENT_IDX;
    /** Frames (or datagrams) per direction per turn, and per recvmmsg. */
    static final int BURST = 32;
    /** Largest inner frame whatever the underlay: a jumbo frame. */
    static final int MAX_INNER_FRAME = 9216;
    /** Room per datagram: UDP and VXLAN headers and the largest inner frame, rounded up. */
    private static final int SLOT = 9216 + 64;
    /** Aging of learned remotes, Linux vxlan's default. */
    static final long AGING_NANOS = TimeUnit.SECONDS.toNanos(300);
    private static final int SOCKET_BUFFER = 4 << 20;
    private static final int IDLE_WAIT_MS = 100;
    private static final long TOKEN_STOP = 0, TOKEN_SOCKET = 1, TOKEN_RX_CALL = 2;

    private final String name;
    private final VxlanOptions options;
    private final int vni;
    private final int dstport;
    private final int[] remotes;
    private final int underlayMtu;
    private final int maxInnerFrame;
    private final InprocDevice device;
    private final NetDriver driver;
    private final UdpSocket in;
    private final UdpSocket out;
    private final DatagramBatch inBatch = new DatagramBatch(BURST);
    private final DatagramBatch outBatch;
    private final UnsafeBuffer inArea;
    private final UnsafeBuffer outArea;
    private final FrameBuffer frame = new FrameBuffer(SLOT);
    private final VirtioNetHeader txHeader = new VirtioNetHeader();
    private final VtepTable vteps = new VtepTable(4096, AGING_NANOS);
    private final EventFd stop;
    private final Epoll epoll;
    private final Thread thread;
    private final Consumer<VxlanPort> onClose;
    private volatile boolean running = true;
    private volatile DataPath dataPath = DataPath.NONE;
    private volatile DeviceSnapshot snapshot;
    private boolean closed;

    // Port thread's counters; other threads read recent values.
    private long encapsulated, datagramsSent, datagramsReceived, decapsulated, dropsUnknownSource, dropsBadFlags,
            dropsWrongVni, dropsShort, dropsTooBig, dropsQueueFull, dropsOffload, sendErrors;
    private volatile int lastSendErrno;

    private VxlanPort(String name, VxlanOptions options, int underlayMtu, InprocDevice device, UdpSocket in,
            UdpSocket out, Consumer<VxlanPort> onClose) throws LinuxException {
        this.onClose = onClose;
        this.name = name;
        this.options = options;
        this.vni = options.vni();
        this.dstport = options.dstport();
        this.remotes = options.remotes();
        this.underlayMtu = underlayMtu;
        this.maxInnerFrame = maxInnerFrame(underlayMtu);
        this.device = device;
        this.driver = device.driver();
        this.in = in;
        this.out = out;
        this.outBatch = new DatagramBatch(Math.min(1024, BURST * remotes.length));
        this.inArea = new UnsafeBuffer(ByteBuffer.allocateDirect(BURST * SLOT));
        this.outArea = new UnsafeBuffer(ByteBuffer.allocateDirect(BURST * SLOT));
        for (int i = 0; i < BURST; i++) {
            inBatch.buffer(i, inArea.addressOffset() + (long) i * SLOT, SLOT);
        }
        this.stop = EventFd.create();
        this.epoll = Epoll.create(4);
        epoll.add(stop.fd().fd(), Epoll.EPOLLIN, TOKEN_STOP);
        epoll.add(in.fd(), Epoll.EPOLLIN, TOKEN_SOCKET);
        epoll.add(device.rxCall().fd(), Epoll.EPOLLIN, TOKEN_RX_CALL);
        this.thread = new Thread(this::run, "vnet-vxlan-" + name);
        thread.setDaemon(true);
    }

    /** The largest inner frame an underlay of this MTU carries unfragmented over IPv4. */
    static int maxInnerFrame(int underlayMtu) {
        return Math.min(MAX_INNER_FRAME, underlayMtu - Vxlan.OUTER_IPV4);
    }

    /**
     * Opens the sockets on {@code local} (in the calling thread's network namespace), sets up the device and starts
     * the port's thread.
     *
     * @throws IOException if {@code local} is not an address here, or the port is taken
     */
    static VxlanPort open(PortSpec spec, VxlanOptions options, Consumer<VxlanPort> onClose)
            throws IOException {
        String name = (spec.link() == null ? "" : spec.link() + "/") + spec.name();
        int mtu = underlayMtu(options.local());
        UdpSocket in = null;
        UdpSocket out = null;
        InprocDevice device = null;
        try {
            in = UdpSocket.bind(options.local(), options.dstport());
            in.bufferSizes(SOCKET_BUFFER, 0);
            out = UdpSocket.rawSender(options.local());
            out.bufferSizes(0, SOCKET_BUFFER);
            device = InprocDevice.create("vxlan-" + spec.name(), spec.settings(), DRIVER_FEATURES, maxInnerFrame(mtu));
            VxlanPort port = new VxlanPort(name, options, mtu, device, in, out, onClose);
            port.thread.start();
            LOG.log(Level.INFO, "vxlan port {0}: {1}, underlay MTU {2} (guests: MTU {3} at most)", name, options,
                    Integer.toString(mtu), Integer.toString(mtu - Vxlan.GUEST_MTU_OVERHEAD));
            return port;
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[] {device, out, in}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception ignored) {
                        // failing already
                    }
                }
            }
            throw e;
        }
    }

    /** The MTU of the interface that has {@code local}, looked up in the calling thread's network namespace. */
    private static int underlayMtu(int local) throws IOException {
        byte[] a = {(byte) (local >>> 24), (byte) (local >>> 16), (byte) (local >>> 8), (byte) local};
        NetworkInterface nic;
        try {
            nic = NetworkInterface.getByInetAddress(InetAddress.getByAddress(a));
        } catch (SocketException e) {
            throw new IOException("vxlan: cannot list the interfaces: " + e.getMessage(), e);
        }
        if (nic == null) {
            throw new IOException("local=" + VxlanOptions.format(local) + " is not an address of this host");
        }
        int mtu = nic.getMTU();
        if (mtu - Vxlan.OUTER_IPV4 < 68 + Vxlan.ETH_HEADER_LENGTH) {
            throw new IOException("the MTU " + mtu + " of " + nic.getName() + " is too small for VXLAN");
        }
        return mtu;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceSnapshot device() {
        return snapshot;
    }

    @Override
    public synchronized void setDataPath(DataPath dataPath) {
        withdraw();
        this.dataPath = dataPath == null ? DataPath.NONE : dataPath;
        snapshot = closed ? null : device.snapshot();
        this.dataPath.wake();
    }

    private void withdraw() {
        if (snapshot != null) {
            snapshot = null;
            dataPath.quiesce();
        }
    }

    VxlanOptions options() {
        return options;
    }

    int underlayMtu() {
        return underlayMtu;
    }

    int maxInnerFrame() {
        return maxInnerFrame;
    }

    /** Recent values of the counters. */
    VxlanCounters counters() {
        return new VxlanCounters(encapsulated, datagramsSent, datagramsReceived, decapsulated, dropsUnknownSource,
                dropsBadFlags, dropsWrongVni, dropsShort, dropsTooBig, dropsQueueFull, dropsOffload, sendErrors,
                vteps.learnFailures);
    }

    // ---- the port's thread ----------------------------------------------------------------------------------------

    private void run() {
        try {
            while (running) {
                long now = System.nanoTime();
                int work = decapsulate(now) + encapsulate(now);
                if (work == 0) {
                    sleep();
                }
            }
        } catch (Throwable t) {
            if (running) {
                LOG.log(Level.ERROR, "vxlan port " + name + ": stopped by an error", t);
            }
        }
    }

    /** Asks for a call on the next received frame and, if none came meanwhile, waits for it, a datagram or stop. */
    private void sleep() throws LinuxException {
        var rx = driver.rxQueue();
        if (!rx.hasUsed() && !rx.enableInterrupts()) {
            epoll.epollWait(IDLE_WAIT_MS);
            device.rxCall().drain();
        }
        rx.disableInterrupts();
    }

    /** Datagrams in, frames to the switch: at most one burst. */
    private int decapsulate(long now) throws LinuxException {
        int n = in.receive(inBatch, BURST);
        int queued = 0;
        for (int i = 0; i < n; i++) {
            datagramsReceived++;
            int length = inBatch.length(i);
            int at = i * SLOT;
            int remote = remoteIndex(inBatch.sourceAddress(i));
            if (remote < 0) {
                dropsUnknownSource++;
                continue;
            }
            if (length < Vxlan.HEADER_LENGTH + Vxlan.ETH_HEADER_LENGTH) {
                dropsShort++;
                continue;
            }
            int check = Vxlan.check(inArea, at, vni);
            if (check != Vxlan.OK) {
                if (check == Vxlan.WRONG_VNI) {
                    dropsWrongVni++;
                } else {
                    dropsBadFlags++;
                }
                continue;
            }
            int frameLength = length - Vxlan.HEADER_LENGTH;
            if (frameLength > maxInnerFrame) { // also a datagram cut short by the slot
                dropsTooBig++;
                continue;
            }
            long source = mac(inArea, at + Vxlan.HEADER_LENGTH + 6);
            if (!isMulticast(source)) {
                vteps.learn(source, remote, now);
            }
            if (!driver.send(txHeader, inArea, at + Vxlan.HEADER_LENGTH, frameLength)) {
                dropsQueueFull++;
                continue;
            }
            decapsulated++;
            queued++;
        }
        if (queued > 0 && driver.kickTx()) {
            device.txKick().ring();
        }
        return n;
    }

    /** Frames from the switch out, at most one burst: each encapsulated once, sent to one remote or all. */
    private int encapsulate(long now) {
        int frames = 0;
        int messages = 0;
        int headers = Vxlan.UDP_HEADER_LENGTH + Vxlan.HEADER_LENGTH;
        while (frames < BURST) {
            int n = driver.receive(frame);
            if (n == NetDriver.NONE) {
                break;
            }
            int at = frames * SLOT;
            frames++;
            if (n == NetDriver.ERROR) {
                continue; // counted by the driver
            }
            if (frame.header().gsoType() != VirtioNetHeader.GSO_NONE) {
                dropsOffload++;
                continue;
            }
            if (n > maxInnerFrame) {
                dropsTooBig++;
                continue;
            }
            if (n < Vxlan.ETH_HEADER_LENGTH) {
                dropsShort++;
                continue;
            }
            UnsafeBuffer f = frame.buffer();
            outArea.putBytes(at + headers, f, 0, n);
            Vxlan.writeUdpHeader(outArea, at, Vxlan.sourcePort(Vxlan.flowHash(f, 0, n)), dstport, headers + n);
            Vxlan.writeHeader(outArea, at + Vxlan.UDP_HEADER_LENGTH, vni);
            long destination = mac(f, 0);
            int remote = isMulticast(destination) ? -1 : vteps.lookup(destination, now);
            long address = outArea.addressOffset() + at;
            if (remote >= 0) {
                messages = queue(messages, address, headers + n, remote);
            } else {
                for (int r = 0; r < remotes.length; r++) {
                    messages = queue(messages, address, headers + n, r);
                }
            }
            encapsulated++;
        }
        send(messages);
        if (frames > 0 && driver.postRxBuffers() > 0) {
            driver.kickRx(); // publishes the buffers; the switch looks for them when it delivers, no kick needed
        }
        return frames;
    }

    private int queue(int messages, long address, int length, int remote) {
        if (messages == outBatch.capacity()) {
            send(messages);
            messages = 0;
        }
        outBatch.buffer(messages, address, length);
        outBatch.destination(messages, remotes[remote], 0); // a raw socket takes no port: it is in our UDP header
        return messages + 1;
    }

    /** Sends the queued messages; one the kernel refuses is counted and skipped. */
    private void send(int count) {
        int from = 0;
        while (from < count) {
            int sent = out.send(outBatch, from, count - from);
            if (sent < 0) {
                sendErrors++;
                lastSendErrno = -sent;
                from++;
            } else {
                datagramsSent += sent;
                from += sent;
            }
        }
    }

    private int remoteIndex(int address) {
        for (int i = 0; i < remotes.length; i++) {
            if (remotes[i] == address) {
                return i;
            }
        }
        return -1;
    }

    private static long mac(DirectBuffer b, int at) {
        return (b.getInt(at, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL) << 16 | (b.getShort(at + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF);
    }

    private static boolean isMulticast(long mac) {
        return (mac & 0x0100_0000_0000L) != 0;
    }

    // ---- close ------------------------------------------------------------------------------------------------------

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        running = false;
        try {
            stop.signal();
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, "vxlan port {0}: cannot wake its thread: {1}", name, e.getMessage());
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            withdraw();
        }
        if (thread.isAlive()) {
            LOG.log(Level.WARNING, "vxlan port {0}: its thread did not stop; its memory is left mapped", name);
        } else {
            device.close();
        }
        in.close();
        out.close();
        epoll.close();
        stop.close();
        onClose.accept(this);
        LOG.log(Level.INFO, "vxlan port {0} closed: {1}{2}", name, counters(),
                lastSendErrno == 0 ? "" : " (last send error errno " + lastSendErrno + ")");
    }

    @Override
    public String toString() {
        return "vxlan port " + name + " (" + options + ")";
    }
}
