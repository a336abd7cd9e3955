package vnet.virtqueue;

import static vnet.virtqueue.internal.Mem.getI32;
import static vnet.virtqueue.internal.Mem.getI64;
import static vnet.virtqueue.internal.Mem.getU16;
import static vnet.virtqueue.internal.Mem.getU16Acquire;
import static vnet.virtqueue.internal.Mem.putI32;
import static vnet.virtqueue.internal.Mem.putU16;
import static vnet.virtqueue.internal.Mem.putU16Release;
import static vnet.virtqueue.internal.Mem.putU8;

import vnet.virtqueue.internal.Mem;
import vnet.virtqueue.internal.RingMath;

/**
 * Device side of a split virtqueue (VIRTIO 1.2 §2.7): reads the driver's descriptor table and
 * {@link AvailRing available ring}, writes the {@link UsedRing used ring}.
 *
 * <p>Checks, each of which marks the queue broken: available {@code idx} moving more than N past the last seen
 * position; a head or {@code next} index outside its table; a chain with more descriptors than its table (a loop)
 * or more than {@code max(N, 1024)} buffer descriptors in total (one pointing to an indirect table not counted);
 * INDIRECT without the feature, with NEXT, inside an indirect table, with a length that is zero or not a
 * multiple of 16, or a table outside memory; a buffer outside the regions or wrapping the address space; a
 * readable descriptor after a writable one; a part's total length above {@code Integer.MAX_VALUE}. Zero-length
 * descriptors are accepted and their address ignored. WRITE on an indirect descriptor is ignored, as §2.7.5.3.2
 * says.
 */
public final class SplitVirtqueue extends DeviceQueueBase {
    private int mask;
    private long descHva;
    private long availHva;
    private long usedHva;
    /** Next available ring index to read (free-running 16 bits). */
    private int lastAvail;
    /** Last {@code avail->idx} read (acquired). */
    private int availIdx;
    /** Shadow used index, including pushed but unpublished elements. */
    private int usedIdx;
    /** Used index last stored into the ring. */
    private int publishedUsed;
    /** Used index at the last {@link #needsNotification()}. */
    private int signalledUsed;

    /** An unconfigured split virtqueue; see {@link DeviceQueue} for the set-up sequence. */
    public SplitVirtqueue() {
    }

    @Override
    public boolean isPacked() {
        return false;
    }

    @Override
    void sizeChanged() {
        mask = size - 1;
    }

    @Override
    String translate() {
        long d = translatePart(descGpa, Descriptor.tableSize(size), Descriptor.ALIGN);
        if (d == GuestMemory.NO_ADDRESS) {
            return "descriptor table 0x" + Long.toHexString(descGpa) + " misaligned or outside guest memory";
        }
        long a = translatePart(driverGpa, AvailRing.sizeOf(size), AvailRing.ALIGN);
        if (a == GuestMemory.NO_ADDRESS) {
            return "available ring 0x" + Long.toHexString(driverGpa) + " misaligned or outside guest memory";
        }
        long u = translatePart(deviceGpa, UsedRing.sizeOf(size), UsedRing.ALIGN);
        if (u == GuestMemory.NO_ADDRESS) {
            return "used ring 0x" + Long.toHexString(deviceGpa) + " misaligned or outside guest memory";
        }
        descHva = d;
        availHva = a;
        usedHva = u;
        return null;
    }

    @Override
    void activated() {
        usedIdx = getU16(usedHva + UsedRing.IDX);
        publishedUsed = usedIdx;
        signalledUsed = usedIdx;
        availIdx = lastAvail;
    }

    @Override
    void resetIndexes() {
        lastAvail = 0;
        availIdx = 0;
        usedIdx = 0;
        publishedUsed = 0;
        signalledUsed = 0;
    }

    @Override
    public int lastAvailIndex() {
        return lastAvail;
    }

    @Override
    public void setLastAvailIndex(int index) {
        lastAvail = index & 0xffff;
        availIdx = lastAvail;
    }

    @Override
    public void rewind(int savedLastAvailIndex) {
        lastAvail = savedLastAvailIndex & 0xffff;
    }

    @Override
    public int usedIndex() {
        return usedIdx;
    }

    /** Reads avail idx (acquire) and checks it; returns the number of entries pending, or -1 if broken. */
    private int refreshAvail() {
        int idx = getU16Acquire(availHva + AvailRing.IDX);
        int pending = (idx - lastAvail) & 0xffff;
        if (pending > size) {
            markBroken("available index jumped from " + lastAvail + " to " + idx + " (queue size " + size + ")");
            return -1;
        }
        availIdx = idx;
        return pending;
    }

    @Override
    public boolean hasAvailable() {
        if (!active) {
            return false;
        }
        if (availIdx != lastAvail) {
            return true;
        }
        return refreshAvail() > 0;
    }

    @Override
    public boolean pop(DescriptorChain chain) {
        if (!active) {
            return false;
        }
        if (availIdx == lastAvail || ((availIdx - lastAvail) & 0xffff) > size) {
            if (refreshAvail() <= 0) {
                return false;
            }
        }
        int head = getU16(availHva + AvailRing.RING + 2L * (lastAvail & mask));
        if (head >= size) {
            return fail("head index " + head + " >= queue size " + size);
        }
        if (!readChain(chain, head)) {
            chain.clear();
            return false;
        }
        lastAvail = (lastAvail + 1) & 0xffff;
        return true;
    }

    /** What {@link #prefetch} read, kept so that the compiler cannot drop the loads. */
    private long prefetched;

    @Override
    public void prefetch(int chains) {
        if (!active) {
            return;
        }
        int pending = (availIdx - lastAvail) & 0xffff;
        if (pending == 0 || pending > size) {
            pending = refreshAvail(); // as pop does; -1 (broken) reads nothing
        }
        int n = Math.min(chains, pending);
        long sink = 0;
        for (int i = 0; i < n; i++) { // independent loads: their misses overlap
            int head = getU16(availHva + AvailRing.RING + 2L * ((lastAvail + i) & mask));
            if (head < size) {
                sink += getI64(descHva + (long) Descriptor.SIZE * head + Descriptor.ADDR);
            }
        }
        prefetched = sink;
    }

    @Override
    public void prefetchUsedForWrite(int entries) {
        if (!active || entries <= 0) {
            return;
        }
        // Elements usedIdx .. usedIdx+n-1, for no more chains than are taken or available: not pushed, and no element
        // the driver may still read shares their slots (those it has not consumed, the chains taken and those
        // available are at most size together). One store per 8 elements (64 bytes) reaches every line they span
        // but the last element's end.
        int n = Math.min(Math.min(entries, size), (availIdx - usedIdx) & 0xffff);
        if (n == 0) {
            return;
        }
        long ring = usedHva + UsedRing.RING;
        for (int i = 0; i < n; i += 8) {
            putU8(ring + (long) UsedRing.ELEM_SIZE * ((usedIdx + i) & mask), 0);
        }
        putU8(ring + (long) UsedRing.ELEM_SIZE * ((usedIdx + n - 1) & mask) + UsedRing.ELEM_SIZE - 1, 0);
    }

    /**
     * Reads the chain at {@code head} into {@code chain}: a one-descriptor chain (every frame of a small-frame load)
     * here, so that this inlines into {@link #pop}; longer and indirect chains in {@link #readLongChain}.
     */
    private boolean readChain(DescriptorChain chain, int head) {
        long first = descHva + (long) Descriptor.SIZE * head;
        int firstFlags = getU16(first + Descriptor.SPLIT_FLAGS);
        if ((firstFlags & (Descriptor.F_NEXT | Descriptor.F_INDIRECT)) == 0) {
            String err = chain.single(memory, head, getI64(first + Descriptor.ADDR), getI32(first + Descriptor.LEN),
                    (firstFlags & Descriptor.F_WRITE) != 0);
            return err == null || fail(err + " in chain " + head);
        }
        return readLongChain(chain, head);
    }

    /** {@link #readChain} for chains of several descriptors or an indirect table (see §2.7.5 and the class checks). */
    private boolean readLongChain(DescriptorChain chain, int head) {
        GuestMemory mem = memory;
        chain.start(head);
        int max = maxChainLength(size);
        long table = descHva;
        int tableLength = size;
        int index = head;
        int inTable = 0;
        int total = 0;
        int direct = 0;
        boolean indirect = false;
        while (true) {
            if (++inTable > tableLength) {
                return fail("descriptor chain from head " + head + " longer than its table (loop)");
            }
            if (!indirect) {
                direct++;
            }
            long d = table + (long) Descriptor.SIZE * index;
            long addr = getI64(d + Descriptor.ADDR);
            int len = getI32(d + Descriptor.LEN);
            int flags = getU16(d + Descriptor.SPLIT_FLAGS);
            int next = getU16(d + Descriptor.SPLIT_NEXT);
            if ((flags & Descriptor.F_INDIRECT) != 0) {
                if (indirect) {
                    return fail("nested indirect table in chain " + head);
                }
                if (!indirectAllowed) {
                    return fail("indirect descriptor without VIRTIO_F_INDIRECT_DESC in chain " + head);
                }
                // §2.7.5.3.2: the device MUST ignore WRITE on a descriptor that refers to an indirect table.
                if ((flags & Descriptor.F_NEXT) != 0) {
                    return fail("indirect descriptor with NEXT flag in chain " + head);
                }
                if (len == 0 || (len & (Descriptor.SIZE - 1)) != 0) {
                    return fail("indirect table length " + Integer.toUnsignedString(len) + " in chain " + head);
                }
                long tableBytes = len & 0xffffffffL;
                long h = mem.hostAddress(addr, tableBytes);
                if (h == GuestMemory.NO_ADDRESS) {
                    return fail("indirect table 0x" + Long.toHexString(addr) + "+" + tableBytes
                        + " outside guest memory");
                }
                indirect = true;
                chain.setIndirect(true);
                table = h;
                tableLength = (int) Math.min(tableBytes / Descriptor.SIZE, 65536);
                index = 0;
                inTable = 0;
                continue;
            }
            if (++total > max) {
                return fail("descriptor chain from head " + head + " longer than " + max);
            }
            String err = chain.add(mem, addr, len, (flags & Descriptor.F_WRITE) != 0);
            if (err != null) {
                return fail(err + " in chain " + head);
            }
            if ((flags & Descriptor.F_NEXT) == 0) {
                break;
            }
            if (next >= tableLength) {
                return fail("next index " + next + " out of range in chain " + head);
            }
            index = next;
        }
        chain.setDescriptorCount(direct);
        return true;
    }

    @Override
    public void pushUsed(int id, int writtenLength) {
        if (!canPushUsed(id)) {
            return;
        }
        long e = usedHva + UsedRing.RING + (long) UsedRing.ELEM_SIZE * (usedIdx & mask);
        putI32(e + UsedRing.ELEM_ID, id);
        putI32(e + UsedRing.ELEM_LEN, writtenLength);
        usedIdx = (usedIdx + 1) & 0xffff;
    }

    @Override
    public void publishUsed() {
        if (!active || usedIdx == publishedUsed) {
            return;
        }
        putU16Release(usedHva + UsedRing.IDX, usedIdx);
        publishedUsed = usedIdx;
    }

    @Override
    public boolean needsNotification() {
        if (!active) {
            return false;
        }
        int newIdx = publishedUsed;
        int old = signalledUsed;
        if (newIdx == old) {
            return false;
        }
        signalledUsed = newIdx;
        Mem.fullFence();
        if (eventIdx) {
            int usedEvent = getU16(availHva + AvailRing.usedEventOffset(size));
            return RingMath.needEvent(usedEvent, newIdx, old);
        }
        return (getU16(availHva + AvailRing.FLAGS) & AvailRing.F_NO_INTERRUPT) == 0;
    }

    @Override
    public boolean enableNotification() {
        if (!active) {
            return false;
        }
        if (eventIdx) {
            putU16(usedHva + UsedRing.availEventOffset(size), lastAvail);
        } else {
            putU16(usedHva + UsedRing.FLAGS, 0);
        }
        Mem.fullFence();
        return refreshAvail() > 0;
    }

    @Override
    public void disableNotification() {
        if (!active || eventIdx) {
            return;
        }
        putU16(usedHva + UsedRing.FLAGS, UsedRing.F_NO_NOTIFY);
    }

    @Override
    public String toString() {
        return "SplitVirtqueue[size=" + size + ", lastAvail=" + lastAvail + ", used=" + usedIdx
            + (isBroken() ? ", broken: " + brokenReason() : active ? ", active" : "") + "]";
    }
}
