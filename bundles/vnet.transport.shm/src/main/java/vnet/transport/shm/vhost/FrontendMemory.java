package vnet.transport.shm.vhost;

import java.io.IOException;
import java.io.RandomAccessFile;

import vnet.linux.Fd;
import vnet.linux.Files;
import vnet.linux.Mapping;
import vnet.linux.Memfd;
import vnet.linux.Mman;
import vnet.virtio.net.Features;
import vnet.virtio.net.NetDriver;
import vnet.virtqueue.DriverQueue;
import vnet.virtqueue.GuestMemory;
import vnet.virtqueue.MemoryRegion;
import vnet.virtqueue.RingLayout;

/**
 * The front-end's guest memory, from guest physical address 0: receive ring | transmit ring | buffer area (receive
 * buffers, then transmit buffers), all in one memfd (or {@link VhostUserFrontend.Options#memoryFile()}), mapped here
 * at {@link #address()} (the user address the memory table gives the back-end). The rings and buffers are the
 * {@link NetDriver}'s that lives in it.
 */
final class FrontendMemory implements AutoCloseable {
    private static final long PAGE = 4096;

    private final Fd fd;
    private final Mapping mapping;
    private final long size;
    private final NetDriver driver;

    private FrontendMemory(Fd fd, Mapping mapping, long size, NetDriver driver) {
        this.fd = fd;
        this.mapping = mapping;
        this.size = size;
        this.driver = driver;
    }

    /** Lays out, allocates, maps and zeroes the memory for the negotiated {@code features}, and makes the driver. */
    static FrontendMemory allocate(VhostUserFrontend.Options options, long features, int headerSize) throws IOException {
        int n = options.queueSize();
        boolean packed = (features & Features.RING_PACKED) != 0;
        boolean mergeable = (features & Features.MRG_RXBUF) != 0;
        boolean indirect = (features & Features.RING_INDIRECT_DESC) != 0;
        // Legacy devices without ANY_LAYOUT want the header in a descriptor of its own.
        boolean splitHeader = (features & (Features.VERSION_1 | Features.ANY_LAYOUT)) == 0;
        // Big receive buffers (no MRG_RXBUF) go in as a chain of two, through an indirect table when negotiated.
        int rxSegments = !mergeable && indirect ? 2 : 1;
        RingLayout rxLayout = packed ? RingLayout.packed(0, n, rxSegments > 1 ? rxSegments : 0)
                : RingLayout.split(0, n, rxSegments > 1 ? rxSegments : 0);
        long txBase = align(rxLayout.end(), 64);
        RingLayout txLayout = packed ? RingLayout.packed(txBase, n) : RingLayout.split(txBase, n);
        long buffers = align(txLayout.end(), PAGE);
        int rxBufferSize = options.bufferSize();
        int txBufferSize = headerSize + options.maxFrameSize();
        long size = align(buffers + NetDriver.bufferAreaSize(n, rxBufferSize, n, txBufferSize), PAGE);
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("guest memory of " + size + " bytes exceeds 2 GiB: use smaller queues or buffers");
        }
        Fd fd = open(options, size);
        Mapping mapping = null;
        try {
            mapping = Mman.mapShared(fd, 0, size);
            GuestMemory memory = GuestMemory.of(MemoryRegion.ofAddress(0, size, mapping.address(), mapping.address()));
            memory.fill(0, size, (byte) 0);
            NetDriver driver = new NetDriver(DriverQueue.create(memory, rxLayout, features),
                    DriverQueue.create(memory, txLayout, features), features, buffers, rxBufferSize, rxSegments,
                    txBufferSize, splitHeader);
            return new FrontendMemory(fd, mapping, size, driver);
        } catch (IOException | RuntimeException | Error e) {
            if (mapping != null) {
                mapping.close();
            }
            VhostUserFrontend.closeQuietly(fd);
            throw e;
        }
    }

    private static Fd open(VhostUserFrontend.Options options, long size) throws IOException {
        if (options.memoryFile() == null) {
            return Memfd.create("vnet-vhost-user-frontend", size);
        }
        try (RandomAccessFile f = new RandomAccessFile(options.memoryFile().toFile(), "rw")) {
            if (f.length() < size) {
                f.setLength(size);
            }
        }
        return Files.open(options.memoryFile(), Files.O_RDWR);
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    /** The driver side of the device: both queues and their buffers, in this memory. */
    NetDriver driver() {
        return driver;
    }

    Fd fd() {
        return fd;
    }

    /** Where this memory is mapped in this process: the user address of guest physical address 0. */
    long address() {
        return mapping.address();
    }

    long size() {
        return size;
    }

    /** Unmaps and closes the memory (the back-end has let go of it, or is gone). */
    @Override
    public void close() {
        mapping.close();
        VhostUserFrontend.closeQuietly(fd);
    }
}
