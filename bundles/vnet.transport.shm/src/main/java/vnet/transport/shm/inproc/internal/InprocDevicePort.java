package vnet.transport.shm.inproc.internal;

import java.io.IOException;

import vnet.transport.shm.DataPath;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.inproc.Endpoint;
import vnet.transport.shm.inproc.InprocDevice;
import vnet.transport.shm.inproc.InprocPort;
import vnet.virtio.net.Features;

/**
 * An in-framework port: while a client is attached, an {@link InprocDevice} holds the virtqueues in a memfd region;
 * vnet runs the device side ({@link #device()}), the client's {@link InprocEndpoint} the driver side.
 * Control methods are synchronized; the data path reads only the volatile snapshot.
 */
final class InprocDevicePort implements DevicePort, InprocPort {
    /** Largest frame a client sends. */
    static final int MAX_TX_FRAME = 9216;
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
    private InprocDevice device;
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
        try {
            device = InprocDevice.create(name, settings, DRIVER_FEATURES, MAX_TX_FRAME);
            attached = device.snapshot();
            endpoint = new InprocEndpoint(this, device.driver(), device.rxCall(), device.txKick(), MAX_TX_FRAME);
        } catch (IOException | RuntimeException e) {
            release();
            throw e;
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
        if (device != null) {
            device.close();
            device = null;
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

    @Override
    public String toString() {
        return "inproc port " + (link == null ? "" : link + "/") + name;
    }
}
