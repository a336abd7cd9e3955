package vnet.virtio.net;

import java.nio.ByteOrder;
import java.util.Objects;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.virtqueue.DescriptorChain;
import vnet.virtqueue.DeviceQueue;
import vnet.virtqueue.GuestMemory;

/**
 * The device side of one virtio-net queue pair (VIRTIO 1.2 §5.1.6): receiveq ({@code rx}, queue 0) and transmitq
 * ({@code tx}, queue 1) over {@link DeviceQueue}s that the transport configured and activated.
 *
 * <h2>Transmit (driver to device)</h2>
 * {@link #pollTx(FrameBuffer)} takes the next transmit chain, decodes its {@link VirtioNetHeader} of the negotiated
 * {@link #headerSize() size}, copies the Ethernet frame into a reusable {@link FrameBuffer} and returns the chain to
 * the driver. For one copy from guest to guest, {@link #pollTx(DescriptorChain, VirtioNetHeader)} leaves the frame
 * in the guest's buffer until {@link #completeTx(DescriptorChain)}.
 *
 * <h2>Receive (device to driver)</h2>
 * {@link #deliverToRx} writes header and frame into receive buffers: with MRG_RXBUF over as many buffers as needed,
 * {@code num_buffers} in the first header; without it into one buffer (the "big packets" case). A frame that cannot
 * be delivered is dropped and counted, and every buffer taken for it is given back to the ring untouched, so the
 * next frame is not lost. The device also adapts the header to what the driver negotiated: it completes a partial
 * checksum in software for a driver without GUEST_CSUM and drops a GSO frame the driver cannot take.
 *
 * <h2>Batches and signalling</h2>
 * Used buffers become visible to the driver at {@link #flushRx()} / {@link #flushTx()}, which publish the batch and
 * say whether the driver asked to be signalled (EVENT_IDX / NO_INTERRUPT aware).
 *
 * <p>One thread drives a device; nothing on the data path allocates or takes a lock, and nothing the guest wrote
 * makes it throw: a hostile chain is counted and dropped or breaks only its queue.
 */
public final class NetDevice {

    /** {@link #pollTx} result: no transmit chain available (or the queue is broken or inactive). */
    public static final int NONE = -1;
    /** A {@link #pollTxBurst} length: the chain goes back to the driver without being forwarded. */
    public static final int TX_SKIP = -1;

    /** {@link #deliverToRx} result: no (or not enough) receive buffers, or the receive queue is not running. */
    public static final int DROP_NO_BUFFER = -1;
    /** {@link #deliverToRx} result: the frame does not fit one buffer (non-mergeable) or exceeds the maximum. */
    public static final int DROP_TOO_BIG = -2;
    /** {@link #deliverToRx} result: an offload the driver did not negotiate, or bad checksum offsets. */
    public static final int DROP_OFFLOAD = -3;
    /** {@link #deliverToRx} result: the driver posted an invalid buffer; the receive queue is now broken. */
    public static final int DROP_BAD_BUFFER = -4;

    /** Length of an Ethernet header: the shortest transmit frame accepted. */
    public static final int ETH_HEADER_LENGTH = 14;

    private final DeviceQueue rx;
    private final DeviceQueue tx;
    private final long features;
    private final int headerSize;
    private final boolean mergeable;
    private final NetStats stats = new NetStats();

    private final DescriptorChain txChain = new DescriptorChain();
    private final DescriptorChain rxFirst = new DescriptorChain();
    private final DescriptorChain rxNext = new DescriptorChain();
    /**
     * Header scratch, one per side (a p2p link with two workers transmits and receives on two threads), off the heap:
     * a copy between two native addresses skips the JDK's array checks, a few percent of a 64-byte frame's time.
     */
    private final UnsafeBuffer txScratch = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(64));
    private final UnsafeBuffer rxScratch = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(32));
    private final VirtioNetHeader outHeader = new VirtioNetHeader();
    private int[] usedHeads;
    private int[] usedLengths;
    private FrameBuffer bounce;
    private int maxRxFrameLength = FrameBuffer.DEFAULT_CAPACITY;
    private boolean rxEnabled = true;
    private boolean txEnabled = true;
    /** What {@link #pollTxBurst} touched, kept so that the compiler cannot drop the loads. */
    private int touched;
    /** Transmit chains returned (skipped as malformed) but not yet published. */
    private boolean txPending;
    /** Set once {@link #deliver} starts pushing used buffers: past it, a fault must not give buffers back. */
    private boolean rxCommitted;
    /**
     * Receive chains {@link #reserveRx} took ahead for a burst, in ring order: {@code rxAheadNext} is the next to
     * use, {@code rxAheadCount} how many were taken, {@code rxAheadMark[i]} the available position before chain i.
     */
    private DescriptorChain[] rxAhead;
    private final int[] rxAheadMark = new int[RX_AHEAD];
    private int rxAheadCount;
    private int rxAheadNext;
    /** The most receive chains taken ahead (a transmit burst's worth). */
    private static final int RX_AHEAD = 64;

    /**
     * Creates the device side of a queue pair.
     *
     * @param rx the receive queue (receiveq1, queue 0), configured by the transport
     * @param tx the transmit queue (transmitq1, queue 1), configured by the transport
     * @param negotiatedFeatures the features the driver accepted ({@link Features})
     */
    public NetDevice(DeviceQueue rx, DeviceQueue tx, long negotiatedFeatures) {
        this.rx = Objects.requireNonNull(rx, "rx");
        this.tx = Objects.requireNonNull(tx, "tx");
        this.features = negotiatedFeatures;
        this.headerSize = VirtioNetHeader.headerSize(negotiatedFeatures);
        this.mergeable = (negotiatedFeatures & Features.MRG_RXBUF) != 0;
        int n = Math.max(16, rx.size());
        usedHeads = new int[n];
        usedLengths = new int[n];
    }

    /** @return the negotiated features */
    public long features() {
        return features;
    }

    /** @return the {@code virtio_net_hdr} size in use: 10, 12 or 20 */
    public int headerSize() {
        return headerSize;
    }

    /** @return whether receive buffers are merged (MRG_RXBUF) */
    public boolean isMergeable() {
        return mergeable;
    }

    /** @return the receive queue */
    public DeviceQueue rxQueue() {
        return rx;
    }

    /** @return the transmit queue */
    public DeviceQueue txQueue() {
        return tx;
    }

    /** @return the live counters (see {@link NetStats} on reading them from another thread) */
    public NetStats stats() {
        return stats;
    }

    /** @return the longest frame {@link #deliverToRx} accepts, without the header */
    public int maxRxFrameLength() {
        return maxRxFrameLength;
    }

    /**
     * Sets the longest frame {@link #deliverToRx} accepts (e.g. MTU plus Ethernet header when MTU is negotiated).
     *
     * @param length in bytes, without the header
     */
    public void maxRxFrameLength(int length) {
        if (length < ETH_HEADER_LENGTH) {
            throw new IllegalArgumentException("max frame length too small: " + length);
        }
        maxRxFrameLength = length;
    }

    /**
     * Enables or disables the receive ring (vhost-user SET_VRING_ENABLE): a disabled ring gets no frames; they are
     * dropped as if it had no buffers. Control plane, while the data path does not use the device.
     */
    public void setRxEnabled(boolean enabled) {
        rxEnabled = enabled;
    }

    /**
     * Enables or disables the transmit ring: a disabled ring is still processed, its frames taken and discarded
     * (vhost-user: "process and discard any TX packets"), counted as {@link NetStats#txDropsDisabled()}.
     */
    public void setTxEnabled(boolean enabled) {
        txEnabled = enabled;
    }

    // --- transmit -----------------------------------------------------------------------------------------------

    /**
     * Takes the next transmitted frame: decodes its header into {@code frame.header()}, copies the Ethernet frame
     * into {@code frame.buffer()} and returns the chain to the driver (published by {@link #flushTx()}). Malformed
     * chains (shorter than header plus Ethernet header) and frames larger than {@code frame} are returned to the
     * driver, counted and skipped.
     *
     * @param frame the reusable destination
     * @return the frame length, or {@link #NONE} if no frame is available
     */
    public int pollTx(FrameBuffer frame) {
        DescriptorChain c = txChain;
        for (int guard = Math.max(1, tx.size()); guard > 0; guard--) {
            if (!tx.pop(c)) {
                return NONE;
            }
            int len = takeTx(c, frame.header(), frame.capacity());
            if (len < 0) {
                continue;
            }
            c.read(headerSize, frame.buffer(), 0, len);
            frame.length(len);
            tx.pushUsed(c.head(), 0);
            stats.txFrames++;
            stats.txBytes += len;
            return len;
        }
        return NONE;
    }

    /**
     * Takes the next transmitted frame without copying it: decodes its header into {@code header} and leaves the
     * frame in {@code chain}'s readable part at offset {@link #headerSize()}. The caller copies it (e.g. with
     * {@link #deliverToRx(VirtioNetHeader, DescriptorChain, int, int)} of another device) and then must call
     * {@link #completeTx(DescriptorChain)}. Malformed chains are returned, counted and skipped.
     *
     * @param chain the caller's reusable chain
     * @param header the caller's reusable header
     * @return the frame length, or {@link #NONE} if no frame is available
     */
    public int pollTx(DescriptorChain chain, VirtioNetHeader header) {
        for (int guard = Math.max(1, tx.size()); guard > 0; guard--) {
            if (!tx.pop(chain)) {
                return NONE;
            }
            int len = takeTx(chain, header, Integer.MAX_VALUE);
            if (len < 0) {
                continue;
            }
            stats.txFrames++;
            stats.txBytes += len;
            return len;
        }
        return NONE;
    }

    /**
     * Takes up to {@code max} transmit chains at once: chain i is in {@code chains[i]}, in ring order. If
     * {@code lengths[i]} is {@link #TX_SKIP}, the chain must not be forwarded (malformed, or a disabled ring; counted
     * here); otherwise frame i lies in its readable part at offset {@link #headerSize()}, {@code lengths[i]} bytes,
     * its header decoded into {@code headers[i]}, its first 16 bytes (the Ethernet header and a VLAN tag's TCI) in
     * {@code heads[2i]} and {@code heads[2i + 1]} as two little-endian words, from the same copy as the header: a
     * switch reads its addresses there, not from guest memory again (past the end of a frame shorter than 16 bytes
     * the words are unspecified). Every chain taken, skipped or not, goes back with
     * {@link #completeTx(DescriptorChain)}. First every chain is taken, then every buffer touched, then every header
     * decoded: each step's first touch of memory the driver just wrote (descriptors, then buffers) is a cache miss,
     * and misses of independent chains overlap where one chain at a time would wait for each in turn. The touch is a
     * loop of two loads per chain (the header's line and the frame's): the decode's copy per chain is too long a loop
     * body for the processor to have more than a few chains' misses in flight (measured: README "Benchmarks").
     * The used elements the completions will write are taken over for writing here too
     * ({@link DeviceQueue#prefetchUsedForWrite}).
     *
     * <p>Nothing the driver may read, and of this side's state nothing but the available position, changes until the
     * chains are completed, so a caller whose thread was cut short in here (a memory fault HotSpot raises late,
     * anywhere) can give them all back with {@link #rewindTx(int)} to the {@link #txMark()} it took before.
     *
     * @param heads two words per chain: at least {@code 2 * max} long
     * @return the chains taken (0 when none is available)
     */
    public int pollTxBurst(DescriptorChain[] chains, VirtioNetHeader[] headers, int[] lengths, long[] heads, int max) {
        tx.prefetch(max);
        int n = 0;
        while (n < max && tx.pop(chains[n])) {
            lengths[n] = txLength(chains[n]);
            n++;
        }
        tx.prefetchUsedForWrite(n);
        int sink = 0;
        for (int i = 0; i < n; i++) {
            sink += chains[i].touch(headerSize);
        }
        touched = sink;
        int good = 0;
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            int len = lengths[i];
            if (len >= 0) {
                if (takeTxHeader(chains[i], headers[i])) {
                    heads[2 * i] = txScratch.getLong(headerSize, ByteOrder.LITTLE_ENDIAN);
                    heads[2 * i + 1] = txScratch.getLong(headerSize + 8, ByteOrder.LITTLE_ENDIAN);
                    bytes += len;
                    good++;
                } else {
                    lengths[i] = TX_SKIP;
                }
            }
        }
        stats.txFrames += good;
        stats.txBytes += bytes;
        return n;
    }

    /** Where the transmit queue stands, for {@link #rewindTx(int)}. */
    public int txMark() {
        return tx.lastAvailIndex();
    }

    /** Gives back the transmit chains taken since {@code mark} ({@link #txMark()}), none of which was completed. */
    public void rewindTx(int mark) {
        tx.rewind(mark);
    }

    /**
     * Checks a popped transmit chain and decodes its header: the frame length, or {@link #TX_SKIP} when the chain was
     * returned (counted) instead: too short, with device-writable descriptors (§2.7.4: a transmit buffer is
     * driver-to-device only; forwarding its readable part would cut the frame short), longer than {@code capacity}, a
     * header the driver may not send, or a disabled ring (taken and discarded).
     */
    private int takeTx(DescriptorChain c, VirtioNetHeader header, int capacity) {
        int len = txLength(c);
        if (len > capacity) {
            stats.txDropsTooBig++;
            len = TX_SKIP;
        }
        if (len >= 0 && !takeTxHeader(c, header)) {
            len = TX_SKIP;
        }
        if (len < 0) {
            tx.pushUsed(c.head(), 0);
            txPending = true;
        }
        return len;
    }

    /** The frame length of a popped transmit chain, or {@link #TX_SKIP} (counted) if too short or device-writable. */
    private int txLength(DescriptorChain c) {
        int len = c.readableBytes() - headerSize;
        if (len < ETH_HEADER_LENGTH || c.writableBytes() != 0) {
            stats.txDropsMalformed++;
            return TX_SKIP;
        }
        return len;
    }

    /**
     * Decodes a transmit chain's header into {@code header}: whether the frame may be forwarded; false (counted) for
     * a header the driver may not send, or a disabled ring (its frames are taken and discarded). Returns nothing to
     * the driver: the caller does.
     */
    private boolean takeTxHeader(DescriptorChain c, VirtioNetHeader header) {
        decodeHeader(c, header);
        if (!acceptTxHeader(header)) {
            stats.txDropsMalformed++;
            return false;
        }
        if (!txEnabled) {
            stats.txDropsDisabled++;
            return false;
        }
        return true;
    }

    /**
     * Keeps only what the driver may say in a transmit header (§5.1.6.2): NEEDS_CSUM only with CSUM negotiated
     * (else the flag is ignored), never DATA_VALID; a GSO type whose HOST_ feature was not negotiated makes the chain
     * malformed.
     */
    private boolean acceptTxHeader(VirtioNetHeader h) {
        int flags = (features & Features.CSUM) != 0 ? h.flags() & VirtioNetHeader.F_NEEDS_CSUM : 0;
        if (flags != h.flags()) {
            h.flags(flags);
        }
        if ((flags & VirtioNetHeader.F_NEEDS_CSUM) == 0) {
            h.csumStart(0).csumOffset(0);
        }
        int gso = h.gsoType() & ~VirtioNetHeader.GSO_ECN;
        if (gso == VirtioNetHeader.GSO_NONE) {
            return true;
        }
        long needed;
        switch (gso) {
            case VirtioNetHeader.GSO_TCPV4 -> needed = Features.HOST_TSO4;
            case VirtioNetHeader.GSO_TCPV6 -> needed = Features.HOST_TSO6;
            case VirtioNetHeader.GSO_UDP -> needed = Features.HOST_UFO;
            case VirtioNetHeader.GSO_UDP_L4 -> needed = Features.HOST_USO;
            default -> needed = -1;
        }
        boolean ecnOk = (h.gsoType() & VirtioNetHeader.GSO_ECN) == 0 || (features & Features.HOST_ECN) != 0;
        return needed != -1 && (features & needed) != 0 && ecnOk;
    }

    /**
     * Returns a chain taken with {@link #pollTx(DescriptorChain, VirtioNetHeader)} to the driver (published by
     * {@link #flushTx()}).
     *
     * @param chain the chain
     */
    public void completeTx(DescriptorChain chain) {
        tx.pushUsed(chain.head(), 0);
    }

    /**
     * Publishes the transmit chains returned since the last flush.
     *
     * @return true if the driver wants a used-buffer notification (signal its call eventfd)
     */
    public boolean flushTx() {
        txPending = false;
        tx.publishUsed();
        return tx.needsNotification();
    }

    /** @return whether skipped transmit chains await {@link #flushTx()} (a burst that found no good frame) */
    public boolean txPending() {
        return txPending;
    }

    // --- receive ------------------------------------------------------------------------------------------------

    /**
     * Delivers a {@link FrameBuffer}'s frame and header (see {@link #deliverToRx(VirtioNetHeader,
     * MutableDirectBuffer, int, int)}).
     *
     * @param frame the frame
     * @return buffers used (&gt; 0), or a negative {@code DROP_*} reason
     */
    public int deliverToRx(FrameBuffer frame) {
        return deliverToRx(frame.header(), frame.buffer(), 0, frame.length());
    }

    /**
     * Writes a header and frame into the receive queue; visible to the driver after {@link #flushRx()}. The header
     * is adapted to the driver's features: {@code num_buffers} set, a partial checksum completed in {@code frame}
     * when the driver lacks GUEST_CSUM (so {@code frame} is modified when the frame is delivered; a dropped frame is
     * left as it was, so it can be retried), DATA_VALID kept only with GUEST_CSUM.
     *
     * @param header the frame's header as the sender gave it; not modified
     * @param frame the frame's buffer
     * @param offset where the Ethernet frame starts
     * @param length the frame length
     * @return buffers used (&gt; 0), or a negative {@code DROP_*} reason (counted in {@link #stats()})
     */
    public int deliverToRx(VirtioNetHeader header, MutableDirectBuffer frame, int offset, int length) {
        // Completing a checksum overwrites the sender's partial sum; keep it, so that a frame dropped for want of
        // buffers still carries NEEDS_CSUM semantics and a retry computes the same checksum.
        int field = header.csumStart() + header.csumOffset();
        boolean completes = header.needsCsum() && (features & Features.GUEST_CSUM) == 0
                && field >= 0 && field + 2 <= length;
        short partial = completes ? frame.getShort(offset + field) : 0;
        boolean delivered = false;
        try {
            int r = prepareHeader(header, frame, offset, length);
            if (r >= 0) {
                r = deliver(frame, offset, null, 0, length);
            }
            delivered = r >= 0;
            return r;
        } finally { // dropped, or cut short by a memory fault: the caller may deliver the frame again
            if (!delivered && completes) {
                frame.putShort(offset + field, partial);
            }
        }
    }

    /**
     * Writes a header and a frame that lies in another chain's readable part (e.g. a transmit chain of another
     * device, {@link #pollTx(DescriptorChain, VirtioNetHeader)}) into the receive queue: one copy, guest to guest.
     * If the checksum must be completed for this driver, the frame goes through a private buffer instead.
     *
     * @param header the frame's header as the sender gave it; not modified
     * @param src the chain holding the frame
     * @param srcOffset where the frame starts in {@code src}'s readable part
     * @param length the frame length
     * @return buffers used (&gt; 0), or a negative {@code DROP_*} reason (counted in {@link #stats()})
     */
    public int deliverToRx(VirtioNetHeader header, DescriptorChain src, int srcOffset, int length) {
        if (header.needsCsum() && (features & Features.GUEST_CSUM) == 0) {
            if (length > maxRxFrameLength) {
                stats.rxDropsTooBig++;
                return DROP_TOO_BIG;
            }
            FrameBuffer b = bounce;
            if (b == null || b.capacity() < length) {
                b = new FrameBuffer(Math.max(length, FrameBuffer.DEFAULT_CAPACITY));
                bounce = b;
            }
            int copied = src.read(srcOffset, b.buffer(), 0, length);
            if (copied != length) {
                stats.rxDropsOffload++;
                return DROP_OFFLOAD;
            }
            return deliverToRx(header, b.buffer(), 0, length);
        }
        if (src.readableBytes() - srcOffset < length || srcOffset < 0) {
            stats.rxDropsOffload++;
            return DROP_OFFLOAD;
        }
        int r = prepareHeader(header, null, 0, length);
        if (r < 0) {
            return r;
        }
        return deliver(null, 0, src, srcOffset, length);
    }

    /**
     * Publishes the receive buffers used since the last flush.
     *
     * @return true if the driver wants a used-buffer notification (signal its call eventfd)
     */
    public boolean flushRx() {
        releaseRx();
        rx.publishUsed();
        return rx.needsNotification();
    }

    /**
     * Takes up to {@code frames} receive chains (at most {@value #RX_AHEAD}) for the deliveries about to come, which use them in ring
     * order; {@link #flushRx} (or {@link #releaseRx}) gives back those not used. Then it takes over for writing, in
     * loops of their own, the lines their headers and frames start in ({@link DescriptorChain#touchForWrite}) and the
     * used elements the deliveries will write ({@link DeviceQueue#prefetchUsedForWrite}), so that a burst's misses
     * overlap instead of coming one per frame, and each descriptor is read and translated once (measured: README
     * "Benchmarks"). Until the flush the available position counts the chains taken ahead: the caller flushes or
     * releases before the transport may look at the queue (between its rounds).
     */
    public void reserveRx(int frames) {
        releaseRx();
        if (!rxEnabled) {
            return;
        }
        int n = Math.min(frames, RX_AHEAD);
        DescriptorChain[] ahead = rxAhead;
        if (ahead == null) {
            ahead = new DescriptorChain[RX_AHEAD]; // once, at the first burst
            for (int i = 0; i < RX_AHEAD; i++) {
                ahead[i] = new DescriptorChain();
            }
            rxAhead = ahead;
        }
        int k = 0;
        while (k < n) {
            rxAheadMark[k] = rx.lastAvailIndex();
            if (!rx.pop(ahead[k])) {
                break;
            }
            k++;
        }
        rxAheadCount = k;
        rxAheadNext = 0;
        int hdr = headerSize;
        for (int i = 0; i < k; i++) {
            ahead[i].touchForWrite(hdr);
        }
        rx.prefetchUsedForWrite(k);
    }

    /**
     * Gives back the receive chains {@link #reserveRx} took ahead and no delivery used (also done by
     * {@link #flushRx}): until then the receive queue's available position counts them as taken.
     */
    public void releaseRx() {
        if (rxAheadNext < rxAheadCount) {
            rx.rewind(rxAheadMark[rxAheadNext]);
        }
        rxAheadCount = 0;
        rxAheadNext = 0;
    }

    /** The next receive chain: one taken ahead, or else popped now into {@code spare}; null when none is available. */
    private DescriptorChain nextRx(DescriptorChain spare) {
        if (rxAheadNext < rxAheadCount) {
            return rxAhead[rxAheadNext++];
        }
        return rx.pop(spare) ? spare : null;
    }

    /** Where the receive queue stands for the next delivery, for {@link #giveBackRx}. */
    private int rxPosition() {
        return rxAheadNext < rxAheadCount ? rxAheadMark[rxAheadNext] : rx.lastAvailIndex();
    }

    /** Gives back every receive chain taken since {@code position} ({@link #rxPosition}), ahead or not. */
    private void giveBackRx(int position) {
        rxAheadCount = 0;
        rxAheadNext = 0;
        rx.rewind(position);
    }

    /** @return whether the driver has posted receive buffers not yet used */
    public boolean rxHasBuffers() {
        return rx.hasAvailable();
    }

    /**
     * Fills {@link #outHeader} from the sender's header for this driver. Returns 0 or a negative DROP_ reason.
     */
    private int prepareHeader(VirtioNetHeader in, MutableDirectBuffer frame, int offset, int length) {
        if (length > maxRxFrameLength || length < 0) {
            stats.rxDropsTooBig++;
            return DROP_TOO_BIG;
        }
        VirtioNetHeader out = outHeader.copyFrom(in);
        if ((in.gsoType() & ~VirtioNetHeader.GSO_ECN) != VirtioNetHeader.GSO_NONE) {
            if (!takesGso(in)) {
                stats.rxDropsOffload++;
                return DROP_OFFLOAD;
            }
        } else {
            out.gsoType(VirtioNetHeader.GSO_NONE).gsoSize(0);
        }
        int flags = 0;
        if ((features & Features.GUEST_CSUM) != 0) {
            flags = in.flags() & (VirtioNetHeader.F_NEEDS_CSUM | VirtioNetHeader.F_DATA_VALID);
        } else {
            if (in.needsCsum() && !completeChecksum(in, frame, offset, length)) {
                stats.rxDropsOffload++;
                return DROP_OFFLOAD;
            }
            out.csumStart(0).csumOffset(0);
        }
        out.flags(flags);
        if ((flags & VirtioNetHeader.F_NEEDS_CSUM) == 0) {
            out.csumStart(0).csumOffset(0);
        }
        return 0;
    }

    /** Whether this driver takes the GSO type of {@code in} (its GUEST_ feature, and GUEST_ECN for the ECN bit). */
    private boolean takesGso(VirtioNetHeader in) {
        long needed;
        switch (in.gsoType() & ~VirtioNetHeader.GSO_ECN) {
            case VirtioNetHeader.GSO_TCPV4 -> needed = Features.GUEST_TSO4;
            case VirtioNetHeader.GSO_TCPV6 -> needed = Features.GUEST_TSO6;
            case VirtioNetHeader.GSO_UDP -> needed = Features.GUEST_UFO;
            case VirtioNetHeader.GSO_UDP_L4 -> needed = Features.GUEST_USO4 | Features.GUEST_USO6;
            default -> needed = 0;
        }
        boolean ecnOk = (in.gsoType() & VirtioNetHeader.GSO_ECN) == 0 || (features & Features.GUEST_ECN) != 0;
        return (features & needed) != 0 && ecnOk;
    }

    /** Completes the partial checksum of a frame in {@code frame} for a driver without GUEST_CSUM (counted). */
    private boolean completeChecksum(VirtioNetHeader in, MutableDirectBuffer frame, int offset, int length) {
        if (frame == null || !Checksums.complete(frame, offset, length, in.csumStart(), in.csumOffset())) {
            return false;
        }
        stats.rxChecksumsCompleted++;
        return true;
    }

    /**
     * Writes {@link #outHeader} and the frame (from {@code buf} or {@code src}) into receive buffers. A memory fault
     * in the copy (the sender's or this driver's memory file was cut short: an InternalError) gives back the buffers
     * taken for the frame before it propagates, so this ring loses nothing when the fault was another port's.
     */
    private int deliver(MutableDirectBuffer buf, int bufOffset, DescriptorChain src, int srcOffset, int length) {
        if (!rxEnabled) {
            stats.rxDropsNoBuffer++;
            return DROP_NO_BUFFER;
        }
        final int saved = rxPosition();
        rxCommitted = false;
        try {
            return deliverInto(buf, bufOffset, src, srcOffset, length, saved);
        } catch (InternalError e) {
            if (!rxCommitted) {
                giveBackRx(saved);
            }
            throw e;
        }
    }

    private int deliverInto(MutableDirectBuffer buf, int bufOffset, DescriptorChain src, int srcOffset, int length,
            int saved) {
        final int hdr = headerSize;
        DescriptorChain c = nextRx(rxFirst);
        if (c == null) {
            return noBuffer();
        }
        int cap = c.writableBytes();
        if (mergeable && cap < hdr) {
            return brokenBuffer(cap);
        }
        if (cap - hdr >= length) { // the common case: one buffer holds header and frame
            copyInto(c, hdr, buf, bufOffset, src, srcOffset, length);
            outHeader.numBuffers(1);
            encodeHeader(c);
            rxCommitted = true;
            rx.pushUsed(c.head(), hdr + length);
            stats.rxFrames++;
            stats.rxBuffers++;
            stats.rxBytes += length;
            return 1;
        }
        if (!mergeable) {
            giveBackRx(saved);
            stats.rxDropsTooBig++;
            return DROP_TOO_BIG;
        }
        return deliverMerged(c, buf, bufOffset, src, srcOffset, length, saved, cap);
    }

    /**
     * {@link #deliverInto} for a frame that spans several mergeable buffers, the first in {@code first}. Out of
     * line, as are {@link #takesGso} and {@link #completeChecksum}: HotSpot inlines no hot method of more than 325
     * bytecodes (FreqInlineSize), and the per-frame path inlined is worth 3-5 % at 64 bytes (README "Benchmarks").
     */
    private int deliverMerged(DescriptorChain first, MutableDirectBuffer buf, int bufOffset, DescriptorChain src,
            int srcOffset, int length, int saved, int cap) {
        final int hdr = headerSize;
        DescriptorChain c = first;
        int limit = Math.min(0xFFFF, rx.size());
        if (usedHeads.length < limit) {
            usedHeads = new int[limit]; // only after the ring was resized: a control-plane event
            usedLengths = new int[limit];
        }
        int n = 0;
        int done = 0;
        while (true) {
            int off = n == 0 ? hdr : 0;
            int chunk = Math.min(length - done, cap - off);
            copyInto(c, off, buf, bufOffset + done, src, srcOffset + done, chunk);
            usedHeads[n] = c.head();
            usedLengths[n] = off + chunk;
            n++;
            done += chunk;
            if (done == length) {
                break;
            }
            if (n == limit) {
                giveBackRx(saved);
                stats.rxDropsTooBig++;
                return DROP_TOO_BIG;
            }
            c = nextRx(rxNext);
            if (c == null) {
                giveBackRx(saved);
                return noBuffer();
            }
            cap = c.writableBytes();
            if (cap < hdr) {
                return brokenBuffer(cap);
            }
        }
        outHeader.numBuffers(n);
        encodeHeader(first);
        rxCommitted = true;
        for (int i = 0; i < n; i++) {
            rx.pushUsed(usedHeads[i], usedLengths[i]);
        }
        stats.rxFrames++;
        stats.rxBuffers += n;
        stats.rxBytes += length;
        return n;
    }

    /**
     * §5.1.6.3.1: with MRG_RXBUF every buffer holds at least the header. A driver breaking that would stall the ring
     * forever; stop the queue instead.
     */
    private int brokenBuffer(int cap) {
        rx.markBroken("mergeable receive buffer of " + cap + " bytes is smaller than the header");
        stats.rxDropsBadBuffer++;
        return DROP_BAD_BUFFER;
    }

    /**
     * Decodes the transmit header through {@link #txScratch}. Not in place from guest memory: a front-end may cut its
     * memory file under the mapping, and HotSpot raises the fault of an in-place read later (asynchronously, see
     * ForwardingWorker's memory faults), by when the frame may have gone out to other ports with undefined content;
     * the copy raises it while the burst is still being taken. The decode reads the scratch in place (no bounds
     * checks: it holds any header size). The copy takes the Ethernet header too: a driver that puts the virtio-net
     * header in the headroom before a cache-line-aligned frame (DPDK) has the two in different lines, and this way
     * both misses of every frame of a burst are taken here together, not one of them later per frame (a switch reads
     * the addresses, a copy the frame).
     */
    private void decodeHeader(DescriptorChain c, VirtioNetHeader header) {
        c.read(0, txScratch, 0, Math.min(c.readableBytes(), headerSize + TOUCHED_FRAME_BYTES));
        header.decodeAt(txScratch.addressOffset(), headerSize);
    }

    /** An Ethernet header with a VLAN tag: what the fabric reads of a frame before it copies it. */
    private static final int TOUCHED_FRAME_BYTES = 18;

    /**
     * Writes {@link #outHeader} into the first receive buffer: in place when the header lies in its first segment (the
     * frame copy before it has already touched that buffer, so a fault of this driver's memory is raised there),
     * else through {@link #rxScratch}.
     */
    private void encodeHeader(DescriptorChain c) {
        long at = c.writableAddress(0, headerSize);
        if (at != GuestMemory.NO_ADDRESS) {
            outHeader.encodeAt(at, headerSize);
            return;
        }
        outHeader.encode(rxScratch, 0, headerSize);
        c.write(0, rxScratch, 0, headerSize);
    }

    private int noBuffer() {
        if (rx.isBroken()) {
            stats.rxDropsBadBuffer++;
            return DROP_BAD_BUFFER;
        }
        stats.rxDropsNoBuffer++;
        return DROP_NO_BUFFER;
    }

    private static void copyInto(DescriptorChain dst, int dstOffset, MutableDirectBuffer buf, int bufOffset,
            DescriptorChain src, int srcOffset, int length) {
        if (length == 0) {
            return;
        }
        if (buf != null) {
            dst.write(dstOffset, buf, bufOffset, length);
        } else {
            DescriptorChain.copy(src, srcOffset, dst, dstOffset, length);
        }
    }
}
