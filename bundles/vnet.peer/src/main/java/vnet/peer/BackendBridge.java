package vnet.peer;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.Errno;
import vnet.linux.Epoll;
import vnet.linux.EventFd;
import vnet.linux.LinuxException;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.QueuePair;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtio.net.Features;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DescriptorChain;
import vnet.virtqueue.GuestMemory;

/**
 * {@code bind=}: the host peer is the vhost-user back-end (device side) of a guest's virtio-net NIC, listening at the
 * bind path, and one thread moves the frames. Each round it reads the TAP (frames the host stack transmitted) into the
 * guest's receive queue and the guest's transmit queues into the TAP; with nothing to do it sleeps in epoll on the TAP
 * descriptor and the guest's transmit kicks (and its receive kick while a frame waits for receive buffers). It is the
 * port's {@link DataPath}: the vhost-user control thread withdraws a device snapshot and {@link #quiesce()}s it.
 */
final class BackendBridge extends Bridge implements DataPath {
    private static final Logger LOG = System.getLogger(BackendBridge.class.getName());

    /** Offloads offered to the guest, besides the rings: checksums and TSO both ways. */
    static final long OFFLOADS = Features.CSUM | Features.GUEST_CSUM | Features.HOST_TSO4 | Features.HOST_TSO6
            | Features.HOST_ECN | Features.GUEST_TSO4 | Features.GUEST_TSO6 | Features.GUEST_ECN;
    /** With {@code legacy}: no VERSION_1 and no MRG_RXBUF, so the guest's header is 10 bytes (and no packed rings). */
    static final long LEGACY_RINGS = Features.RING_INDIRECT_DESC | Features.RING_EVENT_IDX;

    private static final long TOKEN_WAKE = 0;
    private static final long TOKEN_TAP = 1;
    private static final long TOKEN_KICK = 2;
    private static final int IDLE_WAIT_MS = 1000;
    /** Never a port's snapshot: forces an epoll rebuild after an error. */
    private static final DeviceSnapshot STALE = new DeviceSnapshot(0, VirtioNetHeader.SIZE_NUM_BUFFERS,
            GuestMemory.EMPTY, List.of());

    private final VhostUserPort port;
    private final EventFd wakeup;
    private Epoll epoll;
    private boolean tapArmed;
    private boolean tapDead;

    /** Reused per frame: TAP → guest staging (header then frame), guest → TAP staging, chain, headers. */
    private final UnsafeBuffer fromTap;
    private final UnsafeBuffer toTap;
    private final DescriptorChain chain = new DescriptorChain();
    private final VirtioNetHeader tapHeaderIn = new VirtioNetHeader();
    private final VirtioNetHeader guestHeader = new VirtioNetHeader();
    /** A frame read from the TAP that waits in {@link #fromTap} for receive buffers. */
    private boolean holding;
    private int heldLength;
    /** The snapshot the epoll set was built for; compared by identity only, never used after its round. */
    private DeviceSnapshot epollDevice;

    private volatile boolean running = true;
    private volatile long rounds;

    private BackendBridge(TapInterface tap, PeerOptions options, VhostUserPort port) throws LinuxException {
        super(tap, options);
        this.port = port;
        this.wakeup = EventFd.create();
        this.fromTap = tapBuffer(tapHeader);
        this.toTap = tapBuffer(tapHeader);
    }

    /** The features offered to the guest for {@code options}. */
    static long offeredFeatures(PeerOptions options) {
        long rings = options.legacy() ? LEGACY_RINGS : PortSettings.DEFAULT_FEATURES;
        return rings | OFFLOADS;
    }

    /** Listens at the bind path and starts the thread. */
    static BackendBridge start(TapInterface tap, PeerOptions options) throws IOException {
        PortSettings settings = PortSettings.defaults().withFeatures(offeredFeatures(options));
        VhostUserPort port = VhostUserPort.listen(tap.name(), options.bind(), settings);
        BackendBridge b = null;
        try {
            b = new BackendBridge(tap, options, port);
            b.rebuildEpoll(null);
            b.startTxThread();
            port.setDataPath(b);
            return b;
        } catch (IOException | RuntimeException e) {
            if (b != null) {
                b.close();
            } else {
                port.close();
            }
            throw e;
        }
    }

    VhostUserPort port() {
        return port;
    }

    @Override
    boolean isConnected() {
        return port.device() != null;
    }

    @Override
    int virtioHeaderSize() {
        DeviceSnapshot d = port.device();
        return d == null ? 0 : d.headerSize();
    }

    @Override
    long virtioFeatures() {
        DeviceSnapshot d = port.device();
        return d == null ? 0 : d.features();
    }

    // ---- the thread ---------------------------------------------------------------------------------------------

    @Override
    void txLoop() {
        while (running) {
            DeviceSnapshot d = port.device();
            try {
                if (d != epollDevice) {
                    deviceChanged(d);
                }
                int work;
                if (d != null) {
                    work = guestToTap(d) + tapToGuest(d);
                } else {
                    work = discardTap();
                }
                if (work == 0 && running) {
                    sleep(d);
                }
            } catch (LinuxException | RuntimeException e) {
                // epoll failed: log, rebuild the set next round, and do not spin on a lasting failure
                LOG.log(Level.ERROR, "host peer " + tap.name() + ": data path error", e);
                epollDevice = STALE;
                LockSupport.parkNanos(100_000_000L);
            }
            rounds = rounds + 1;
        }
    }

    /** A new device (or none): new epoll set, TAP offloads for the guest's receive features. */
    private void deviceChanged(DeviceSnapshot d) throws LinuxException {
        rebuildEpoll(d);
        if (d == null) {
            holding = false; // nobody to hold it for
            return;
        }
        for (QueuePair p : d.pairs()) {
            p.rx().disableNotification(); // only wanted while a frame waits for buffers
        }
        try {
            tap.setOffload(guestReceiveOffloads(d.features()));
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, "host peer {0}: TUNSETOFFLOAD: {1}", tap.name(), e.getMessage());
        }
        LOG.log(Level.DEBUG, "host peer {0}: guest runs with {1}, {2}-byte header, TAP offloads 0x{3}", tap.name(),
                Features.toString(d.features()), d.headerSize(), Integer.toHexString(tap.offload()));
    }

    /** Guest transmit queues → TAP, a burst per queue. */
    private int guestToTap(DeviceSnapshot d) {
        int moved = 0;
        List<QueuePair> pairs = d.pairs();
        for (int i = 0; i < pairs.size(); i++) {
            QueuePair qp = pairs.get(i);
            NetDevice net = qp.net();
            int frames = 0;
            int length;
            while (frames < BURST && (length = net.pollTx(chain, guestHeader)) != NetDevice.NONE) {
                stats.virtioFramesTaken++;
                if (length > MAX_FRAME || tapDead) {
                    stats.toTapDropped++;
                } else {
                    guestHeader.numBuffers(0);
                    guestHeader.encode(toTap, 0, tapHeader);
                    int copied = chain.read(net.headerSize(), toTap, tapHeader, length);
                    writeTap(tapHeader + copied);
                }
                net.completeTx(chain);
                frames++;
            }
            if (frames > 0 && net.flushTx()) {
                qp.callTx();
            }
            moved += frames;
        }
        return moved;
    }

    private void writeTap(int length) {
        try {
            if (tap.write(toTap.addressOffset(), length) == length) {
                stats.toTap++;
                return;
            }
        } catch (LinuxException e) {
            if (e.errno() == Errno.EBADFD) {
                tapGone(e);
            }
            // EIO while the interface is down, EINVAL for a header the kernel refuses: the frame is lost
        }
        stats.toTapDropped++;
    }

    /** TAP → the guest's first receive queue, a burst. A frame the guest has no buffers for waits for them. */
    private int tapToGuest(DeviceSnapshot d) throws LinuxException {
        QueuePair qp = d.pairs().get(0);
        NetDevice net = qp.net();
        int frames = 0;
        boolean delivered = false;
        while (frames < BURST) {
            if (!holding) {
                int n = readTap();
                if (n <= 0) {
                    break;
                }
                if (n < tapHeader + NetDevice.ETH_HEADER_LENGTH) {
                    stats.toVirtioDropped++;
                    continue;
                }
                tapHeaderIn.decode(fromTap, 0, tapHeader);
                heldLength = n - tapHeader;
                holding = true;
            }
            int r = net.deliverToRx(tapHeaderIn, fromTap, tapHeader, heldLength);
            if (r == NetDevice.DROP_NO_BUFFER) {
                break; // keep it (partial checksum intact) until the guest posts buffers
            }
            holding = false;
            frames++;
            if (r > 0) {
                stats.toVirtio++;
                delivered = true;
            } else {
                stats.toVirtioDropped++;
            }
        }
        if (delivered && net.flushRx()) {
            qp.callRx();
        }
        return frames;
    }

    /** No guest: frames the host sends on the TAP have nowhere to go. */
    private int discardTap() throws LinuxException {
        int frames = 0;
        while (frames < BURST && readTap() > 0) {
            stats.toVirtioDropped++;
            frames++;
        }
        return frames;
    }

    /** Reads one frame into {@link #fromTap}; 0 if none (or the TAP is gone). */
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
            tapGone(e);
            return 0;
        }
    }

    /** The interface was deleted under us (its namespace removed): stop watching it; the guest side goes on. */
    private void tapGone(LinuxException e) {
        if (!tapDead) {
            tapDead = true;
            LOG.log(Level.WARNING, "host peer {0}: the TAP interface is gone ({1}); its frames are dropped", tap.name(),
                    e.getMessage());
            if (tapArmed) {
                try {
                    epoll.remove(tap.fd());
                } catch (LinuxException | IllegalStateException ignored) {
                    // closed already
                }
                tapArmed = false;
            }
        }
    }

    /**
     * Nothing moved: ask the guest to kick (transmit, and receive while a frame waits for buffers), and unless
     * something arrived meanwhile, wait in epoll for a kick, the TAP, or a wakeup.
     */
    private void sleep(DeviceSnapshot d) throws LinuxException {
        boolean pending = false;
        if (d != null) {
            for (QueuePair p : d.pairs()) {
                pending |= p.tx().enableNotification();
            }
            if (holding) {
                pending |= d.pairs().get(0).rx().enableNotification();
            }
        }
        armTap(!holding && !tapDead);
        if (!pending) {
            int n = epoll.epollWait(IDLE_WAIT_MS);
            for (int i = 0; i < n; i++) {
                long token = epoll.token(i);
                if (token == TOKEN_WAKE) {
                    wakeup.drain();
                } else if (token >= TOKEN_KICK && d != null) {
                    drainKicks(d);
                } else if (token == TOKEN_TAP && (epoll.events(i) & (Epoll.EPOLLERR | Epoll.EPOLLHUP)) != 0) {
                    readTap(); // learns whether the interface is gone (EBADFD), else gets a frame next round
                }
            }
        }
        if (d != null) {
            for (QueuePair p : d.pairs()) {
                p.tx().disableNotification();
            }
            if (holding) {
                d.pairs().get(0).rx().disableNotification();
            }
        }
    }

    private static void drainKicks(DeviceSnapshot d) {
        for (QueuePair p : d.pairs()) {
            if (p.txKick() != null) {
                p.txKick().drain();
            }
            if (p.rxKick() != null) {
                p.rxKick().drain();
            }
        }
    }

    private void armTap(boolean armed) throws LinuxException {
        if (armed != tapArmed && !tapDead) {
            epoll.modify(tap.fd(), armed ? Epoll.EPOLLIN : 0, TOKEN_TAP);
            tapArmed = armed;
        }
    }

    /** A new epoll set: wakeup, TAP, and the kicks of {@code d} (control-plane rate). */
    private void rebuildEpoll(DeviceSnapshot d) throws LinuxException {
        if (epoll != null) {
            epoll.close();
        }
        epoll = Epoll.create(8);
        epoll.add(wakeup.fd().fd(), Epoll.EPOLLIN, TOKEN_WAKE);
        tapArmed = !tapDead;
        if (tapArmed) {
            epoll.add(tap.fd(), Epoll.EPOLLIN, TOKEN_TAP);
        }
        if (d != null) {
            long token = TOKEN_KICK;
            for (QueuePair p : d.pairs()) {
                if (p.txKick() != null) {
                    epoll.add(p.txKick().fd(), Epoll.EPOLLIN, token++);
                }
                if (p.rxKick() != null) {
                    epoll.add(p.rxKick().fd(), Epoll.EPOLLIN, token++);
                }
            }
        }
        epollDevice = d;
    }

    // ---- DataPath -------------------------------------------------------------------------------------------------

    @Override
    public void quiesce() {
        Thread t = txThread();
        if (!running || t == null || Thread.currentThread() == t) {
            return;
        }
        long seen = rounds;
        wake();
        while (rounds <= seen && running && t.isAlive()) {
            LockSupport.parkNanos(20_000);
        }
    }

    @Override
    public void wake() {
        try {
            wakeup.signal();
        } catch (LinuxException | IllegalStateException e) {
            // closed: nobody to wake
        }
    }

    /** Stops the guest connection, then the thread; the TAP is the caller's. */
    @Override
    public void close() {
        port.close(); // withdraws the device (quiescing us) and disconnects the guest
        running = false;
        wake();
        joinTxThread();
        if (epoll != null) {
            epoll.close();
        }
        wakeup.close();
    }
}
