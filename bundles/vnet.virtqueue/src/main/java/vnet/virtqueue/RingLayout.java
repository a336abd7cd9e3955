package vnet.virtqueue;

/**
 * Where the parts of one virtqueue lie in guest physical memory, computed per the spec's size and alignment
 * table, plus an optional area of per-buffer indirect tables for the driver side.
 *
 * <pre>
 * split  (§2.7): descriptor table 16*N align 16 | available ring 6+2N align 2 | used ring 6+8N align 4
 * packed (§2.8): descriptor ring 16*N align 16 | driver event suppression 4 align 4 | device event supp. 4 align 4
 * then, if indirectEntries &gt; 0: N indirect tables of indirectEntries*16 bytes each, align 16
 * </pre>
 */
public final class RingLayout {
    /** Largest queue size for either layout (2^15). */
    public static final int MAX_QUEUE_SIZE = 32768;

    private final boolean packed;
    private final int queueSize;
    private final long base;
    private final long descTable;
    private final long driverArea;
    private final long deviceArea;
    private final long indirectArea;
    private final int indirectEntries;
    private final long end;

    private RingLayout(boolean packed, long base, int queueSize, int indirectEntries) {
        checkSize(packed, queueSize);
        if (base < 0) {
            throw new IllegalArgumentException("negative base");
        }
        if (indirectEntries < 0 || indirectEntries > 65536) {
            throw new IllegalArgumentException("indirectEntries must be 0..65536: " + indirectEntries);
        }
        this.packed = packed;
        this.queueSize = queueSize;
        this.base = base;
        this.indirectEntries = indirectEntries;
        descTable = align(base, Descriptor.ALIGN);
        long p = descTable + Descriptor.tableSize(queueSize);
        if (packed) {
            driverArea = align(p, EventSuppression.ALIGN);
            deviceArea = driverArea + EventSuppression.SIZE;
            p = deviceArea + EventSuppression.SIZE;
        } else {
            driverArea = align(p, AvailRing.ALIGN);
            deviceArea = align(driverArea + AvailRing.sizeOf(queueSize), UsedRing.ALIGN);
            p = deviceArea + UsedRing.sizeOf(queueSize);
        }
        if (indirectEntries > 0) {
            indirectArea = align(p, Descriptor.ALIGN);
            p = indirectArea + (long) queueSize * indirectEntries * Descriptor.SIZE;
        } else {
            indirectArea = GuestMemory.NO_ADDRESS;
        }
        end = p;
        if (end < 0) {
            throw new IllegalArgumentException("layout overflows");
        }
    }

    /** Whether {@code queueSize} is a power of 2 in 1..32768: a split queue's size, and L4Re's {@code --size} rule. */
    public static boolean isPowerOfTwoSize(long queueSize) {
        return queueSize >= 1 && queueSize <= MAX_QUEUE_SIZE && Long.bitCount(queueSize) == 1;
    }

    /** Checks a queue size: 1..32768, and a power of 2 for split queues. */
    public static void checkSize(boolean packed, int queueSize) {
        if (queueSize < 1 || queueSize > MAX_QUEUE_SIZE) {
            throw new IllegalArgumentException("queue size must be 1..32768: " + queueSize);
        }
        if (!packed && !isPowerOfTwoSize(queueSize)) {
            throw new IllegalArgumentException("split queue size must be a power of 2: " + queueSize);
        }
    }

    private static long align(long v, int a) {
        return (v + a - 1) & -a;
    }

    /** A split layout at {@code base} (rounded up to 16) without indirect tables. */
    public static RingLayout split(long base, int queueSize) {
        return new RingLayout(false, base, queueSize, 0);
    }

    /** A split layout at {@code base} with one indirect table of {@code indirectEntries} per descriptor. */
    public static RingLayout split(long base, int queueSize, int indirectEntries) {
        return new RingLayout(false, base, queueSize, indirectEntries);
    }

    /** A packed layout at {@code base} (rounded up to 16) without indirect tables. */
    public static RingLayout packed(long base, int queueSize) {
        return new RingLayout(true, base, queueSize, 0);
    }

    /** A packed layout at {@code base} with one indirect table of {@code indirectEntries} per buffer id. */
    public static RingLayout packed(long base, int queueSize, int indirectEntries) {
        return new RingLayout(true, base, queueSize, indirectEntries);
    }

    /** Whether this is a packed layout. */
    public boolean isPacked() {
        return packed;
    }

    /** Queue size N. */
    public int queueSize() {
        return queueSize;
    }

    /** The base address asked for. */
    public long base() {
        return base;
    }

    /** Descriptor Area: descriptor table (split) or descriptor ring (packed). */
    public long descTable() {
        return descTable;
    }

    /** Driver Area: available ring (split) or driver event suppression (packed). */
    public long driverArea() {
        return driverArea;
    }

    /** Device Area: used ring (split) or device event suppression (packed). */
    public long deviceArea() {
        return deviceArea;
    }

    /** Start of the indirect tables, or {@link GuestMemory#NO_ADDRESS} if none. */
    public long indirectArea() {
        return indirectArea;
    }

    /** Entries per indirect table (0 if none). */
    public int indirectEntries() {
        return indirectEntries;
    }

    /** Address of the indirect table reserved for buffer/head {@code id}. */
    public long indirectTable(int id) {
        return indirectArea + (long) id * indirectEntries * Descriptor.SIZE;
    }

    /** First address after the layout. */
    public long end() {
        return end;
    }

    /** Bytes from {@link #base()} to {@link #end()}. */
    public long totalSize() {
        return end - base;
    }

    @Override
    public String toString() {
        return (packed ? "packed" : "split") + " N=" + queueSize + " desc=0x" + Long.toHexString(descTable)
            + " driver=0x" + Long.toHexString(driverArea) + " device=0x" + Long.toHexString(deviceArea)
            + " end=0x" + Long.toHexString(end);
    }
}
