package vnet.virtqueue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import vnet.virtqueue.internal.Mem;

/**
 * The guest's memory as this process sees it: an immutable snapshot of non-overlapping {@link MemoryRegion}s,
 * with guest physical to host address translation and bounds checks.
 *
 * <p>The control plane changes memory by building a new snapshot ({@link #withRegion}, {@link #withoutRegion})
 * and handing it to the queues ({@link DeviceQueue#setMemory}); a snapshot itself never changes, so the data
 * path needs no lock. Every accessor checks that the whole access lies inside the regions; multi-byte values and
 * ring structures must lie inside one region, byte copies may span adjacent regions.
 *
 * <p>All multi-byte values are little-endian, as virtio 1.x requires.
 */
public final class GuestMemory {
    /** Returned by translations when an address is not backed by any region. */
    public static final long NO_ADDRESS = -1L;

    /** Memory with no regions at all. */
    public static final GuestMemory EMPTY = new GuestMemory(new MemoryRegion[0]);

    private final MemoryRegion[] regions;
    private final long[] starts;
    private final long[] ends;
    private final long[] hosts;
    /** The region {@link #indexOf} found last (a hint only). */
    private int lastHit;
    private final List<MemoryRegion> regionList;

    private GuestMemory(MemoryRegion[] sorted) {
        this.regions = sorted;
        int n = sorted.length;
        starts = new long[n];
        ends = new long[n];
        hosts = new long[n];
        for (int i = 0; i < n; i++) {
            starts[i] = sorted[i].guestPhysicalAddress();
            ends[i] = sorted[i].guestPhysicalEnd();
            hosts[i] = sorted[i].hostAddress();
            if (i > 0 && starts[i] < ends[i - 1]) {
                throw new IllegalArgumentException("overlapping regions: " + sorted[i - 1] + " and " + sorted[i]);
            }
        }
        regionList = Collections.unmodifiableList(Arrays.asList(sorted.clone()));
    }

    /** Memory made of the given regions, which must not overlap in guest physical address space. */
    public static GuestMemory of(MemoryRegion... regions) {
        MemoryRegion[] copy = regions.clone();
        for (MemoryRegion r : copy) {
            Objects.requireNonNull(r, "region");
        }
        Arrays.sort(copy, Comparator.comparingLong(MemoryRegion::guestPhysicalAddress));
        return new GuestMemory(copy);
    }

    /** Memory made of the given regions, which must not overlap in guest physical address space. */
    public static GuestMemory of(Collection<MemoryRegion> regions) {
        return of(regions.toArray(new MemoryRegion[0]));
    }

    /** A new snapshot with {@code region} added. */
    public GuestMemory withRegion(MemoryRegion region) {
        List<MemoryRegion> l = new ArrayList<>(regionList);
        l.add(region);
        return of(l);
    }

    /** A new snapshot without the region that starts at guest physical address {@code gpa} (if any). */
    public GuestMemory withoutRegion(long gpa) {
        List<MemoryRegion> l = new ArrayList<>(regionList);
        l.removeIf(r -> r.guestPhysicalAddress() == gpa);
        return l.size() == regionList.size() ? this : of(l);
    }

    /** The regions, sorted by guest physical address. */
    public List<MemoryRegion> regions() {
        return regionList;
    }

    /** Index of the region containing {@code gpa}, or -1. */
    int indexOf(long gpa) {
        long[] s = starts;
        int n = s.length;
        if (n == 1) {
            return gpa >= s[0] && gpa < ends[0] ? 0 : -1;
        }
        // Consecutive buffers mostly lie in one region (a DPDK mbuf pool, a guest's RAM): try the last hit first.
        // A plain int shared by the threads using this snapshot: any value read is a valid index, checked here.
        int h = lastHit;
        if (h < n && gpa >= s[h] && gpa < ends[h]) {
            return h;
        }
        int lo = 0;
        int hi = n - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (gpa < s[mid]) {
                hi = mid - 1;
            } else if (gpa >= ends[mid]) {
                lo = mid + 1;
            } else {
                lastHit = mid;
                return mid;
            }
        }
        return -1;
    }

    /** End (exclusive) of region {@code index}. */
    long endOf(int index) {
        return ends[index];
    }

    /** Host address of {@code gpa}, which lies in region {@code index}. */
    long hostOf(int index, long gpa) {
        return hosts[index] + (gpa - starts[index]);
    }

    /** The region containing {@code gpa}, or null. */
    public MemoryRegion regionAt(long gpa) {
        int i = indexOf(gpa);
        return i < 0 ? null : regions[i];
    }

    /**
     * Host address of {@code gpa} if all of {@code [gpa, gpa + length)} lies inside one region, else
     * {@link #NO_ADDRESS}. A zero length still requires {@code gpa} itself to be inside a region.
     */
    public long hostAddress(long gpa, long length) {
        if (length < 0) {
            return NO_ADDRESS;
        }
        int i = indexOf(gpa);
        if (i < 0 || ends[i] - gpa < length) {
            return NO_ADDRESS;
        }
        return hosts[i] + (gpa - starts[i]);
    }

    /** Whether all of {@code [gpa, gpa + length)} is backed by regions (possibly several adjacent ones). */
    public boolean isValid(long gpa, long length) {
        if (length < 0) {
            return false;
        }
        int i = indexOf(gpa);
        if (i < 0) {
            return false;
        }
        while (ends[i] - gpa < length) {
            length -= ends[i] - gpa;
            gpa = ends[i];
            i++;
            if (i == starts.length || starts[i] != gpa) {
                return false;
            }
        }
        return true;
    }

    /**
     * Translates a front-end user virtual address (vhost-user {@code userspace_addr} space) to a guest physical
     * address, using the regions' user addresses; {@link #NO_ADDRESS} if no region covers it.
     */
    public long translateUserAddress(long userAddress) {
        for (MemoryRegion r : regions) {
            if (r.hasUserAddress() && userAddress >= r.userAddress()
                && userAddress - r.userAddress() < r.size()) {
                return r.guestPhysicalAddress() + (userAddress - r.userAddress());
            }
        }
        return NO_ADDRESS;
    }

    private long checked(long gpa, int length) {
        long h = hostAddress(gpa, length);
        if (h == NO_ADDRESS) {
            throw new IndexOutOfBoundsException("guest range 0x" + Long.toHexString(gpa) + "+" + length
                + " is not inside one region");
        }
        return h;
    }

    /** Reads one byte. @throws IndexOutOfBoundsException outside the regions */
    public int getU8(long gpa) {
        return Mem.getU8(checked(gpa, 1));
    }

    /** Reads an unsigned le16. @throws IndexOutOfBoundsException outside the regions */
    public int getU16(long gpa) {
        return Mem.getU16(checked(gpa, 2));
    }

    /** Reads a le32. @throws IndexOutOfBoundsException outside the regions */
    public int getI32(long gpa) {
        return Mem.getI32(checked(gpa, 4));
    }

    /** Reads a le64. @throws IndexOutOfBoundsException outside the regions */
    public long getI64(long gpa) {
        return Mem.getI64(checked(gpa, 8));
    }

    /** Writes one byte. @throws IndexOutOfBoundsException outside the regions */
    public void putU8(long gpa, int value) {
        Mem.U.putByte(checked(gpa, 1), (byte) value);
    }

    /** Writes a le16. @throws IndexOutOfBoundsException outside the regions */
    public void putU16(long gpa, int value) {
        Mem.putU16(checked(gpa, 2), value);
    }

    /** Writes a le32. @throws IndexOutOfBoundsException outside the regions */
    public void putI32(long gpa, int value) {
        Mem.putI32(checked(gpa, 4), value);
    }

    /** Writes a le64. @throws IndexOutOfBoundsException outside the regions */
    public void putI64(long gpa, long value) {
        Mem.putI64(checked(gpa, 8), value);
    }

    /**
     * Copies guest bytes {@code [gpa, gpa + length)} into {@code dst[dstOffset..]}; the range may span adjacent
     * regions. @throws IndexOutOfBoundsException outside the regions or the array
     */
    public void read(long gpa, byte[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        copy(gpa, dst, Mem.U.arrayBaseOffset(byte[].class) + (long) dstOffset, length, false);
    }

    /** Copies {@code src[srcOffset..srcOffset+length)} to guest memory at {@code gpa} (may span regions). */
    public void write(long gpa, byte[] src, int srcOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        copy(gpa, src, Mem.U.arrayBaseOffset(byte[].class) + (long) srcOffset, length, true);
    }

    /** Copies guest bytes into an Agrona buffer at {@code index} (may span regions). */
    public void read(long gpa, MutableDirectBuffer dst, int index, int length) {
        dst.boundsCheck(index, length);
        copy(gpa, dst.byteArray(), dst.addressOffset() + index, length, false);
    }

    /** Copies bytes from an Agrona buffer at {@code index} to guest memory (may span regions). */
    public void write(long gpa, DirectBuffer src, int index, int length) {
        src.boundsCheck(index, length);
        copy(gpa, src.byteArray(), src.addressOffset() + index, length, true);
    }

    /** Sets {@code length} guest bytes at {@code gpa} to {@code value} (may span regions). */
    public void fill(long gpa, long length, byte value) {
        if (!isValid(gpa, length)) {
            throw new IndexOutOfBoundsException("guest range 0x" + Long.toHexString(gpa) + "+" + length);
        }
        while (length > 0) {
            int i = indexOf(gpa);
            long n = Math.min(length, ends[i] - gpa);
            Mem.fill(hostOf(i, gpa), n, value);
            gpa += n;
            length -= n;
        }
    }

    private void copy(long gpa, Object base, long offset, long length, boolean toGuest) {
        if (!isValid(gpa, length)) {
            throw new IndexOutOfBoundsException("guest range 0x" + Long.toHexString(gpa) + "+" + length);
        }
        while (length > 0) {
            int i = indexOf(gpa);
            long n = Math.min(length, ends[i] - gpa);
            long h = hostOf(i, gpa);
            if (toGuest) {
                Mem.copy(base, offset, null, h, n);
            } else {
                Mem.copy(null, h, base, offset, n);
            }
            gpa += n;
            offset += n;
            length -= n;
        }
    }

    @Override
    public String toString() {
        return "GuestMemory" + regionList;
    }
}
