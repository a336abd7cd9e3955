package vnet.transport.shm.inproc.internal;

import java.io.IOException;
import java.util.List;

import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.linux.LinuxException;
import vnet.linux.Mapping;
import vnet.linux.Memfd;
import vnet.linux.Mman;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.Doorbell;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.QueuePair;
import vnet.transport.shm.inproc.Endpoint;
import vnet.transport.shm.inproc.InprocPort;
import vnet.virtio.net.Features;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.NetDriver;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DeviceQueue;
import vnet.virtqueue.DriverQueue;
import vnet.virtqueue.GuestMemory;
import vnet.virtqueue.MemoryRegion;
import vnet.virtqueue.RingLayout;

/**
 * An in-framework port: while a client is attached, one memfd region holds a receive and a transmit split
 * virtqueue and the driver's buffers; vnet runs the device side ({@link #device()}), the client's
 * {@link InprocEndpoint} the driver side. Kicks and calls are eventfd {@link Doorbell}s, as with vhost-user.
 * Control methods are synchronized; the data path reads only the volatile snapshot.
 */
final class InprocDevicePort implements DevicePort, InprocPort {
    /** Guest physical address of the region (not 0, so that translation is exercised). */
    static final long GPA = 0x1000_0000L;
    /** Bytes per receive buffer (mergeable: a frame may take several). */
    static final int RX_BUFFER_SIZE = 2048;
    /** Largest frame a client sends. */
    static final int MAX_TX_FRAME = 9216;
    /** Largest queue used, whatever the port's limit. */
    static final int QUEUE_SIZE = 256;
    /** What the in-framework driver supports: VIRTIO 1.x, mergeable receive buffers, event index; split rings. */
    static final long DRIVER_FEATURES = Features.VERSION_1 | Features.MRG_RXBUF | Features.RING_EVENT_IDX;

    private final String name;
    private final String link;
    private final PortSettings settings;
    private final Runnable onClose;
    private volatile DataPath dataPath = DataPath.NONE;
    private volatile DeviceSnapshot snapshot;
    private DeviceSnapshot attached;
    private InprocEndpoint endpoint;
    private Fd memfd;
    private Mapping mapping;
    private Doorbell rxCall;
    private Doorbell txKick;
    private boolean closed;

    InprocDevicePort(String name, String link, PortSettings settings, Runnable onClose) {
        this.name = name;
        this.link = link;
        this.settings = settings;
        this.onClose = onClose;
    }

    @Override
    public String name() {
        return name;
    }

    /** The link or switch, or null if unknown. */
    String link() {
        return link;
    }

    @Override
    public long mac() {
        return settings.mac();
    }

    @Override
    public DeviceSnapshot device() {
        return snapshot;
    }

    @Override
    public synchronized void setDataPath(DataPath dataPath) {
        withdraw();
        this.dataPath = dataPath == null ? DataPath.NONE : dataPath;
        snapshot = attached;
        this.dataPath.wake();
    }

    @Override
    public synchronized boolean isAttached() {
        return endpoint != null;
    }

    @Override
    public synchronized Endpoint attach() throws IOException {
        if (closed) {
            throw new IOException("inproc port " + name + " is closed");
        }
        if (endpoint != null) {
            throw new IOException("inproc port " + name + " is in use");
        }
        long features = settings.features() & DRIVER_FEATURES;
        int n = Math.min(settings.maxQueueSize(), QUEUE_SIZE);
        int header = VirtioNetHeader.headerSize(features);
        int txBufferSize = header + MAX_TX_FRAME;
        RingLayout rxLayout = RingLayout.split(GPA, n);
        RingLayout txLayout = RingLayout.split(align(rxLayout.end(), 4096), n);
        long bufferArea = align(txLayout.end(), 4096);
        long size = align(bufferArea + NetDriver.bufferAreaSize(n, RX_BUFFER_SIZE, n, txBufferSize) - GPA,
                Mman.pageSize());
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
            attached = new DeviceSnapshot(features, header, memory, List.of(pair));
            endpoint = new InprocEndpoint(this, driver, rxCall, txKick, MAX_TX_FRAME);
        } catch (IOException | RuntimeException e) {
            release();
            throw e instanceof IOException io ? io : new IOException("inproc port " + name + ": " + e.getMessage(), e);
        }
        snapshot = attached;
        dataPath.wake();
        return endpoint;
    }

    /** The endpoint closed: stop the device, wait for the worker to let go, free everything. */
    synchronized void detach(InprocEndpoint e) {
        if (endpoint != e) {
            return;
        }
        withdraw();
        release();
    }

    private void release() {
        attached = null;
        endpoint = null;
        if (rxCall != null) {
            rxCall.close();
            rxCall = null;
        }
        if (txKick != null) {
            txKick.close();
            txKick = null;
        }
        if (mapping != null) {
            mapping.close();
            mapping = null;
        }
        if (memfd != null) {
            memfd.close();
            memfd = null;
        }
    }

    private void withdraw() {
        if (snapshot != null) {
            snapshot = null;
            dataPath.quiesce();
        }
    }

    @Override
    public void close() {
        InprocEndpoint e;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            e = endpoint;
        }
        if (e != null) {
            e.close();
        }
        synchronized (this) {
            withdraw();
            release();
        }
        onClose.run();
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

    @Override
    public String toString() {
        return "inproc port " + (link == null ? "" : link + "/") + name;
    }
}
