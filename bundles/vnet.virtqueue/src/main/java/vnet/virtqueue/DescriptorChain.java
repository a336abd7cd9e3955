package vnet.virtqueue;

import java.util.Objects;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import vnet.virtqueue.internal.Mem;

/**
 * One available buffer taken by the device: its head (buffer id) and its elements as segments, the
 * device-readable segments first, then the device-writable ones (§2.7.4, §2.8.3). Every segment has been checked
 * to lie inside guest memory when the chain was popped; a descriptor spanning two adjacent regions becomes two
 * segments, zero-length descriptors add no segment.
 *
 * <p>The caller owns the object and reuses it for every {@link DeviceQueue#pop(DescriptorChain) pop}: nothing is
 * allocated per chain (the segment arrays grow, rarely, to the longest chain seen). The copy helpers address the
 * readable part and the writable part each as one contiguous byte range starting at offset 0. The guest may
 * change its memory at any time: read what you need once.
 */
public final class DescriptorChain {
    private static final long BYTE_ARRAY_BASE = Mem.U.arrayBaseOffset(byte[].class);

    private long[] gpa = new long[16];
    private long[] hva = new long[16];
    private int[] len = new int[16];
    private int count;
    private int readableSegments;
    private long readableBytes;
    private long writableBytes;
    private int head = -1;
    private int descriptorCount;
    private boolean indirect;
    private boolean sawWritable;

    /** An empty chain, ready to be filled by {@link DeviceQueue#pop(DescriptorChain)}. */
    public DescriptorChain() {
    }

    /** Empties the chain. */
    public void clear() {
        count = 0;
        readableSegments = 0;
        readableBytes = 0;
        writableBytes = 0;
        head = -1;
        descriptorCount = 0;
        indirect = false;
        sawWritable = false;
    }

    // ---- filled by the queues (package-private) ----

    void start(int headId) {
        clear();
        head = headId;
    }

    void setHead(int headId) {
        head = headId;
    }

    void setDescriptorCount(int n) {
        descriptorCount = n;
    }

    void setIndirect(boolean v) {
        indirect = v;
    }

    /**
     * Appends an element, splitting it at region boundaries. Returns null on success or a reason: outside memory,
     * readable after writable, or a byte total overflowing int.
     */
    String add(GuestMemory mem, long addr, int length, boolean writable) {
        long l = length & 0xffffffffL;
        if (!writable && sawWritable) {
            return "readable descriptor after a writable one";
        }
        if (writable) {
            sawWritable = true;
            writableBytes += l;
            if (writableBytes > Integer.MAX_VALUE) {
                return "writable length overflows int";
            }
        } else {
            readableBytes += l;
            if (readableBytes > Integer.MAX_VALUE) {
                return "readable length overflows int";
            }
        }
        if (l == 0) {
            return null;
        }
        if (addr < 0) {
            return "buffer address 0x" + Long.toHexString(addr) + " outside guest memory";
        }
        while (l > 0) {
            int r = mem.indexOf(addr);
            if (r < 0) {
                return "buffer 0x" + Long.toHexString(addr) + "+" + l + " outside guest memory";
            }
            long n = Math.min(l, mem.endOf(r) - addr);
            if (count == gpa.length) {
                grow();
            }
            gpa[count] = addr;
            hva[count] = mem.hostOf(r, addr);
            len[count] = (int) n;
            count++;
            if (!writable) {
                readableSegments++;
            }
            addr += n;
            l -= n;
            if (l > 0 && addr < 0) {
                return "buffer wraps the address space";
            }
        }
        return null;
    }

    /**
     * Makes this the chain of one descriptor (no NEXT, not indirect: a small frame, a receive buffer), with fewer
     * stores than {@link #start} and {@link #add}: a pop's stores queue behind the device's stores into guest memory.
     * Checks and results are {@link #add}'s.
     */
    String single(GuestMemory mem, int headId, long addr, int length, boolean writable) {
        long l = length & 0xffffffffL;
        if (l > Integer.MAX_VALUE || addr < 0 && l != 0) {
            clear();
            return add(mem, addr, length, writable); // the general path words the error
        }
        int r = l == 0 ? 0 : mem.indexOf(addr);
        if (r < 0 || l != 0 && mem.endOf(r) - addr < l) { // outside memory, or across regions
            start(headId);
            descriptorCount = 1;
            return add(mem, addr, length, writable);
        }
        head = headId;
        descriptorCount = 1;
        indirect = false;
        sawWritable = writable;
        readableBytes = writable ? 0 : l;
        writableBytes = writable ? l : 0;
        if (l == 0) {
            count = 0;
            readableSegments = 0;
            return null;
        }
        gpa[0] = addr;
        hva[0] = mem.hostOf(r, addr);
        len[0] = (int) l;
        count = 1;
        readableSegments = writable ? 0 : 1;
        return null;
    }

    private void grow() {
        int n = gpa.length * 2;
        gpa = java.util.Arrays.copyOf(gpa, n);
        hva = java.util.Arrays.copyOf(hva, n);
        len = java.util.Arrays.copyOf(len, n);
    }

    // ---- queries ----

    /** The buffer id to hand back with {@link DeviceQueue#pushUsed(int, int)} (split: head index). */
    public int head() {
        return head;
    }

    /** Ring descriptors the chain occupies (1 for an indirect buffer in a packed ring). */
    public int descriptorCount() {
        return descriptorCount;
    }

    /** Whether the chain came (partly) from an indirect table. */
    public boolean isIndirect() {
        return indirect;
    }

    /** Number of segments (readable then writable). */
    public int segmentCount() {
        return count;
    }

    /** Number of device-readable segments; they come first. */
    public int readableSegmentCount() {
        return readableSegments;
    }

    /** Number of device-writable segments; they follow the readable ones. */
    public int writableSegmentCount() {
        return count - readableSegments;
    }

    /** Guest physical address of segment {@code i}. */
    public long segmentAddress(int i) {
        Objects.checkIndex(i, count);
        return gpa[i];
    }

    /** Host virtual address of segment {@code i} (valid while the memory snapshot stays mapped). */
    public long segmentHostAddress(int i) {
        Objects.checkIndex(i, count);
        return hva[i];
    }

    /** Length of segment {@code i} in bytes. */
    public int segmentLength(int i) {
        Objects.checkIndex(i, count);
        return len[i];
    }

    /** Whether segment {@code i} is device-writable. */
    public boolean isWritable(int i) {
        Objects.checkIndex(i, count);
        return i >= readableSegments;
    }

    /** Total bytes in the device-readable part. */
    public int readableBytes() {
        return (int) readableBytes;
    }

    /** Total bytes in the device-writable part. */
    public int writableBytes() {
        return (int) writableBytes;
    }

    /**
     * Host address of bytes {@code [offset, offset + length)} of the writable part when they lie in its first
     * segment (a receive header: the common case), else {@link GuestMemory#NO_ADDRESS}. Lets the data path write a
     * few fields in place instead of copying them in from scratch.
     */
    public long writableAddress(int offset, int length) {
        int s = readableSegments;
        return s < count && offset >= 0 && length >= 0 && offset <= len[s] - length
                ? hva[s] + offset : GuestMemory.NO_ADDRESS;
    }

    /**
     * Loads byte 0 of the readable part and byte {@code offset} of it, where these lie in its first segment, and
     * returns their sum (0 without a readable segment); changes nothing. A device touches a burst's buffers this way
     * in one tight loop before it reads them: the first touch of memory the driver just wrote is a cache miss, and the
     * misses of a whole burst (a header and a frame may be in different lines) then overlap instead of coming one
     * chain at a time. Never reads outside the segment.
     */
    public int touch(int offset) {
        if (readableSegments == 0) {
            return 0;
        }
        long at = hva[0];
        int v = Mem.getU8(at);
        if (offset > 0 && offset < len[0]) {
            v += Mem.getU8(at + offset);
        }
        return v;
    }

    /**
     * Stores a zero at byte 0 of the writable part and at byte {@code offset} of it, where the chain is one writable
     * descriptor long enough (a receive buffer): a device takes over for writing, in one tight loop, the lines a
     * burst's receive buffers start with before it fills them, so that the misses overlap (a load would fetch the
     * line shared, and the copy would then have to take it over a second time). The device owns the buffer until it
     * returns it, and whatever it writes there later overwrites the zeros.
     */
    public void touchForWrite(int offset) {
        if (count == 1 && readableSegments == 0 && offset >= 0 && offset < len[0]) {
            long at = hva[0];
            Mem.putU8(at, 0);
            Mem.putU8(at + offset, 0);
        }
    }

    // ---- copies ----

    /**
     * Copies up to {@code length} bytes from the readable part, starting {@code offset} bytes into it, to
     * {@code dst[dstOffset..]}.
     *
     * @return the number of bytes copied: {@code min(length, readableBytes() - offset)}, or 0 past the end
     * @throws IndexOutOfBoundsException on a negative offset/length or if the array range is invalid
     */
    public int read(int offset, byte[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        return transfer(offset, dst, BYTE_ARRAY_BASE + dstOffset, length, false);
    }

    /** Like {@link #read(int, byte[], int, int)} into an Agrona buffer (heap or off-heap) at {@code index}. */
    public int read(int offset, MutableDirectBuffer dst, int index, int length) {
        dst.boundsCheck(index, length);
        return transfer(offset, dst.byteArray(), dst.addressOffset() + index, length, false);
    }

    /**
     * Copies up to {@code length} bytes from {@code src[srcOffset..]} into the writable part, starting
     * {@code offset} bytes into it.
     *
     * @return the number of bytes copied: {@code min(length, writableBytes() - offset)}, or 0 past the end
     * @throws IndexOutOfBoundsException on a negative offset/length or if the array range is invalid
     */
    public int write(int offset, byte[] src, int srcOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        return transfer(offset, src, BYTE_ARRAY_BASE + srcOffset, length, true);
    }

    /** Like {@link #write(int, byte[], int, int)} from an Agrona buffer (heap or off-heap) at {@code index}. */
    public int write(int offset, DirectBuffer src, int index, int length) {
        src.boundsCheck(index, length);
        return transfer(offset, src.byteArray(), src.addressOffset() + index, length, true);
    }

    /**
     * Sets up to {@code length} bytes of the writable part, from {@code offset}, to {@code value}.
     *
     * @return the number of bytes set
     */
    public int fill(int offset, int length, byte value) {
        checkOffsetLength(offset, length);
        int done = 0;
        int s = readableSegments;
        int skip = offset;
        while (s < count && skip >= len[s]) {
            skip -= len[s];
            s++;
        }
        while (s < count && done < length) {
            int n = Math.min(length - done, len[s] - skip);
            Mem.fill(hva[s] + skip, n, value);
            done += n;
            skip = 0;
            s++;
        }
        return done;
    }

    private static void checkOffsetLength(int offset, int length) {
        if (offset < 0 || length < 0) {
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length);
        }
    }

    private int transfer(int offset, Object base, long baseOffset, int length, boolean toGuest) {
        checkOffsetLength(offset, length);
        int s = toGuest ? readableSegments : 0;
        int end = toGuest ? count : readableSegments;
        int skip = offset;
        while (s < end && skip >= len[s]) {
            skip -= len[s];
            s++;
        }
        int done = 0;
        while (s < end && done < length) {
            int n = Math.min(length - done, len[s] - skip);
            if (toGuest) {
                Mem.copy(base, baseOffset + done, null, hva[s] + skip, n);
            } else {
                Mem.copy(null, hva[s] + skip, base, baseOffset + done, n);
            }
            done += n;
            skip = 0;
            s++;
        }
        return done;
    }

    /**
     * Copies up to {@code length} bytes guest to guest, from the readable part of {@code src} (at
     * {@code srcOffset}) into the writable part of {@code dst} (at {@code dstOffset}): the one copy of a frame
     * from one guest's TX buffer into another's RX buffer.
     *
     * @return bytes copied, limited by what both parts hold past their offsets
     * @throws IndexOutOfBoundsException on a negative offset or length
     */
    public static int copy(DescriptorChain src, int srcOffset, DescriptorChain dst, int dstOffset, int length) {
        checkOffsetLength(srcOffset, length);
        checkOffsetLength(dstOffset, 0);
        // One segment each side (a small frame in one transmit and one receive buffer): no walk.
        if (src.readableSegments > 0 && dst.readableSegments < dst.count && srcOffset <= src.len[0] - length
                && dstOffset <= dst.len[dst.readableSegments] - length) {
            Mem.copy(null, src.hva[0] + srcOffset, null, dst.hva[dst.readableSegments] + dstOffset, length);
            return length;
        }
        return copyAcross(src, srcOffset, dst, dstOffset, length);
    }

    /** {@link #copy}'s walk over segments, out of line so that the one-segment case inlines into its callers. */
    private static int copyAcross(DescriptorChain src, int srcOffset, DescriptorChain dst, int dstOffset, int length) {
        int si = 0;
        int sEnd = src.readableSegments;
        int sSkip = srcOffset;
        while (si < sEnd && sSkip >= src.len[si]) {
            sSkip -= src.len[si];
            si++;
        }
        int di = dst.readableSegments;
        int dEnd = dst.count;
        int dSkip = dstOffset;
        while (di < dEnd && dSkip >= dst.len[di]) {
            dSkip -= dst.len[di];
            di++;
        }
        int done = 0;
        while (si < sEnd && di < dEnd && done < length) {
            int n = Math.min(length - done, Math.min(src.len[si] - sSkip, dst.len[di] - dSkip));
            Mem.copy(null, src.hva[si] + sSkip, null, dst.hva[di] + dSkip, n);
            done += n;
            sSkip += n;
            dSkip += n;
            if (sSkip == src.len[si]) {
                si++;
                sSkip = 0;
            }
            if (dSkip == dst.len[di]) {
                di++;
                dSkip = 0;
            }
        }
        return done;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("DescriptorChain[head=").append(head).append(", descriptors=")
            .append(descriptorCount).append(", readable=").append(readableBytes).append(", writable=")
            .append(writableBytes).append(", segments=");
        for (int i = 0; i < count; i++) {
            b.append(i == 0 ? "" : " ").append(i < readableSegments ? 'R' : 'W').append("0x")
                .append(Long.toHexString(gpa[i])).append('+').append(len[i]);
        }
        return b.append(']').toString();
    }
}
