package vnet.virtio.net;

import java.util.Objects;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.virtqueue.DriverQueue;
import vnet.virtqueue.GuestMemory;

/**
 * The driver side of one virtio-net queue pair, doing what a Linux guest's virtio-net driver does (VIRTIO 1.2
 * §5.1.6): it posts receive buffers, transmits frames, harvests transmit completions and receives frames,
 * reassembling mergeable buffers by {@code num_buffers}. Used by tests, benchmarks and a Java vhost-user front-end.
 *
 * <h2>Buffers</h2>
 * The driver owns a <em>buffer area</em> in guest memory (inside one region) that it carves into one slot per
 * receive-queue entry of {@code rxBufferSize} bytes and one per transmit-queue entry of {@code txBufferSize} bytes
 * ({@link #bufferAreaSize}). With MRG_RXBUF every receive slot is one buffer of its own (e.g. 1536 bytes); without
 * it a slot must hold header plus the largest frame (1526 bytes, or 65601 with GUEST_TSO), and may be posted as
 * several descriptors ({@code rxSegments}) as Linux does with its "big packets" page chains, through an indirect
 * table when RING_INDIRECT_DESC is negotiated and the ring layout has room for one. A transmitted frame
 * goes, with its header, into one descriptor, or into two (header, frame) with {@code txSplitHeader}.
 *
 * <h2>Kicks</h2>
 * {@link #kickRx()} and {@link #kickTx()} publish what was added and say whether the device wants a notification
 * (EVENT_IDX / NO_NOTIFY aware); the caller rings the doorbell.
 *
 * <p>One thread; nothing allocates per frame.
 */
public final class NetDriver {

    /** {@link #receive} result: no frame received. */
    public static final int NONE = -1;
    /** {@link #receive} result: the device returned an inconsistent frame (counted, buffers recycled). */
    public static final int ERROR = -2;

    private final DriverQueue rx;
    private final DriverQueue tx;
    private final long features;
    private final int headerSize;
    private final boolean mergeable;
    private final long rxArea;
    private final long txArea;
    private final int rxBufferSize;
    private final int rxSegments;
    private final int txBufferSize;
    private final boolean txSplitHeader;
    private final boolean rxIndirect;
    private final UnsafeBuffer area;
    private final long areaGpa;

    private final int[] rxSlotOfId;
    private final int[] rxFreeSlots;
    private int rxFreeTop;
    private final int[] txSlotOfId;
    private final int[] txFreeSlots;
    private int txFreeTop;
    private final long[] addrs;
    private final int[] lens;
    private final VirtioNetHeader rxHeader = new VirtioNetHeader();

    private long rxFrames;
    private long rxErrors;
    private long txFrames;
    private long txCompleted;

    /**
     * Creates a driver over two driver queues that share one guest memory.
     *
     * @param rx the receive queue (queue 0)
     * @param tx the transmit queue (queue 1)
     * @param negotiatedFeatures the features the device and driver accepted
     * @param bufferArea guest physical address of the buffer area, inside one region, not overlapping the rings
     * @param rxBufferSize bytes per receive buffer (with MRG_RXBUF at least the header size)
     * @param rxSegments descriptors per receive buffer (1, or more to post a big buffer as a chain)
     * @param txBufferSize bytes per transmit slot: header plus the largest frame to send
     * @param txSplitHeader whether to send the header and the frame as two descriptors
     */
    public NetDriver(DriverQueue rx, DriverQueue tx, long negotiatedFeatures, long bufferArea, int rxBufferSize,
            int rxSegments, int txBufferSize, boolean txSplitHeader) {
        this.rx = Objects.requireNonNull(rx, "rx");
        this.tx = Objects.requireNonNull(tx, "tx");
        this.features = negotiatedFeatures;
        this.headerSize = VirtioNetHeader.headerSize(negotiatedFeatures);
        this.mergeable = (negotiatedFeatures & Features.MRG_RXBUF) != 0;
        if (rxBufferSize < headerSize || txBufferSize <= headerSize) {
            throw new IllegalArgumentException("buffers must exceed the " + headerSize + "-byte header");
        }
        rxIndirect = rxSegments > 1 && (negotiatedFeatures & Features.RING_INDIRECT_DESC) != 0
                && rx.layout().indirectEntries() >= rxSegments;
        if (rxSegments < 1 || rxSegments > rxBufferSize || (!rxIndirect && rxSegments > rx.size())) {
            throw new IllegalArgumentException("rxSegments out of range: " + rxSegments);
        }
        if (rxSegments > 1 && rxBufferSize / rxSegments < headerSize) {
            throw new IllegalArgumentException("first receive segment smaller than the header");
        }
        this.rxBufferSize = rxBufferSize;
        this.rxSegments = rxSegments;
        this.txBufferSize = txBufferSize;
        this.txSplitHeader = txSplitHeader;
        long size = bufferAreaSize(rx.size(), rxBufferSize, tx.size(), txBufferSize);
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("buffer area larger than 2 GiB: " + size);
        }
        GuestMemory mem = rx.memory();
        long hva = mem.hostAddress(bufferArea, size);
        if (hva == GuestMemory.NO_ADDRESS) {
            throw new IllegalArgumentException("buffer area 0x" + Long.toHexString(bufferArea) + "+" + size
                    + " is not inside one region");
        }
        if (tx.memory().hostAddress(bufferArea, size) != hva) {
            throw new IllegalArgumentException("rx and tx queues must share the guest memory");
        }
        this.area = new UnsafeBuffer(hva, (int) size);
        this.areaGpa = bufferArea;
        this.rxArea = bufferArea;
        this.txArea = bufferArea + (long) rx.size() * rxBufferSize;
        rxSlotOfId = new int[rx.size()];
        rxFreeSlots = new int[rx.size()];
        for (int i = 0; i < rx.size(); i++) {
            rxFreeSlots[rxFreeTop++] = rx.size() - 1 - i;
        }
        txSlotOfId = new int[tx.size()];
        txFreeSlots = new int[tx.size()];
        for (int i = 0; i < tx.size(); i++) {
            txFreeSlots[txFreeTop++] = tx.size() - 1 - i;
        }
        addrs = new long[Math.max(2, rxSegments)];
        lens = new int[Math.max(2, rxSegments)];
    }

    /**
     * Bytes of the buffer area a driver needs.
     *
     * @param rxQueueSize receive queue size
     * @param rxBufferSize bytes per receive buffer
     * @param txQueueSize transmit queue size
     * @param txBufferSize bytes per transmit slot
     * @return the size in bytes
     */
    public static long bufferAreaSize(int rxQueueSize, int rxBufferSize, int txQueueSize, int txBufferSize) {
        return (long) rxQueueSize * rxBufferSize + (long) txQueueSize * txBufferSize;
    }

    /** @return the negotiated features */
    public long features() {
        return features;
    }

    /** @return the {@code virtio_net_hdr} size in use: 10, 12 or 20 */
    public int headerSize() {
        return headerSize;
    }

    /** @return the receive queue */
    public DriverQueue rxQueue() {
        return rx;
    }

    /** @return the transmit queue */
    public DriverQueue txQueue() {
        return tx;
    }

    /** @return frames received */
    public long rxFrames() {
        return rxFrames;
    }

    /** @return inconsistent frames the device returned (bad {@code num_buffers}, lengths) */
    public long rxErrors() {
        return rxErrors;
    }

    /** @return frames sent */
    public long txFrames() {
        return txFrames;
    }

    /** @return transmit buffers the device returned */
    public long txCompleted() {
        return txCompleted;
    }

    /** @return transmit slots free (frames that can be sent before {@link #harvestTx()}) */
    public int txFree() {
        return txFreeTop;
    }

    // --- receive ------------------------------------------------------------------------------------------------

    /**
     * Posts receive buffers until the ring or the slots run out. Not visible to the device until {@link #kickRx()}.
     *
     * @return buffers posted
     */
    public int postRxBuffers() {
        int posted = 0;
        int seg = rxBufferSize / rxSegments;
        int need = rxIndirect ? 1 : rxSegments;
        while (rxFreeTop > 0 && rx.freeDescriptors() >= need) {
            int slot = rxFreeSlots[rxFreeTop - 1];
            long base = rxArea + (long) slot * rxBufferSize;
            int id;
            if (rxSegments == 1) {
                id = rx.add(base, rxBufferSize, true);
            } else {
                for (int i = 0; i < rxSegments; i++) {
                    addrs[i] = base + (long) i * seg;
                    lens[i] = i == rxSegments - 1 ? rxBufferSize - i * seg : seg;
                }
                id = rxIndirect ? rx.addIndirect(addrs, lens, 0, rxSegments) : rx.add(addrs, lens, 0, rxSegments);
            }
            if (id == DriverQueue.NONE) {
                break;
            }
            rxFreeTop--;
            rxSlotOfId[id] = slot;
            posted++;
        }
        return posted;
    }

    /**
     * Publishes posted receive buffers.
     *
     * @return true if the device wants a notification (kick the receive queue)
     */
    public boolean kickRx() {
        return rx.shouldKick();
    }

    /**
     * Receives the next frame: its header (with {@code num_buffers}) into {@code frame.header()}, the Ethernet
     * frame into {@code frame.buffer()}. Used receive buffers go back to the free slots; post them again with
     * {@link #postRxBuffers()}.
     *
     * @param frame the reusable destination
     * @return the frame length, {@link #NONE} if nothing was received, or {@link #ERROR}
     */
    public int receive(FrameBuffer frame) {
        int id = rx.pollUsed();
        if (id == DriverQueue.NONE) {
            return NONE;
        }
        int used = rx.usedLength();
        int slot = rxSlotOfId[id];
        rxFreeSlots[rxFreeTop++] = slot;
        int off = slotOffset(slot);
        if (used < headerSize || used > rxBufferSize) {
            rxErrors++;
            return ERROR;
        }
        VirtioNetHeader h = frame.header();
        h.decode(area, off, headerSize);
        int buffers = mergeable ? h.numBuffers() : 1;
        int len = used - headerSize;
        boolean ok = buffers >= 1 && len <= frame.capacity();
        if (ok) {
            frame.buffer().putBytes(0, area, off + headerSize, len);
        }
        for (int b = 1; b < buffers; b++) {
            int next = rx.pollUsed();
            if (next == DriverQueue.NONE) {
                // The device must publish all buffers of a frame together (§5.1.6.4).
                rxErrors++;
                return ERROR;
            }
            int n = rx.usedLength();
            int s = rxSlotOfId[next];
            rxFreeSlots[rxFreeTop++] = s;
            if (n > rxBufferSize || len + n > frame.capacity()) {
                ok = false;
            }
            if (ok) {
                frame.buffer().putBytes(len, area, slotOffset(s), n);
                len += n;
            }
        }
        if (!ok) {
            rxErrors++;
            return ERROR;
        }
        frame.length(len);
        rxFrames++;
        return len;
    }

    private int slotOffset(int rxSlot) {
        return (int) (rxArea - areaGpa) + rxSlot * rxBufferSize;
    }

    // --- transmit -----------------------------------------------------------------------------------------------

    /**
     * Sends a {@link FrameBuffer}'s header and frame (see {@link #send(VirtioNetHeader, DirectBuffer, int, int)}).
     *
     * @param frame the frame
     * @return true if queued; false if no transmit slot is free (harvest, or wait for the device)
     */
    public boolean send(FrameBuffer frame) {
        return send(frame.header(), frame.buffer(), 0, frame.length());
    }

    /**
     * Queues a frame for transmission: copies header ({@code num_buffers} forced to 0, as §5.1.6.2 requires) and
     * frame into a free transmit slot and adds it to the ring. Visible to the device after {@link #kickTx()}.
     * Harvests completions first when no slot is free.
     *
     * @param header the header to send
     * @param frame the frame's bytes
     * @param offset where the frame starts
     * @param length the frame length
     * @return true if queued; false if the ring is full
     */
    public boolean send(VirtioNetHeader header, DirectBuffer frame, int offset, int length) {
        if (length < 0 || length > txBufferSize - headerSize) {
            throw new IllegalArgumentException("frame of " + length + " bytes exceeds the transmit slot");
        }
        if (txFreeTop == 0 || tx.freeDescriptors() < (txSplitHeader ? 2 : 1)) {
            harvestTx();
            if (txFreeTop == 0 || tx.freeDescriptors() < (txSplitHeader ? 2 : 1)) {
                return false;
            }
        }
        int slot = txFreeSlots[txFreeTop - 1];
        long gpa = txArea + (long) slot * txBufferSize;
        int off = (int) (gpa - areaGpa);
        int saved = header.numBuffers();
        header.numBuffers(0);
        header.encode(area, off, headerSize);
        header.numBuffers(saved);
        area.putBytes(off + headerSize, frame, offset, length);
        int id;
        if (txSplitHeader) {
            addrs[0] = gpa;
            lens[0] = headerSize;
            addrs[1] = gpa + headerSize;
            lens[1] = length;
            id = tx.add(addrs, lens, 2, 0);
        } else {
            id = tx.add(gpa, headerSize + length, false);
        }
        if (id == DriverQueue.NONE) {
            return false;
        }
        txFreeTop--;
        txSlotOfId[id] = slot;
        txFrames++;
        return true;
    }

    /**
     * Publishes queued frames.
     *
     * @return true if the device wants a notification (kick the transmit queue)
     */
    public boolean kickTx() {
        return tx.shouldKick();
    }

    /**
     * Takes back every transmit buffer the device has used.
     *
     * @return buffers harvested
     */
    public int harvestTx() {
        int n = 0;
        int id;
        while ((id = tx.pollUsed()) != DriverQueue.NONE) {
            txFreeSlots[txFreeTop++] = txSlotOfId[id];
            n++;
        }
        txCompleted += n;
        return n;
    }
}
