package vnet.virtqueue;

/** Construction checks and broken state shared by the split and packed drivers. Package-private. */
abstract class DriverQueueBase implements DriverQueue {
    final GuestMemory memory;
    final RingLayout layout;
    final long features;
    final int size;
    final boolean eventIdx;
    final boolean indirectAllowed;
    final long indirectHva;
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
    public final int add(long address, int length, boolean writable) {
        return addOne(address, length, writable);
    }

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

    final void clearBroken() {
        reason = null;
    }
}
