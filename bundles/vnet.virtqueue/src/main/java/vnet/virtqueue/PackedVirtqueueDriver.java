package vnet.virtqueue;

import static vnet.virtqueue.internal.Mem.getI32;
import static vnet.virtqueue.internal.Mem.getU16;
import static vnet.virtqueue.internal.Mem.getU16Acquire;
import static vnet.virtqueue.internal.Mem.putI32;
import static vnet.virtqueue.internal.Mem.putI64;
import static vnet.virtqueue.internal.Mem.putU16;

import vnet.virtqueue.internal.Mem;

/**
 * Driver side of a packed virtqueue (§2.8): writes available descriptors (the first of each buffer's last, after
 * a release fence) and the driver event suppression structure, reads used descriptors and the device event
 * suppression structure. Buffer ids come from a private free-id stack; the id is written into every descriptor of
 * a chain.
 */
public final class PackedVirtqueueDriver extends DriverQueueBase {
    private final long descHva;
    private final long driverEventHva;
    private final long deviceEventHva;
    private final int[] freeIds;
    private final int[] descriptors;
    private final boolean[] inUse;
    private final int[] pendingPos;
    private final int[] pendingFlags;
    private int pendingCount;
    private int freeTop;
    private int nextAvail;
    private boolean availWrap;
    private int lastUsed;
    private boolean usedWrap;
    private int unkicked;

    /**
     * A driver over a packed {@code layout} in {@code memory}; zeroes the ring and event structures.
     *
     * @throws IllegalArgumentException if the layout is split or does not lie inside {@code memory}
     */
    public PackedVirtqueueDriver(GuestMemory memory, RingLayout layout, long features) {
        super(memory, layout, features);
        if (!layout.isPacked()) {
            throw new IllegalArgumentException("split layout");
        }
        descHva = hva(layout.descTable(), Descriptor.tableSize(size), "descriptor ring");
        driverEventHva = hva(layout.driverArea(), EventSuppression.SIZE, "driver event suppression");
        deviceEventHva = hva(layout.deviceArea(), EventSuppression.SIZE, "device event suppression");
        freeIds = new int[size];
        descriptors = new int[size];
        inUse = new boolean[size];
        pendingPos = new int[size];
        pendingFlags = new int[size];
        reset();
    }

    @Override
    public boolean isPacked() {
        return true;
    }

    @Override
    void resetRing() {
        Mem.fill(descHva, Descriptor.tableSize(size), (byte) 0);
        Mem.fill(driverEventHva, EventSuppression.SIZE, (byte) 0);
        Mem.fill(deviceEventHva, EventSuppression.SIZE, (byte) 0);
        for (int i = 0; i < size; i++) {
            freeIds[i] = size - 1 - i;
            inUse[i] = false;
        }
        freeTop = size;
        pendingCount = 0;
        nextAvail = 0;
        availWrap = true;
        lastUsed = 0;
        usedWrap = true;
        unkicked = 0;
    }

    private int availFlags() {
        return availWrap ? Descriptor.F_AVAIL : Descriptor.F_USED;
    }

    /** Writes one ring descriptor at nextAvail; the first of a buffer's flags are deferred to publish. */
    private void put(long addr, int len, int id, int flags, boolean first) {
        long d = descHva + (long) Descriptor.SIZE * nextAvail;
        putI64(d + Descriptor.ADDR, addr);
        putI32(d + Descriptor.LEN, len);
        putU16(d + Descriptor.PACKED_ID, id);
        int f = flags | availFlags();
        if (first) {
            pendingPos[pendingCount] = nextAvail;
            pendingFlags[pendingCount] = f;
            pendingCount++;
        } else {
            putU16(d + Descriptor.PACKED_FLAGS, f);
        }
        if (++nextAvail == size) {
            nextAvail = 0;
            availWrap = !availWrap;
        }
    }

    @Override
    int addChain(long[] addresses, int[] lengths, int readable, int n) {
        int id = freeIds[--freeTop];
        for (int i = 0; i < n; i++) {
            put(addresses[i], lengths[i], id,
                (i >= readable ? Descriptor.F_WRITE : 0) | (i < n - 1 ? Descriptor.F_NEXT : 0), i == 0);
        }
        return enqueue(id, n);
    }

    @Override
    int addIndirectChain(long[] addresses, int[] lengths, int readable, int n) {
        int id = freeIds[--freeTop];
        long table = indirectHva + indirectStride * id;
        for (int i = 0; i < n; i++) {
            long e = table + (long) Descriptor.SIZE * i;
            putI64(e + Descriptor.ADDR, addresses[i]);
            putI32(e + Descriptor.LEN, lengths[i]);
            putU16(e + Descriptor.PACKED_ID, 0);
            putU16(e + Descriptor.PACKED_FLAGS, i >= readable ? Descriptor.F_WRITE : 0);
        }
        put(layout.indirectTable(id), n * Descriptor.SIZE, id, Descriptor.F_INDIRECT, true);
        return enqueue(id, 1);
    }

    @Override
    int addOne(long address, int length, boolean writable) {
        int id = freeIds[--freeTop];
        put(address, length, id, writable ? Descriptor.F_WRITE : 0, true);
        return enqueue(id, 1);
    }

    private int enqueue(int id, int n) {
        descriptors[id] = n;
        inUse[id] = true;
        unkicked += n;
        return id;
    }

    @Override
    public void publish() {
        int c = pendingCount;
        if (c == 0) {
            return;
        }
        PackedRing.publishFlags(descHva, pendingPos, pendingFlags, c);
        pendingCount = 0;
    }

    @Override
    public boolean shouldKick() {
        publish();
        int k = unkicked;
        if (k == 0) {
            return false;
        }
        unkicked = 0;
        Mem.fullFence();
        return PackedRing.wantsEvent(deviceEventHva, eventIdx, k, nextAvail, availWrap, size);
    }

    private boolean isUsed(int flags) {
        return ((flags & Descriptor.F_USED) != 0) == usedWrap && ((flags & Descriptor.F_AVAIL) != 0) == usedWrap;
    }

    @Override
    public boolean hasUsed() {
        return !isBroken() && inFlight > 0
            && isUsed(getU16Acquire(descHva + (long) Descriptor.SIZE * lastUsed + Descriptor.PACKED_FLAGS));
    }

    @Override
    public int pollUsed() {
        if (isBroken() || inFlight == 0) {
            return NONE;
        }
        long d = descHva + (long) Descriptor.SIZE * lastUsed;
        if (!isUsed(getU16Acquire(d + Descriptor.PACKED_FLAGS))) {
            return NONE;
        }
        int id = getU16(d + Descriptor.PACKED_ID);
        int len = getI32(d + Descriptor.LEN);
        if (id >= size || !inUse[id]) {
            return fail("device used unknown buffer id " + id);
        }
        int n = descriptors[id];
        lastUsed += n;
        if (lastUsed >= size) {
            lastUsed -= size;
            usedWrap = !usedWrap;
        }
        inUse[id] = false;
        freeIds[freeTop++] = id;
        numFree += n;
        inFlight--;
        usedLength = len;
        if (eventIdx && interrupts) {
            putU16(driverEventHva + EventSuppression.OFF_WRAP, usedOffWrap());
        }
        return id;
    }

    /** The next used position as an event suppression {@code off_wrap}. */
    private int usedOffWrap() {
        return lastUsed | (usedWrap ? 1 << 15 : 0);
    }

    @Override
    public boolean enableInterrupts() {
        interrupts = true;
        PackedRing.enableEvents(driverEventHva, eventIdx, usedOffWrap());
        Mem.fullFence();
        return hasUsed();
    }

    @Override
    public void disableInterrupts() {
        interrupts = false;
        putU16(driverEventHva + EventSuppression.FLAGS, EventSuppression.FLAGS_DISABLE);
    }

    @Override
    public int availIndex() {
        return nextAvail | (availWrap ? 1 << 15 : 0);
    }

    @Override
    public String toString() {
        return "PackedVirtqueueDriver[size=" + size + ", avail=" + availIndex() + ", lastUsed=" + lastUsed
            + ", free=" + numFree + (isBroken() ? ", broken: " + brokenReason() : "") + "]";
    }
}
