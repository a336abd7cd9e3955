package vnet.virtio.net;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import vnet.virtqueue.DeviceQueue;
import vnet.virtqueue.DriverQueue;
import vnet.virtqueue.GuestMemory;
import vnet.virtqueue.MemoryRegion;
import vnet.virtqueue.RingLayout;

/**
 * A {@link NetDriver} and a {@link NetDevice} over one temporary file mapped twice, with two separate
 * {@link FileChannel#map} calls and so two {@link GuestMemory} instances, as a guest and a vhost-user back-end in
 * two processes would see the same memory. Used by the tests and the benchmarks.
 */
public final class SharedPair implements AutoCloseable {

    /** Guest physical address of the shared region: not 0, so that translation is exercised. */
    public static final long GPA = 0x4000_0000L;

    /** The driver (guest) side. */
    public final NetDriver driver;
    /** The device (back-end) side. */
    public final NetDevice device;
    /** The driver's view of the memory. */
    public final GuestMemory driverMemory;
    /** The device's view of the memory. */
    public final GuestMemory deviceMemory;
    /** Guest physical address of the driver's buffer area (receive slots first, slot 0 first). */
    public final long bufferArea;

    private final Path file;
    private final FileChannel channel;

    private SharedPair(Path file, FileChannel channel, NetDriver driver, NetDevice device, GuestMemory driverMemory,
            GuestMemory deviceMemory, long bufferArea) {
        this.bufferArea = bufferArea;
        this.file = file;
        this.channel = channel;
        this.driver = driver;
        this.device = device;
        this.driverMemory = driverMemory;
        this.deviceMemory = deviceMemory;
    }

    /**
     * Builds a pair.
     *
     * @param packed packed rings instead of split
     * @param features negotiated features (RING_PACKED is added for packed rings)
     * @param queueSize size of both queues
     * @param rxBufferSize bytes per receive buffer
     * @param rxSegments descriptors per receive buffer
     * @param txSplitHeader header and frame in two descriptors
     * @return the pair; close it to delete the file
     * @throws IOException if the file cannot be made or mapped
     */
    public static SharedPair create(boolean packed, long features, int queueSize, int rxBufferSize, int rxSegments,
            boolean txSplitHeader) throws IOException {
        return create(packed, features, queueSize, rxBufferSize, rxSegments, txSplitHeader,
                FrameBuffer.DEFAULT_CAPACITY);
    }

    /**
     * Builds a pair whose transmit slots hold frames of up to {@code txFrameCapacity} bytes.
     *
     * @param packed packed rings instead of split
     * @param features negotiated features (RING_PACKED is added for packed rings)
     * @param queueSize size of both queues
     * @param rxBufferSize bytes per receive buffer
     * @param rxSegments descriptors per receive buffer
     * @param txSplitHeader header and frame in two descriptors
     * @param txFrameCapacity largest frame the driver can send
     * @return the pair; close it to delete the file
     * @throws IOException if the file cannot be made or mapped
     */
    public static SharedPair create(boolean packed, long features, int queueSize, int rxBufferSize, int rxSegments,
            boolean txSplitHeader, int txFrameCapacity) throws IOException {
        long f = packed ? features | Features.RING_PACKED : features;
        int txBufferSize = VirtioNetHeader.headerSize(f) + txFrameCapacity;
        int ind = (f & Features.RING_INDIRECT_DESC) != 0 ? Math.max(2, rxSegments) : 0;
        RingLayout rxLayout = packed ? RingLayout.packed(GPA, queueSize, ind) : RingLayout.split(GPA, queueSize, ind);
        long txBase = align(rxLayout.end(), 4096);
        RingLayout txLayout = packed ? RingLayout.packed(txBase, queueSize, ind)
                : RingLayout.split(txBase, queueSize, ind);
        long bufferArea = align(txLayout.end(), 4096);
        long end = bufferArea + NetDriver.bufferAreaSize(queueSize, rxBufferSize, queueSize, txBufferSize);
        long size = align(end - GPA, 4096);

        Path file = Files.createTempFile("vnet-virtio-net", ".mem");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.allocate(1), size - 1);
            // Two mappings of the same bytes: the guest's and the back-end's.
            GuestMemory driverMem = GuestMemory.of(MemoryRegion.map(GPA, ch, 0, size));
            GuestMemory deviceMem = GuestMemory.of(MemoryRegion.map(GPA, ch, 0, size));

            DriverQueue rxd = DriverQueue.create(driverMem, rxLayout, f);
            DriverQueue txd = DriverQueue.create(driverMem, txLayout, f);
            NetDriver driver = new NetDriver(rxd, txd, f, bufferArea, rxBufferSize, rxSegments, txBufferSize,
                    txSplitHeader);

            DeviceQueue rxq = deviceQueue(packed, f, deviceMem, rxLayout);
            DeviceQueue txq = deviceQueue(packed, f, deviceMem, txLayout);
            NetDevice device = new NetDevice(rxq, txq, f);
            return new SharedPair(file, ch, driver, device, driverMem, deviceMem, bufferArea);
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(file);
            throw e;
        }
    }

    private static DeviceQueue deviceQueue(boolean packed, long features, GuestMemory mem, RingLayout layout) {
        DeviceQueue q = packed ? DeviceQueue.packed() : DeviceQueue.split();
        q.setSize(layout.queueSize());
        q.setFeatures(features);
        q.setMemory(mem);
        q.setRingAddresses(layout.descTable(), layout.driverArea(), layout.deviceArea());
        if (!q.activate()) {
            throw new IllegalStateException("queue did not activate: " + q.brokenReason());
        }
        return q;
    }

    private static long align(long v, long a) {
        return (v + a - 1) & -a;
    }

    /** Closes the channel and deletes the file (the mappings live until collected). */
    @Override
    public void close() throws IOException {
        channel.close();
        Files.deleteIfExists(file);
    }
}
