package vnet.virtqueue;

import static vnet.virtqueue.internal.Mem.getI32;
import static vnet.virtqueue.internal.Mem.getU16;
import static vnet.virtqueue.internal.Mem.getU16Acquire;
import static vnet.virtqueue.internal.Mem.putI32;
import static vnet.virtqueue.internal.Mem.putI64;
import static vnet.virtqueue.internal.Mem.putU16;
import static vnet.virtqueue.internal.Mem.putU16Release;

import vnet.virtqueue.internal.Mem;
import vnet.virtqueue.internal.RingMath;

/**
 * Driver side of a split virtqueue (§2.7): writes descriptors and the available ring, reads the used ring. Buffer
 * ids are head descriptor indexes. Free descriptors are kept in a private free list (never read back from guest
 * memory).
 */
public final class SplitVirtqueueDriver extends DriverQueueBase {
    private final int mask;
    private final long descHva;
    private final long availHva;
    private final long usedHva;
    private final int[] freeNext;
    private final int[] chainLength;
    private final boolean[] inUse;
    private int freeHead;
    private int availIdx;
    private int publishedAvail;
    private int kickedAvail;
    private int lastUsed;

    /**
     * A driver over a split {@code layout} in {@code memory}; zeroes the rings.
     *
     * @throws IllegalArgumentException if the layout is packed or does not lie inside {@code memory}
     */
    public SplitVirtqueueDriver(GuestMemory memory, RingLayout layout, long features) {
        super(memory, layout, features);
        if (layout.isPacked()) {
            throw new IllegalArgumentException("packed layout");
        }
        mask = size - 1;
        descHva = hva(layout.descTable(), Descriptor.tableSize(size), "descriptor table");
        availHva = hva(layout.driverArea(), AvailRing.sizeOf(size), "available ring");
        usedHva = hva(layout.deviceArea(), UsedRing.sizeOf(size), "used ring");
        freeNext = new int[size];
        chainLength = new int[size];
        inUse = new boolean[size];
        reset();
    }

    @Override
    public boolean isPacked() {
        return false;
    }

    @Override
    void resetRing() {
        Mem.fill(descHva, Descriptor.tableSize(size), (byte) 0);
        Mem.fill(availHva, AvailRing.sizeOf(size), (byte) 0);
        Mem.fill(usedHva, UsedRing.sizeOf(size), (byte) 0);
        for (int i = 0; i < size; i++) {
            freeNext[i] = i + 1;
            inUse[i] = false;
        }
        freeHead = 0;
        availIdx = 0;
        publishedAvail = 0;
        kickedAvail = 0;
        lastUsed = 0;
    }

    @Override
    int addChain(long[] addresses, int[] lengths, int readable, int n) {
        int head = freeHead;
        int idx = head;
        for (int i = 0; i < n; i++) {
            long d = descHva + (long) Descriptor.SIZE * idx;
            int next = freeNext[idx];
            boolean last = i == n - 1;
            putI64(d + Descriptor.ADDR, addresses[i]);
            putI32(d + Descriptor.LEN, lengths[i]);
            putU16(d + Descriptor.SPLIT_FLAGS, flags(i >= readable, last));
            putU16(d + Descriptor.SPLIT_NEXT, last ? 0 : next);
            if (last) {
                freeHead = next;
            } else {
                idx = next;
            }
        }
        return enqueue(head, n);
    }

    @Override
    int addIndirectChain(long[] addresses, int[] lengths, int readable, int n) {
        int head = freeHead;
        freeHead = freeNext[head];
        long table = indirectHva + indirectStride * head;
        for (int i = 0; i < n; i++) {
            long e = table + (long) Descriptor.SIZE * i;
            boolean last = i == n - 1;
            putI64(e + Descriptor.ADDR, addresses[i]);
            putI32(e + Descriptor.LEN, lengths[i]);
            putU16(e + Descriptor.SPLIT_FLAGS, flags(i >= readable, last));
            putU16(e + Descriptor.SPLIT_NEXT, last ? 0 : i + 1);
        }
        long d = descHva + (long) Descriptor.SIZE * head;
        putI64(d + Descriptor.ADDR, layout.indirectTable(head));
        putI32(d + Descriptor.LEN, n * Descriptor.SIZE);
        putU16(d + Descriptor.SPLIT_FLAGS, Descriptor.F_INDIRECT);
        putU16(d + Descriptor.SPLIT_NEXT, 0);
        return enqueue(head, 1);
    }

    private static int flags(boolean writable, boolean last) {
        return (writable ? Descriptor.F_WRITE : 0) | (last ? 0 : Descriptor.F_NEXT);
    }

    @Override
    int addOne(long address, int length, boolean writable) {
        int head = freeHead;
        freeHead = freeNext[head];
        long d = descHva + (long) Descriptor.SIZE * head;
        putI64(d + Descriptor.ADDR, address);
        putI32(d + Descriptor.LEN, length);
        putU16(d + Descriptor.SPLIT_FLAGS, writable ? Descriptor.F_WRITE : 0);
        putU16(d + Descriptor.SPLIT_NEXT, 0);
        return enqueue(head, 1);
    }

    private int enqueue(int head, int descriptors) {
        chainLength[head] = descriptors;
        inUse[head] = true;
        putU16(availHva + AvailRing.RING + 2L * (availIdx & mask), head);
        availIdx = (availIdx + 1) & 0xffff;
        return head;
    }

    @Override
    public void publish() {
        if (availIdx != publishedAvail) {
            putU16Release(availHva + AvailRing.IDX, availIdx);
            publishedAvail = availIdx;
        }
    }

    @Override
    public boolean shouldKick() {
        publish();
        int newIdx = publishedAvail;
        int old = kickedAvail;
        if (newIdx == old) {
            return false;
        }
        kickedAvail = newIdx;
        Mem.fullFence();
        if (eventIdx) {
            return RingMath.needEvent(getU16(usedHva + UsedRing.availEventOffset(size)), newIdx, old);
        }
        return (getU16(usedHva + UsedRing.FLAGS) & UsedRing.F_NO_NOTIFY) == 0;
    }

    @Override
    public boolean hasUsed() {
        return !isBroken() && getU16Acquire(usedHva + UsedRing.IDX) != lastUsed;
    }

    @Override
    public int pollUsed() {
        if (isBroken()) {
            return NONE;
        }
        int idx = getU16Acquire(usedHva + UsedRing.IDX);
        if (idx == lastUsed) {
            return NONE;
        }
        if (((idx - lastUsed) & 0xffff) > inFlight) {
            return fail("used index jumped from " + lastUsed + " to " + idx + " with " + inFlight + " in flight");
        }
        long e = usedHva + UsedRing.RING + (long) UsedRing.ELEM_SIZE * (lastUsed & mask);
        int id = getI32(e + UsedRing.ELEM_ID);
        int len = getI32(e + UsedRing.ELEM_LEN);
        if (id < 0 || id >= size || !inUse[id]) {
            return fail("device used unknown id " + id);
        }
        int last = id;
        for (int i = 1; i < chainLength[id]; i++) {
            last = freeNext[last];
        }
        freeNext[last] = freeHead;
        freeHead = id;
        numFree += chainLength[id];
        inUse[id] = false;
        inFlight--;
        usedLength = len;
        lastUsed = (lastUsed + 1) & 0xffff;
        if (eventIdx && interrupts) {
            putU16(availHva + AvailRing.usedEventOffset(size), lastUsed);
        }
        return id;
    }

    @Override
    public boolean enableInterrupts() {
        interrupts = true;
        if (eventIdx) {
            putU16(availHva + AvailRing.usedEventOffset(size), lastUsed);
        } else {
            putU16(availHva + AvailRing.FLAGS, 0);
        }
        Mem.fullFence();
        return hasUsed();
    }

    @Override
    public void disableInterrupts() {
        interrupts = false;
        if (eventIdx) {
            putU16(availHva + AvailRing.usedEventOffset(size), (lastUsed - 1) & 0xffff);
        } else {
            putU16(availHva + AvailRing.FLAGS, AvailRing.F_NO_INTERRUPT);
        }
    }

    @Override
    public int availIndex() {
        return availIdx;
    }

    @Override
    public String toString() {
        return "SplitVirtqueueDriver[size=" + size + ", avail=" + availIdx + ", lastUsed=" + lastUsed + ", free="
            + numFree + (isBroken() ? ", broken: " + brokenReason() : "") + "]";
    }
}
