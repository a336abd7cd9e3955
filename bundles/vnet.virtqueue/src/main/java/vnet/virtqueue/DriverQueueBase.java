package vnet.virtqueue;

import vnet.virtqueue.internal.Mem;

/**
 * Construction checks, buffer accounting, the checks before an add, reset and broken state shared by the split and
 * packed drivers. Package-private; the ring writes and reads live in the subclasses.
 */
abstract class DriverQueueBase implements DriverQueue {
    final GuestMemory memory;
    final RingLayout layout;
    final long features;
    final int size;
    final boolean eventIdx;
    final boolean indirectAllowed;
    final long indirectHva;
    /** Bytes from one buffer id's indirect table to the next. */
    final long indirectStride;
    /** Ring descriptors free: taken by the add methods here, given back by the subclasses' {@code pollUsed}. */
    int numFree;
    /** Buffers added and not yet harvested: counted like {@link #numFree}. */
    int inFlight;
    /** Set by the subclasses' {@code pollUsed}. */
    int usedLength;
    /** Whether used buffer notifications are asked for (set by the subclasses' enable/disableInterrupts). */
    boolean interrupts = true;
    private String reason;

    DriverQueueBase(GuestMemory memory, RingLayout layout, long features) {
        this.memory = java.util.Objects.requireNonNull(memory, "memory");
        this.layout = layout;
        this.features = features;
        this.size = layout.queueSize();
        this.eventIdx = VirtqueueFeatures.has(features, VirtqueueFeatures.EVENT_IDX);
        this.indirectAllowed = VirtqueueFeatures.has(features, VirtqueueFeatures.INDIRECT_DESC);
        if (layout.indirectEntries() > 0) {
            long bytes = (long) size * layout.indirectEntries() * Descriptor.SIZE;
            indirectHva = hva(layout.indirectArea(), bytes, "indirect tables");
        } else {
            indirectHva = GuestMemory.NO_ADDRESS;
        }
        indirectStride = (long) layout.indirectEntries() * Descriptor.SIZE;
    }

    /** Translates a part of the layout, which must lie inside one region. */
    final long hva(long gpa, long length, String what) {
        long h = memory.hostAddress(gpa, length);
        if (h == GuestMemory.NO_ADDRESS) {
            throw new IllegalArgumentException(what + " at 0x" + Long.toHexString(gpa) + "+" + length
                + " not inside one region of " + memory);
        }
        return h;
    }

    static void checkCounts(long[] addresses, int[] lengths, int readable, int writable, int max) {
        if (readable < 0 || writable < 0 || readable + writable == 0) {
            throw new IllegalArgumentException("need at least one element: " + readable + "+" + writable);
        }
        if (readable + writable > max) {
            throw new IllegalArgumentException("too many elements: " + (readable + writable) + " > " + max);
        }
        if (addresses.length < readable + writable || lengths.length < readable + writable) {
            throw new IllegalArgumentException("arrays shorter than " + (readable + writable));
        }
    }

    final void checkIndirect(int n) {
        if (indirectHva == GuestMemory.NO_ADDRESS || !indirectAllowed) {
            throw new IllegalStateException("no indirect tables in the layout or INDIRECT_DESC not negotiated");
        }
        if (n > layout.indirectEntries()) {
            throw new IllegalArgumentException(n + " elements > indirect table size " + layout.indirectEntries());
        }
    }

    @Override
    public final RingLayout layout() {
        return layout;
    }

    @Override
    public final int size() {
        return size;
    }

    @Override
    public final GuestMemory memory() {
        return memory;
    }

    @Override
    public final long features() {
        return features;
    }

    @Override
    public final void reset() {
        resetRing();
        numFree = size;
        inFlight = 0;
        usedLength = 0;
        interrupts = true;
        reason = null;
        Mem.fullFence();
    }

    /** Zeroes the ring memory and resets the subclass's indexes and free list, for {@link #reset()}. */
    abstract void resetRing();

    @Override
    public final int freeDescriptors() {
        return numFree;
    }

    @Override
    public final int inFlight() {
        return inFlight;
    }

    @Override
    public final int usedLength() {
        return usedLength;
    }

    @Override
    public final int add(long[] addresses, int[] lengths, int readable, int writable) {
        checkCounts(addresses, lengths, readable, writable, size);
        int n = readable + writable;
        if (isBroken() || numFree < n) {
            return NONE;
        }
        numFree -= n;
        inFlight++;
        return addChain(addresses, lengths, readable, n);
    }

    @Override
    public final int addIndirect(long[] addresses, int[] lengths, int readable, int writable) {
        checkCounts(addresses, lengths, readable, writable, Integer.MAX_VALUE);
        int n = readable + writable;
        checkIndirect(n);
        if (isBroken() || numFree < 1) {
            return NONE;
        }
        numFree -= 1;
        inFlight++;
        return addIndirectChain(addresses, lengths, readable, n);
    }

    @Override
    public final int add(long address, int length, boolean writable) {
        if (isBroken() || numFree < 1) {
            return NONE;
        }
        numFree -= 1;
        inFlight++;
        return addOne(address, length, writable);
    }

    /*
     * The add methods' ring writes, called once the counts are checked and the buffer's ring descriptors are
     * counted as taken (they cannot fail): each returns the buffer id.
     */

    /** Writes a chain of {@code n} direct descriptors, the first {@code readable} device-readable. */
    abstract int addChain(long[] addresses, int[] lengths, int readable, int n);

    /**
     * Writes an indirect table of {@code n} elements, the first {@code readable} device-readable, and the ring
     * descriptor pointing to it.
     */
    abstract int addIndirectChain(long[] addresses, int[] lengths, int readable, int n);

    /** Writes one descriptor. */
    abstract int addOne(long address, int length, boolean writable);

    @Override
    public final boolean isBroken() {
        return reason != null;
    }

    @Override
    public final String brokenReason() {
        return reason;
    }

    final int fail(String why) {
        if (reason == null) {
            reason = why;
        }
        return NONE;
    }
}
