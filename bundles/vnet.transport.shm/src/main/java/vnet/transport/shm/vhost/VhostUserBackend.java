package vnet.transport.shm.vhost;

import static vnet.transport.shm.vhost.VhostUserRequest.*;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.Dataspace;
import vnet.transport.shm.DataspaceException;
import vnet.transport.shm.DataspaceRegistry;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.Doorbell;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.QueuePair;
import vnet.virtio.net.Features;
import vnet.virtio.net.NetConfig;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DeviceQueue;
import vnet.virtqueue.GuestMemory;
import vnet.virtqueue.RingLayout;

/**
 * The device side of one vhost-user virtio-net port: one handler per request (the table is
 * {@link #handle}), the vring and memory state they build, and the {@link DeviceSnapshot} the data path
 * forwards with. Control-plane only: the connection thread calls {@link #handle}, and attach, detach and close
 * threads call {@link #setDataPath}; the object's monitor serializes them (the data path never takes it: it only
 * reads the volatile {@link #device() snapshot}). Before changing anything the data path may be using, a handler
 * withdraws the snapshot and {@linkplain DataPath#quiesce() quiesces} the worker; so memory is unmapped only after
 * no worker can read it, whichever thread changes what.
 */
public final class VhostUserBackend {
    private static final Logger LOG = System.getLogger(VhostUserBackend.class.getName());

    /** Protocol features this back-end implements. */
    public static final long PROTOCOL_FEATURES = (1L << VhostUserProtocol.PROTOCOL_F_MQ)
            | (1L << VhostUserProtocol.PROTOCOL_F_REPLY_ACK)
            | (1L << VhostUserProtocol.PROTOCOL_F_MTU)
            | (1L << VhostUserProtocol.PROTOCOL_F_CONFIG)
            | (1L << VhostUserProtocol.PROTOCOL_F_RESET_DEVICE)
            | (1L << VhostUserProtocol.PROTOCOL_F_CONFIGURE_MEM_SLOTS)
            | (1L << VhostUserProtocol.PROTOCOL_F_STATUS);

    private final String name;
    private final PortSettings settings;
    private final long offeredFeatures;
    private final Vring[] vrings;
    /** The device side of each queue pair while its rings run; kept across snapshots, so counters persist. */
    private final NetDevice[] nets;
    private final DataspaceRegistry dataspaces;
    private volatile DataPath dataPath = DataPath.NONE;
    private volatile DeviceSnapshot snapshot;
    private final java.util.concurrent.atomic.AtomicLong brokenQueues = new java.util.concurrent.atomic.AtomicLong();
    /** The dataspaces behind {@link #snapshot}, for {@link #memoryFault()} (read by the worker). */
    private volatile List<Dataspace> snapshotDataspaces = List.of();
    /** Ends the current connection with a reason (set by the port); never blocks. */
    private volatile java.util.function.Consumer<String> failure = reason -> { };

    private long features;
    private boolean featuresSet;
    private long protocolFeatures;
    private int status;
    private int mtu;

    public VhostUserBackend(String name, PortSettings settings) {
        this.name = name;
        this.settings = settings;
        long offered = settings.features() | VhostUserProtocol.F_PROTOCOL_FEATURES;
        if (settings.maxQueuePairs() > 1) {
            offered |= Features.MQ;
        }
        this.offeredFeatures = offered;
        this.vrings = new Vring[2 * settings.maxQueuePairs()];
        for (int i = 0; i < vrings.length; i++) {
            vrings[i] = new Vring(i);
        }
        this.nets = new NetDevice[settings.maxQueuePairs()];
        this.dataspaces = new DataspaceRegistry(settings.dsMax(), settings.trusted());
    }

    public String name() {
        return name;
    }

    public PortSettings settings() {
        return settings;
    }

    /** The device as the data path may use it now, or null while no queue pair runs. */
    public DeviceSnapshot device() {
        return snapshot;
    }

    /** Binds this port to the worker that forwards its frames. */
    public synchronized void setDataPath(DataPath dataPath) {
        withdraw();
        this.dataPath = dataPath == null ? DataPath.NONE : dataPath;
        try {
            publish();
        } catch (VhostUserException e) {
            failure.accept(e.getMessage());
        }
    }

    /** What ends the current connection when the port must break outside a handler (see {@link #setDataPath}). */
    void onFailure(java.util.function.Consumer<String> action) {
        failure = action;
    }

    /**
     * Null while every region behind the running device is intact, else which one is not (its file was cut short).
     * Lock-free: the worker asks after a memory-access fault.
     */
    public String memoryFault() {
        return firstShrunk(snapshotDataspaces);
    }

    /** Like {@link #memoryFault()}, over every registered region (the connection thread, after a fault of its own). */
    synchronized String registeredMemoryFault() {
        return firstShrunk(dataspaces.list());
    }

    private static String firstShrunk(List<Dataspace> list) {
        for (Dataspace d : list) {
            String why = d.shrunk();
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    /** The negotiated virtio features (0 before SET_FEATURES). */
    public long features() {
        return features;
    }

    public long protocolFeatures() {
        return protocolFeatures;
    }

    /**
     * Handles one validated message; prepares the reply in {@code m} and returns true when one must be sent.
     *
     * @throws VhostUserException when the message breaks the protocol or the port's limits: the connection ends
     */
    public synchronized boolean handle(VhostUserMessage m) throws VhostUserException {
        int request = m.request();
        switch (request) {
            case GET_FEATURES:
                m.replyU64(offeredFeatures);
                return true;
            case SET_FEATURES:
                setFeatures(m.u64(0));
                return ack(m);
            case GET_PROTOCOL_FEATURES:
                m.replyU64(PROTOCOL_FEATURES);
                return true;
            case SET_PROTOCOL_FEATURES:
                setProtocolFeatures(m.u64(0));
                return ack(m);
            case SET_OWNER:
                return ack(m);
            case RESET_OWNER:
            case RESET_DEVICE:
                resetDevice();
                return ack(m);
            case GET_QUEUE_NUM:
                m.replyU64(settings.maxQueuePairs());
                return true;
            case GET_MAX_MEM_SLOTS:
                m.replyU64(settings.dsMax());
                return true;
            case SET_MEM_TABLE:
                setMemTable(m);
                return ack(m);
            case ADD_MEM_REG:
                requireProtocolFeature(m, VhostUserProtocol.PROTOCOL_F_CONFIGURE_MEM_SLOTS);
                addMemRegion(m);
                return ack(m);
            case REM_MEM_REG:
                requireProtocolFeature(m, VhostUserProtocol.PROTOCOL_F_CONFIGURE_MEM_SLOTS);
                removeMemRegion(m);
                return ack(m);
            case SET_VRING_NUM:
                setVringNum(vring(m, m.u32(0)), m.u32(4));
                return ack(m);
            case SET_VRING_ADDR:
                setVringAddr(m);
                return ack(m);
            case SET_VRING_BASE:
                setVringBase(vring(m, m.u32(0)), m.u32(4));
                return ack(m);
            case GET_VRING_BASE: {
                Vring v = vring(m, m.u32(0));
                int base = stopVring(v);
                if ((features & Features.RING_PACKED) != 0) {
                    base |= v.usedBase << 16; // QEMU 7+ reads the used offset and wrap counter from bits 16..31
                }
                m.beginReply(8);
                m.putU32(0, v.index);
                m.putU32(4, base);
                return true;
            }
            case SET_VRING_KICK:
                setVringKick(m);
                return ack(m);
            case SET_VRING_CALL:
                setVringCall(m);
                return ack(m);
            case SET_VRING_ERR:
                setVringErr(m);
                return ack(m);
            case SET_VRING_ENABLE:
                setVringEnable(vring(m, m.u32(0)), m.u32(4));
                return ack(m);
            case NET_SET_MTU:
                requireProtocolFeature(m, VhostUserProtocol.PROTOCOL_F_MTU);
                setMtu(m.u64(0));
                return ack(m);
            case GET_CONFIG:
                requireProtocolFeature(m, VhostUserProtocol.PROTOCOL_F_CONFIG);
                getConfig(m);
                return true;
            case SET_CONFIG:
                requireProtocolFeature(m, VhostUserProtocol.PROTOCOL_F_CONFIG);
                // The virtio-net config space is read-only for drivers of a VIRTIO 1.x device.
                return nack(m, "SET_CONFIG refused: the virtio-net config space is read-only");
            case SET_STATUS:
                requireProtocolFeature(m, VhostUserProtocol.PROTOCOL_F_STATUS);
                setStatus((int) m.u64(0));
                return ack(m);
            case GET_STATUS:
                requireProtocolFeature(m, VhostUserProtocol.PROTOCOL_F_STATUS);
                m.replyU64(status);
                return true;
            default:
                throw new VhostUserException(VhostUserRequest.nameOf(request) + " is not supported by this back-end"
                        + " (its feature was not offered)");
        }
    }

    /** The front-end went away: stop every ring and unmap its memory; the port waits for the next one. */
    public synchronized void disconnected() {
        resetDevice();
        protocolFeatures = 0;
    }

    // ---- handlers -------------------------------------------------------------------------------------------

    private void setFeatures(long requested) throws VhostUserException {
        if ((requested & ~offeredFeatures) != 0) {
            throw new VhostUserException(String.format("SET_FEATURES 0x%x asks for features not offered (0x%x)",
                    requested, requested & ~offeredFeatures));
        }
        withdraw();
        // New features on running rings (EVENT_IDX, the ring format) change how the queues work: rebuild them where
        // they stopped instead of acknowledging and ignoring the change.
        for (Vring v : vrings) {
            pause(v);
        }
        features = requested;
        featuresSet = true;
        publish();
    }

    private void setProtocolFeatures(long requested) throws VhostUserException {
        if ((requested & ~PROTOCOL_FEATURES) != 0) {
            throw new VhostUserException(String.format(
                    "SET_PROTOCOL_FEATURES 0x%x asks for protocol features not offered (0x%x)", requested, requested & ~PROTOCOL_FEATURES));
        }
        protocolFeatures = requested;
    }

    private void setMemTable(VhostUserMessage m) throws VhostUserException {
        int regions = m.u32(0);
        if (m.fdCount() != regions) {
            throw new VhostUserException("SET_MEM_TABLE with " + regions + " regions came with " + m.fdCount() + " file descriptors");
        }
        if (regions > settings.dsMax()) {
            throw new VhostUserException("SET_MEM_TABLE with " + regions + " regions exceeds ds-max=" + settings.dsMax());
        }
        withdraw();
        List<Dataspace> old = dataspaces.removeAll();
        try {
            for (int i = 0; i < regions; i++) {
                int off = 8 + 32 * i;
                int fd = takeFd(m, i);
                register(fd, m.u64(off), m.u64(off + 8), m.u64(off + 16), m.u64(off + 24));
            }
        } finally {
            // The data path no longer sees the old mapping: unmapping it cannot crash anyone.
            old.forEach(Dataspace::close);
        }
        publish();
    }

    private void addMemRegion(VhostUserMessage m) throws VhostUserException {
        if (m.fdCount() != 1) {
            throw new VhostUserException("ADD_MEM_REG came with " + m.fdCount() + " file descriptors, expected 1");
        }
        withdraw();
        register(takeFd(m, 0), m.u64(8), m.u64(16), m.u64(24), m.u64(32));
        publish();
    }

    private void removeMemRegion(VhostUserMessage m) throws VhostUserException {
        long gpa = m.u64(8);
        long size = m.u64(16);
        if (dataspaces.releaseDuplicate(gpa, size)) {
            return; // another queue pair's device registered it too: it stays until the last one removes it
        }
        withdraw();
        Dataspace removed = dataspaces.remove(gpa, size);
        publish();
        if (removed == null) {
            throw new VhostUserException(String.format("REM_MEM_REG of gpa=0x%x size=0x%x: no such region", gpa, size));
        }
        removed.close();
    }

    private void register(int fd, long gpa, long size, long uva, long offset) throws VhostUserException {
        try {
            Dataspace ds = dataspaces.register(Fd.adopt(fd), gpa, size, uva, offset);
            LOG.log(Level.DEBUG, "vhost-user {0}: {1}", name, ds);
        } catch (DataspaceException e) {
            throw new VhostUserException("dataspace refused: " + e.getMessage());
        }
    }

    private void setVringNum(Vring v, int size) throws VhostUserException {
        if (!RingLayout.isPowerOfTwoSize(size) || size > settings.maxQueueSize()) {
            throw new VhostUserException("SET_VRING_NUM " + Integer.toUnsignedString(size) + " for vring " + v.index
                    + ": the queue size must be a power of 2 in 1.." + settings.maxQueueSize());
        }
        withdraw();
        pause(v);
        v.size = size;
        publish();
    }

    private void setVringAddr(VhostUserMessage m) throws VhostUserException {
        Vring v = vring(m, m.u32(0));
        withdraw();
        pause(v);
        v.descUserAddress = m.u64(8);
        v.usedUserAddress = m.u64(16);
        v.availUserAddress = m.u64(24);
        v.addressesSet = true;
        publish();
    }

    /**
     * SET_VRING_BASE: split rings get a 16-bit available index; packed rings get the available offset and
     * wrap counter in bits 0..15 and (QEMU 7+) the used ones in bits 16..31, which start equal here.
     */
    private void setVringBase(Vring v, int base) throws VhostUserException {
        boolean packed = (features & Features.RING_PACKED) != 0;
        if (packed && v.size == 0) {
            throw new VhostUserException("SET_VRING_BASE for packed vring " + v.index + " before SET_VRING_NUM");
        }
        if (!packed && (base & ~0xffff) != 0) {
            throw new VhostUserException("SET_VRING_BASE " + Integer.toUnsignedString(base) + " for vring " + v.index
                    + " does not fit 16 bits");
        }
        if (packed && (base & 0x7fff) >= Math.max(v.size, 1) && v.size > 0) {
            throw new VhostUserException("SET_VRING_BASE offset " + (base & 0x7fff) + " for vring " + v.index
                    + " is not below the queue size " + v.size);
        }
        if (packed && ((base >>> 16) & 0x7fff) >= v.size) {
            throw new VhostUserException("SET_VRING_BASE used offset " + ((base >>> 16) & 0x7fff) + " for vring " + v.index
                    + " is not below the queue size " + v.size);
        }
        withdraw();
        pause(v);
        v.base = base & 0xffff;
        // Packed rings (QEMU 7+): bits 16..31 are the used offset and wrap counter; 0 there means "as the available".
        v.usedBase = packed && (base >>> 16) != 0 ? base >>> 16 : v.base;
        publish();
    }

    /** GET_VRING_BASE: stops the ring and returns where the device stopped. */
    private int stopVring(Vring v) throws VhostUserException {
        withdraw();
        if (v.queue != null) {
            // Whatever the device completed must reach the driver before it reads the base.
            v.queue.publishUsed();
        }
        pause(v);
        v.started = false;
        v.closeKick();
        publish();
        return v.base;
    }

    /** Stops a running ring's queue where it is, so that {@link #start} rebuilds it from {@code v} (withdrawn first). */
    private void pause(Vring v) {
        DeviceQueue q = v.queue;
        if (q != null) {
            v.base = q.lastAvailIndex();
            v.usedBase = q.usedIndex();
            q.deactivate();
            v.queue = null;
        }
    }

    private void setVringKick(VhostUserMessage m) throws VhostUserException {
        long value = m.u64(0);
        Vring v = vring(m, (int) (value & VhostUserProtocol.VRING_IDX_MASK));
        Doorbell kick = doorbell(m, value, "SET_VRING_KICK");
        withdraw();
        v.closeKick();
        v.kick = kick;
        v.started = true;
        // Without protocol features a ring is enabled by its kick; with them, by SET_VRING_ENABLE.
        if ((features & VhostUserProtocol.F_PROTOCOL_FEATURES) == 0) {
            v.enabled = true;
        }
        publish();
    }

    private void setVringCall(VhostUserMessage m) throws VhostUserException {
        long value = m.u64(0);
        Vring v = vring(m, (int) (value & VhostUserProtocol.VRING_IDX_MASK));
        Doorbell call = doorbell(m, value, "SET_VRING_CALL");
        withdraw();
        v.closeCall();
        v.call = call;
        publish();
    }

    private void setVringErr(VhostUserMessage m) throws VhostUserException {
        long value = m.u64(0);
        Vring v = vring(m, (int) (value & VhostUserProtocol.VRING_IDX_MASK));
        Doorbell err = doorbell(m, value, "SET_VRING_ERR");
        withdraw();
        v.closeErr();
        v.err = err;
        publish();
    }

    /** A ring broke (on the worker or this thread): one log line, the counter, and the front-end's error eventfd. */
    private void queueBroken(Vring v, String reason) {
        Doorbell err = v.err;
        if (err != null) {
            err.ring();
        }
        brokenQueues.incrementAndGet();
        LOG.log(Level.WARNING, "vhost-user {0}: vring {1} broken: {2}{3}", name, v.index, reason,
                err != null ? "; front-end told through its error eventfd" : "");
    }

    /** Rings found broken since the port was made (each breaks once until the front-end resets it). */
    public long brokenQueues() {
        return brokenQueues.get();
    }

    private void setVringEnable(Vring v, int enable) throws VhostUserException {
        if (enable != 0 && enable != 1) {
            throw new VhostUserException("SET_VRING_ENABLE " + Integer.toUnsignedString(enable) + " for vring " + v.index + ": expected 0 or 1");
        }
        withdraw();
        v.enabled = enable == 1;
        publish();
    }

    private void setMtu(long value) throws VhostUserException {
        if (value < 68 || value > 65535) {
            throw new VhostUserException("NET_SET_MTU " + Long.toUnsignedString(value) + " is out of range 68..65535");
        }
        mtu = (int) value;
    }

    private void getConfig(VhostUserMessage m) {
        int offset = m.u32(0);
        int size = m.u32(4);
        // The port's own mtu= wins over the front-end's NET_SET_MTU.
        int configMtu = settings.mtu() != 0 ? settings.mtu() : mtu;
        NetConfig config = new NetConfig().status(NetConfig.S_LINK_UP).maxVirtqueuePairs(settings.maxQueuePairs()).mtu(configMtu);
        if (settings.mac() >= 0) {
            byte[] mac = new byte[6];
            for (int i = 0; i < 6; i++) {
                mac[i] = (byte) (settings.mac() >>> (40 - 8 * i));
            }
            config.mac(mac);
        }
        byte[] space = new byte[NetConfig.SIZE];
        config.encode(space, 0);
        m.beginReply(12 + size);
        // Bytes past the config space read as zero, as a PCI config read past the end would.
        var bytes = m.bytes();
        for (int i = 0; i < size; i++) {
            long at = (long) offset + i;
            bytes.put(VhostUserProtocol.HEADER_SIZE + 12 + i, at >= 0 && at < space.length ? space[(int) at] : 0);
        }
    }

    private void setStatus(int value) {
        status = value & 0xff;
        if (status == 0) {
            resetDevice();
        }
    }

    /** Every ring stopped, memory unmapped, features forgotten: the state of a new connection. */
    private void resetDevice() {
        withdraw();
        for (Vring v : vrings) {
            if (v.queue != null) {
                v.queue.deactivate();
            }
            v.reset();
        }
        snapshotDataspaces = List.of();
        dataspaces.close();
        features = 0;
        featuresSet = false;
        status = 0; // nothing to publish until the next SET_FEATURES
    }

    // ---- snapshot -------------------------------------------------------------------------------------------

    /** Takes the snapshot away from the data path and waits until the worker no longer uses it. */
    private void withdraw() {
        if (snapshot != null) {
            snapshot = null;
            dataPath.quiesce();
        }
    }

    /**
     * Starts rings that became ready and publishes what runs.
     *
     * @throws VhostUserException when a region's file was cut short: starting a ring there would fault
     */
    private void publish() throws VhostUserException {
        if (!featuresSet) {
            return;
        }
        for (Dataspace d : dataspaces.list()) {
            String why = d.shrunk();
            if (why != null) {
                throw new VhostUserException("guest memory fault: " + why);
            }
        }
        GuestMemory memory = dataspaces.guestMemory();
        boolean packed = (features & Features.RING_PACKED) != 0;
        List<QueuePair> pairs = new ArrayList<>();
        for (int p = 0; p < vrings.length / 2; p++) {
            Vring rx = vrings[2 * p];
            Vring tx = vrings[2 * p + 1];
            if (!rx.ready() || !tx.ready() || (!rx.enabled && !tx.enabled)
                    || !start(rx, memory, packed) || !start(tx, memory, packed)) {
                continue;
            }
            if (settings.pollMode()) {
                tx.queue.disableNotification();
            }
            // The worker never waits for receive buffers (a frame without one is dropped), so the driver need not
            // kick when it refills; a data path that does wait (a host peer holding a frame) turns it back on.
            rx.queue.disableNotification();
            NetDevice net = nets[p];
            if (net == null || net.rxQueue() != rx.queue || net.txQueue() != tx.queue) {
                net = new NetDevice(rx.queue, tx.queue, features);
                nets[p] = net;
            }
            // vhost-user: a disabled ring gets no new receive frames, and its transmit frames are taken and discarded.
            net.setRxEnabled(rx.enabled);
            net.setTxEnabled(tx.enabled);
            pairs.add(new QueuePair(p, net, rx.call, tx.call, settings.pollMode() ? null : tx.kick,
                    settings.pollMode() ? null : rx.kick));
        }
        if (!pairs.isEmpty()) {
            snapshotDataspaces = dataspaces.list();
            snapshot = new DeviceSnapshot(features, VirtioNetHeader.headerSize(features), memory, List.copyOf(pairs));
            dataPath.wake();
        }
    }

    /** Makes the ring's device queue run over {@code memory}; false (with a logged reason) if it cannot. */
    private boolean start(Vring v, GuestMemory memory, boolean packed) {
        DeviceQueue q = v.queue;
        if (q == null || q.isPacked() != packed) {
            q = packed ? DeviceQueue.packed() : DeviceQueue.split();
            Vring ring = v;
            q.onBroken(reason -> queueBroken(ring, reason));
            q.setSize(v.size);
            q.setFeatures(features);
            q.setMemory(memory);
            long desc = memory.translateUserAddress(v.descUserAddress);
            long avail = memory.translateUserAddress(v.availUserAddress);
            long used = memory.translateUserAddress(v.usedUserAddress);
            if (desc == GuestMemory.NO_ADDRESS || avail == GuestMemory.NO_ADDRESS || used == GuestMemory.NO_ADDRESS) {
                LOG.log(Level.WARNING, "vhost-user {0}: vring {1} addresses are outside the memory table", name, v.index);
                return false;
            }
            q.setRingAddresses(desc, avail, used);
            try {
                q.setLastAvailIndex(v.base);
                if (packed) {
                    q.setUsedIndex(v.usedBase);
                }
            } catch (IllegalArgumentException e) { // SET_VRING_NUM shrank the ring below the base given before
                LOG.log(Level.WARNING, "vhost-user {0}: vring {1} cannot start: {2}", name, v.index, e.getMessage());
                return false;
            }
            if (!q.activate()) {
                LOG.log(Level.WARNING, "vhost-user {0}: vring {1} cannot start: {2}", name, v.index, q.brokenReason());
                return false;
            }
            if (packed) {
                // After a back-end crash QEMU sends its stale packed-ring position; the ring knows where we were.
                int fromRing = q.positionFromRing();
                if (fromRing >= 0 && (fromRing != v.base || fromRing != v.usedBase)) {
                    LOG.log(Level.INFO, "vhost-user {0}: packed vring {1} resumes at 0x{2} as its descriptors say"
                            + " (front-end sent 0x{3})", name, v.index, Integer.toHexString(fromRing), Integer.toHexString(v.base));
                    q.setLastAvailIndex(fromRing);
                }
            }
            v.queue = q;
        } else if (q.memory() != memory) {
            q.setMemory(memory);
        }
        return q.isActive();
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private Vring vring(VhostUserMessage m, int index) throws VhostUserException {
        if (index < 0 || index >= vrings.length) {
            throw new VhostUserException(VhostUserRequest.nameOf(m.request()) + " names vring " + Integer.toUnsignedString(index)
                    + "; this port has " + vrings.length + " (" + settings.maxQueuePairs() + " queue pairs)");
        }
        return vrings[index];
    }

    private Doorbell doorbell(VhostUserMessage m, long value, String what) throws VhostUserException {
        if ((value & VhostUserProtocol.VRING_NOFD_MASK) != 0) {
            return null;
        }
        if (m.fdCount() != 1) {
            throw new VhostUserException(what + " came with " + m.fdCount() + " file descriptors, expected 1");
        }
        Fd fd = Fd.adopt(takeFd(m, 0));
        try {
            // Only an eventfd: any other fd (a memfd, /dev/null, the socket itself) was accepted, and the data path's
            // epoll_ctl(ADD) then failed with EPERM and killed the worker of the port. On refusal the fd is closed.
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(fd.fd()))).toString();
            if (!target.equals("anon_inode:[eventfd]")) {
                fd.close();
                throw new VhostUserException(what + ": not an eventfd: " + target);
            }
            return new Doorbell(EventFd.adopt(fd));
        } catch (IOException e) {
            fd.close();
            throw new VhostUserException(what + ": not an eventfd: " + e.getMessage());
        }
    }

    /** Takes ownership of the message's i-th fd, so the connection does not close it. */
    private static int takeFd(VhostUserMessage m, int i) {
        int fd = m.fds()[i];
        m.fds()[i] = -1;
        return fd;
    }

    private void requireProtocolFeature(VhostUserMessage m, int bit) throws VhostUserException {
        if ((protocolFeatures & (1L << bit)) == 0) {
            throw new VhostUserException(VhostUserRequest.nameOf(m.request()) + " needs protocol feature " + bit
                    + ", which was not negotiated");
        }
    }

    /** REPLY_ACK: a success reply when the front-end asked for one. */
    private boolean ack(VhostUserMessage m) {
        if (m.needsReply() && (protocolFeatures & (1L << VhostUserProtocol.PROTOCOL_F_REPLY_ACK)) != 0) {
            m.replyU64(0);
            return true;
        }
        return false;
    }

    /** REPLY_ACK: a failure reply (the connection stays); without REPLY_ACK the refusal is only logged. */
    private boolean nack(VhostUserMessage m, String reason) {
        LOG.log(Level.WARNING, "vhost-user {0}: {1}", name, reason);
        if (m.needsReply() && (protocolFeatures & (1L << VhostUserProtocol.PROTOCOL_F_REPLY_ACK)) != 0) {
            m.replyU64(1);
            return true;
        }
        return false;
    }
}
