package vnet.transport.shm.inproc;

import java.io.IOException;
import java.util.List;

import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.linux.LinuxException;
import vnet.linux.Mapping;
import vnet.linux.Memfd;
import vnet.linux.Mman;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.Doorbell;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.QueuePair;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.NetDriver;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DeviceQueue;
import vnet.virtqueue.DriverQueue;
import vnet.virtqueue.GuestMemory;
import vnet.virtqueue.MemoryRegion;
import vnet.virtqueue.RingLayout;

/**
 * A virtio-net device whose driver is Java code in this process: one memfd region holds a receive and a transmit
 * split virtqueue and the driver's buffers; {@link #snapshot()} is the device side a link or switch forwards,
 * {@link #driver()} the driver side. Kicks and calls are eventfd {@link Doorbell}s, as with vhost-user. The
 * {@code inproc} transport and transports whose far side is not a guest (a VXLAN tunnel) build their ports on it.
 *
 * <p>The driver posts one buffer per receive descriptor and sends a frame as one descriptor, so one thread may use
 * the receive half of {@link #driver()} while another uses the transmit half.
 */
public final class InprocDevice implements AutoCloseable {
    /** Guest physical address of the region (not 0, so that translation is exercised). */
    public static final long GPA = 0x1000_0000L;
    /** Bytes per receive buffer (mergeable: a frame may take several). */
    public static final int RX_BUFFER_SIZE = 2048;
    /** Largest queue used, whatever the port's limit. */
    public static final int QUEUE_SIZE = 256;

    private final Fd memfd;
    private final Mapping mapping;
    private final Doorbell rxCall;
    private final Doorbell txKick;
    private final NetDriver driver;
    private final DeviceSnapshot snapshot;

    private InprocDevice(Fd memfd, Mapping mapping, Doorbell rxCall, Doorbell txKick, NetDriver driver,
            DeviceSnapshot snapshot) {
        this.memfd = memfd;
        this.mapping = mapping;
        this.rxCall = rxCall;
        this.txKick = txKick;
        this.driver = driver;
        this.snapshot = snapshot;
    }

    /**
     * Sets up memory, both virtqueues and the driver, and posts the receive buffers.
     *
     * @param name           for the memfd's name
     * @param settings       the port's settings: features offered, queue size limit, poll mode (no transmit kicks)
     * @param driverFeatures what the driver supports; the device runs with those of them {@code settings} offers
     * @param maxTxFrame     largest frame the driver sends
     */
    public static InprocDevice create(String name, PortSettings settings, long driverFeatures, int maxTxFrame)
            throws IOException {
        long features = settings.features() & driverFeatures;
        int n = Math.min(settings.maxQueueSize(), QUEUE_SIZE);
        int header = VirtioNetHeader.headerSize(features);
        int txBufferSize = header + maxTxFrame;
        RingLayout rxLayout = RingLayout.split(GPA, n);
        RingLayout txLayout = RingLayout.split(align(rxLayout.end(), 4096), n);
        long bufferArea = align(txLayout.end(), 4096);
        long size = align(bufferArea + NetDriver.bufferAreaSize(n, RX_BUFFER_SIZE, n, txBufferSize) - GPA,
                Mman.pageSize());
        Fd memfd = null;
        Mapping mapping = null;
        Doorbell rxCall = null;
        Doorbell txKick = null;
        try {
            memfd = Memfd.create("vnet-inproc-" + name, size);
            mapping = Mman.mapShared(memfd, 0, size);
            rxCall = new Doorbell(EventFd.create());
            txKick = new Doorbell(EventFd.create());
            GuestMemory memory = GuestMemory.of(MemoryRegion.ofAddress(GPA, size, mapping.address()));
            DriverQueue rxd = DriverQueue.create(memory, rxLayout, features);
            DriverQueue txd = DriverQueue.create(memory, txLayout, features);
            NetDriver driver = new NetDriver(rxd, txd, features, bufferArea, RX_BUFFER_SIZE, 1, txBufferSize, false);
            DeviceQueue rx = deviceQueue(memory, rxLayout, features);
            DeviceQueue tx = deviceQueue(memory, txLayout, features);
            if (settings.pollMode()) {
                tx.disableNotification();
            }
            NetDevice net = new NetDevice(rx, tx, features);
            driver.postRxBuffers();
            driver.kickRx();
            QueuePair pair = new QueuePair(0, net, rxCall, null, settings.pollMode() ? null : txKick, null);
            DeviceSnapshot snapshot = new DeviceSnapshot(features, header, memory, List.of(pair));
            return new InprocDevice(memfd, mapping, rxCall, txKick, driver, snapshot);
        } catch (IOException | RuntimeException e) {
            close(rxCall, txKick, mapping, memfd);
            throw e instanceof IOException io ? io : new IOException("inproc port " + name + ": " + e.getMessage(), e);
        }
    }

    /** The driver side: send on the transmit queue, receive from the receive queue. */
    public NetDriver driver() {
        return driver;
    }

    /** The device side, for the data path. */
    public DeviceSnapshot snapshot() {
        return snapshot;
    }

    /** Rung by the device when it put frames on the receive queue (and the driver asked to be told). */
    public Doorbell rxCall() {
        return rxCall;
    }

    /** Rung by the driver after it queued frames (when the device asked to be told). */
    public Doorbell txKick() {
        return txKick;
    }

    /** Frees the doorbells and the memory; the data path must have let go of {@link #snapshot()} first. */
    @Override
    public void close() {
        close(rxCall, txKick, mapping, memfd);
    }

    private static void close(AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            if (r != null) {
                try {
                    r.close();
                } catch (Exception ignored) {
                    // closing: nothing left to do about it
                }
            }
        }
    }

    private static DeviceQueue deviceQueue(GuestMemory memory, RingLayout layout, long features) throws LinuxException {
        DeviceQueue q = DeviceQueue.split();
        q.setSize(layout.queueSize());
        q.setFeatures(features);
        q.setMemory(memory);
        q.setRingAddresses(layout.descTable(), layout.driverArea(), layout.deviceArea());
        if (!q.activate()) {
            throw new IllegalStateException("virtqueue does not start: " + q.brokenReason());
        }
        return q;
    }

    private static long align(long v, long a) {
        return (v + a - 1) & -a;
    }
}
