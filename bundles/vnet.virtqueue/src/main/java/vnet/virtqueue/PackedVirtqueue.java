package vnet.virtqueue;

import static vnet.virtqueue.internal.Mem.getI32;
import static vnet.virtqueue.internal.Mem.getI64;
import static vnet.virtqueue.internal.Mem.getU16;
import static vnet.virtqueue.internal.Mem.getU16Acquire;
import static vnet.virtqueue.internal.Mem.putI32;
import static vnet.virtqueue.internal.Mem.putU16;

import vnet.virtqueue.internal.Mem;

/**
 * Device side of a packed virtqueue (VIRTIO 1.2 §2.8): reads available descriptors from the descriptor ring and
 * the driver event suppression structure, writes used descriptors and the device event suppression structure.
 *
 * <p>A descriptor is available when its AVAIL bit equals the device's avail wrap counter and its USED bit does
 * not. The buffer id is taken from the last descriptor of a chain. Used descriptors are written in completion
 * order at the device's used position, which then skips as many ring descriptors as the buffer occupied.
 *
 * <p>Checks, each of which marks the queue broken: a chain longer than N ring descriptors; a buffer id ≥ N;
 * INDIRECT without the feature, with NEXT, after a NEXT descriptor, with a length that is zero or not a
 * multiple of 16, with more than {@code max(N, 1024)} entries, or a table outside memory; INDIRECT inside an
 * indirect table; a buffer outside the regions or wrapping the address space; a readable element after a
 * writable one; a part's total length above {@code Integer.MAX_VALUE}. (WRITE on an indirect descriptor is ignored, as
 * the spec says; NEXT inside an indirect table is ignored, as the spec says.)
 */
public final class PackedVirtqueue extends DeviceQueueBase {
    private long descHva;
    private long driverEventHva;
    private long deviceEventHva;
    private int lastAvail;
    private boolean availWrap = true;
    private int usedPos;
    private boolean usedWrap = true;
    /** Ring descriptors occupied by each buffer id, recorded at pop. */
    private int[] idDescriptors = new int[0];
    private int[] pendingPos = new int[0];
    private int[] pendingFlags = new int[0];
    private int pendingCount;
    /** Ring descriptors pushed but not yet published. */
    private int pendingSlots;
    private int publishedPos;
    private boolean publishedWrap = true;
    /** Ring descriptors published since the last {@link #needsNotification()}. */
    private int unsignalled;

    /** An unconfigured packed virtqueue; see {@link DeviceQueue} for the set-up sequence. */
    public PackedVirtqueue() {
    }

    @Override
    public boolean isPacked() {
        return true;
    }

    @Override
    void sizeChanged() {
        idDescriptors = new int[size];
        java.util.Arrays.fill(idDescriptors, 1);
        pendingPos = new int[size];
        pendingFlags = new int[size];
        pendingCount = 0;
        pendingSlots = 0;
        if (lastAvail >= size || usedPos >= size) {
            resetIndexes();
        }
    }

    @Override
    String translate() {
        long d = translatePart(descGpa, Descriptor.tableSize(size), Descriptor.ALIGN);
        if (d == GuestMemory.NO_ADDRESS) {
            return "descriptor ring 0x" + Long.toHexString(descGpa) + " misaligned or outside guest memory";
        }
        long drv = translatePart(driverGpa, EventSuppression.SIZE, EventSuppression.ALIGN);
        if (drv == GuestMemory.NO_ADDRESS) {
            return "driver event suppression 0x" + Long.toHexString(driverGpa)
                + " misaligned or outside guest memory";
        }
        long dev = translatePart(deviceGpa, EventSuppression.SIZE, EventSuppression.ALIGN);
        if (dev == GuestMemory.NO_ADDRESS) {
            return "device event suppression 0x" + Long.toHexString(deviceGpa)
                + " misaligned or outside guest memory";
        }
        descHva = d;
        driverEventHva = drv;
        deviceEventHva = dev;
        return null;
    }

    @Override
    void activated() {
        pendingCount = 0;
        pendingSlots = 0;
        publishedPos = usedPos;
        publishedWrap = usedWrap;
        unsignalled = 0;
    }

    @Override
    void resetIndexes() {
        lastAvail = 0;
        availWrap = true;
        usedPos = 0;
        usedWrap = true;
        pendingCount = 0;
        pendingSlots = 0;
        publishedPos = 0;
        publishedWrap = true;
        unsignalled = 0;
        java.util.Arrays.fill(idDescriptors, 1);
    }

    @Override
    public int lastAvailIndex() {
        return lastAvail | (availWrap ? 1 << 15 : 0);
    }

    @Override
    public void setLastAvailIndex(int index) {
        rewind(index);
        usedPos = lastAvail;
        usedWrap = availWrap;
        activated();
    }

    @Override
    public void setUsedIndex(int index) {
        int pos = index & 0x7fff;
        if (pos >= size) {
            throw new IllegalArgumentException("packed ring used offset " + pos + " >= queue size " + size);
        }
        usedPos = pos;
        usedWrap = (index & 0x8000) != 0;
        activated();
    }

    /**
     * One clean boundary in the descriptors' USED bits: before it they equal the device's wrap counter W (used this
     * lap, or made available again for the next), from it on they do not (available this lap, or used last lap).
     * Chains of several ring descriptors leave the skipped ones' bits alone, which shows as a second boundary: then
     * the ring does not say, and -1 is returned.
     */
    @Override
    public int positionFromRing() {
        if (!isActive()) {
            return -1;
        }
        boolean first = usedBit(0);
        boolean previous = first;
        int boundary = -1;
        for (int i = 1; i < size; i++) {
            boolean u = usedBit(i);
            if (u != previous) {
                if (boundary >= 0) {
                    return -1;
                }
                boundary = i;
                previous = u;
            }
        }
        if (boundary < 0) {
            return first ? 0 : 1 << 15; // every slot on the same side: the device is at offset 0, wrap counter !bit
        }
        return boundary | (first ? 1 << 15 : 0);
    }

    private boolean usedBit(int slot) {
        return (getU16(descHva + (long) Descriptor.SIZE * slot + Descriptor.PACKED_FLAGS) & Descriptor.F_USED) != 0;
    }

    @Override
    public void rewind(int savedLastAvailIndex) {
        int pos = savedLastAvailIndex & 0x7fff;
        if (pos >= size) {
            throw new IllegalArgumentException("packed ring offset " + pos + " >= queue size " + size);
        }
        lastAvail = pos;
        availWrap = (savedLastAvailIndex & 0x8000) != 0;
    }

    @Override
    public int usedIndex() {
        return usedPos | (usedWrap ? 1 << 15 : 0);
    }

    private boolean isAvailable(int flags) {
        return ((flags & Descriptor.F_AVAIL) != 0) == availWrap && ((flags & Descriptor.F_USED) != 0) != availWrap;
    }

    @Override
    public boolean hasAvailable() {
        return active && isAvailable(getU16Acquire(descHva + (long) Descriptor.SIZE * lastAvail
            + Descriptor.PACKED_FLAGS));
    }

    @Override
    public boolean pop(DescriptorChain chain) {
        if (!active) {
            return false;
        }
        if (popChain(chain)) {
            return true;
        }
        if (!active) {
            chain.clear();
        }
        return false;
    }

    private boolean popChain(DescriptorChain chain) {
        int first = getU16Acquire(descHva + (long) Descriptor.SIZE * lastAvail + Descriptor.PACKED_FLAGS);
        if (!isAvailable(first)) {
            return false;
        }
        GuestMemory mem = memory;
        chain.start(-1);
        int pos = lastAvail;
        boolean wrap = availWrap;
        int n = 0;
        int id;
        while (true) {
            if (++n > size) {
                return fail("descriptor chain at " + lastAvail + " longer than queue size " + size);
            }
            long d = descHva + (long) Descriptor.SIZE * pos;
            int flags = n == 1 ? first : getU16(d + Descriptor.PACKED_FLAGS);
            long addr = getI64(d + Descriptor.ADDR);
            int len = getI32(d + Descriptor.LEN);
            id = getU16(d + Descriptor.PACKED_ID);
            if (++pos == size) {
                pos = 0;
                wrap = !wrap;
            }
            if ((flags & Descriptor.F_INDIRECT) != 0) {
                if (!readIndirect(chain, mem, n, flags, addr, len)) {
                    return false;
                }
                break;
            }
            String err = chain.add(mem, addr, len, (flags & Descriptor.F_WRITE) != 0);
            if (err != null) {
                return fail(err + " in chain at " + lastAvail);
            }
            if ((flags & Descriptor.F_NEXT) == 0) {
                break;
            }
        }
        if (id >= size) {
            return fail("buffer id " + id + " >= queue size " + size);
        }
        chain.setHead(id);
        chain.setDescriptorCount(n);
        idDescriptors[id] = n;
        lastAvail = pos;
        availWrap = wrap;
        return true;
    }

    private boolean readIndirect(DescriptorChain chain, GuestMemory mem, int n, int flags, long addr, int len) {
        if (!indirectAllowed) {
            return fail("indirect descriptor without VIRTIO_F_INDIRECT_DESC at " + lastAvail);
        }
        if (n != 1) {
            return fail("indirect descriptor inside a NEXT chain at " + lastAvail);
        }
        // §2.7.5.3.2 (and §2.8.19): WRITE on a descriptor that refers to an indirect table is ignored.
        if ((flags & Descriptor.F_NEXT) != 0) {
            return fail("indirect descriptor with NEXT flag at " + lastAvail);
        }
        if (len == 0 || (len & (Descriptor.SIZE - 1)) != 0) {
            return fail("indirect table length " + Integer.toUnsignedString(len) + " at " + lastAvail);
        }
        long tableBytes = len & 0xffffffffL;
        long entries = tableBytes / Descriptor.SIZE;
        if (entries > maxChainLength(size)) {
            return fail("indirect table of " + entries + " entries at " + lastAvail);
        }
        long t = mem.hostAddress(addr, tableBytes);
        if (t == GuestMemory.NO_ADDRESS) {
            return fail("indirect table 0x" + Long.toHexString(addr) + "+" + tableBytes + " outside guest memory");
        }
        chain.setIndirect(true);
        for (long i = 0; i < entries; i++) {
            long e = t + Descriptor.SIZE * i;
            int f = getU16(e + Descriptor.PACKED_FLAGS);
            if ((f & Descriptor.F_INDIRECT) != 0) {
                return fail("nested indirect table at " + lastAvail);
            }
            String err = chain.add(mem, getI64(e + Descriptor.ADDR), getI32(e + Descriptor.LEN),
                (f & Descriptor.F_WRITE) != 0);
            if (err != null) {
                return fail(err + " in indirect table at " + lastAvail);
            }
        }
        return true;
    }

    @Override
    public void pushUsed(int id, int writtenLength) {
        if (!canPushUsed(id)) {
            return;
        }
        if (pendingCount == size) {
            publishUsed();
        }
        long d = descHva + (long) Descriptor.SIZE * usedPos;
        putI32(d + Descriptor.LEN, writtenLength);
        putU16(d + Descriptor.PACKED_ID, id);
        pendingPos[pendingCount] = usedPos;
        pendingFlags[pendingCount] = (usedWrap ? Descriptor.F_AVAIL | Descriptor.F_USED : 0)
            | (writtenLength != 0 ? Descriptor.F_WRITE : 0);
        pendingCount++;
        int k = idDescriptors[id];
        pendingSlots += k;
        usedPos += k;
        if (usedPos >= size) {
            usedPos -= size;
            usedWrap = !usedWrap;
        }
    }

    @Override
    public void publishUsed() {
        int c = pendingCount;
        if (!active || c == 0) {
            return;
        }
        PackedRing.publishFlags(descHva, pendingPos, pendingFlags, c);
        pendingCount = 0;
        unsignalled = Math.min(unsignalled + pendingSlots, size);
        pendingSlots = 0;
        publishedPos = usedPos;
        publishedWrap = usedWrap;
    }

    @Override
    public boolean needsNotification() {
        if (!active) {
            return false;
        }
        int k = unsignalled;
        if (k == 0) {
            return false;
        }
        unsignalled = 0;
        Mem.fullFence();
        return PackedRing.wantsEvent(driverEventHva, eventIdx, k, publishedPos, publishedWrap, size);
    }

    @Override
    public boolean enableNotification() {
        if (!active) {
            return false;
        }
        PackedRing.enableEvents(deviceEventHva, eventIdx, lastAvailIndex());
        Mem.fullFence();
        return hasAvailable();
    }

    @Override
    public void disableNotification() {
        if (!active) {
            return;
        }
        putU16(deviceEventHva + EventSuppression.FLAGS, EventSuppression.FLAGS_DISABLE);
    }

    @Override
    public String toString() {
        return "PackedVirtqueue[size=" + size + ", lastAvail=" + lastAvailIndex() + ", used=" + usedIndex()
            + (isBroken() ? ", broken: " + brokenReason() : active ? ", active" : "") + "]";
    }
}
