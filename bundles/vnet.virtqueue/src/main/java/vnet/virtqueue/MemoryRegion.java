package vnet.virtqueue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

import org.agrona.BufferUtil;

/**
 * One contiguous piece of guest memory mapped into this process: guest physical addresses
 * {@code [guestPhysicalAddress, guestPhysicalAddress + size)} live at host virtual addresses
 * {@code [hostAddress, hostAddress + size)}.
 *
 * <p>A region may also carry the <em>user address</em> at which the front-end (QEMU) mapped the same memory,
 * so that vhost-user ring addresses can be translated with {@link GuestMemory#translateUserAddress(long)}.
 *
 * <p>All addresses and sizes are non-negative {@code long}s and a range never overflows: {@code base + size
 * <= Long.MAX_VALUE}. A region may be larger than 2 GiB. Regions are immutable; the mapping itself is owned by
 * whoever created it (the region keeps a reference to an optional {@link #keepAlive()} object, e.g. the
 * {@link MappedByteBuffer}, so that the mapping is not unmapped by the garbage collector while in use).
 */
public final class MemoryRegion {
    /** Marker for "no user address". */
    public static final long NO_USER_ADDRESS = -1L;

    private final long guestPhysicalAddress;
    private final long size;
    private final long hostAddress;
    private final long userAddress;
    private final Object keepAlive;

    private MemoryRegion(long gpa, long size, long hostAddress, long userAddress, Object keepAlive) {
        checkRange("guest physical", gpa, size);
        checkRange("host", hostAddress, size);
        if (hostAddress == 0) {
            throw new IllegalArgumentException("host address 0");
        }
        if (userAddress != NO_USER_ADDRESS) {
            checkRange("user", userAddress, size);
        }
        this.guestPhysicalAddress = gpa;
        this.size = size;
        this.hostAddress = hostAddress;
        this.userAddress = userAddress;
        this.keepAlive = keepAlive;
    }

    private static void checkRange(String what, long base, long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("region size must be positive: " + size);
        }
        if (base < 0 || base > Long.MAX_VALUE - size) {
            throw new IllegalArgumentException(what + " range overflows: base=0x" + Long.toHexString(base)
                + " size=0x" + Long.toHexString(size));
        }
    }

    /**
     * A region over memory already mapped at {@code hostAddress} (e.g. by JNA {@code mmap}).
     *
     * @param guestPhysicalAddress first guest physical address of the region
     * @param size size in bytes (may exceed 2 GiB)
     * @param hostAddress host virtual address of the first byte
     */
    public static MemoryRegion ofAddress(long guestPhysicalAddress, long size, long hostAddress) {
        return new MemoryRegion(guestPhysicalAddress, size, hostAddress, NO_USER_ADDRESS, null);
    }

    /**
     * A region over memory already mapped at {@code hostAddress}, also known to the front-end at
     * {@code userAddress} (vhost-user's {@code userspace_addr}).
     */
    public static MemoryRegion ofAddress(long guestPhysicalAddress, long size, long hostAddress, long userAddress) {
        return new MemoryRegion(guestPhysicalAddress, size, hostAddress, userAddress, null);
    }

    /**
     * A region over a whole direct (or mapped) {@link ByteBuffer}, from position 0 to its capacity. The region
     * keeps a reference to the buffer.
     *
     * @throws IllegalArgumentException if the buffer is not direct
     */
    public static MemoryRegion ofBuffer(long guestPhysicalAddress, ByteBuffer directBuffer) {
        return ofBuffer(guestPhysicalAddress, directBuffer, NO_USER_ADDRESS);
    }

    /** Like {@link #ofBuffer(long, ByteBuffer)}, with a front-end user address. */
    public static MemoryRegion ofBuffer(long guestPhysicalAddress, ByteBuffer directBuffer, long userAddress) {
        if (!directBuffer.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        return new MemoryRegion(guestPhysicalAddress, directBuffer.capacity(), BufferUtil.address(directBuffer),
            userAddress, directBuffer);
    }

    /**
     * Maps {@code size} bytes of {@code channel} from {@code fileOffset} read-write and makes a region of them.
     * Mapping the same file twice yields two regions over the same bytes, as two processes would see them.
     * {@link FileChannel#map} limits one mapping to 2 GiB - 1; larger memory is several adjacent regions or a
     * raw {@link #ofAddress(long, long, long) mmap}.
     */
    public static MemoryRegion map(long guestPhysicalAddress, FileChannel channel, long fileOffset, long size)
        throws IOException {
        if (size <= 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("size must be in 1..2^31-1: " + size);
        }
        MappedByteBuffer buf = channel.map(FileChannel.MapMode.READ_WRITE, fileOffset, size);
        return ofBuffer(guestPhysicalAddress, buf);
    }

    /** This region with a (different) front-end user address. */
    public MemoryRegion withUserAddress(long userAddress) {
        return new MemoryRegion(guestPhysicalAddress, size, hostAddress, userAddress, keepAlive);
    }

    /** This region, additionally keeping {@code owner} reachable (e.g. the object that will unmap it). */
    public MemoryRegion withKeepAlive(Object owner) {
        return new MemoryRegion(guestPhysicalAddress, size, hostAddress, userAddress, owner);
    }

    /** First guest physical address. */
    public long guestPhysicalAddress() {
        return guestPhysicalAddress;
    }

    /** Size in bytes. */
    public long size() {
        return size;
    }

    /** Guest physical address one past the last byte. */
    public long guestPhysicalEnd() {
        return guestPhysicalAddress + size;
    }

    /** Host virtual address of the first byte. */
    public long hostAddress() {
        return hostAddress;
    }

    /** Front-end user address of the first byte, or {@link #NO_USER_ADDRESS}. */
    public long userAddress() {
        return userAddress;
    }

    /** Whether a front-end user address is known. */
    public boolean hasUserAddress() {
        return userAddress != NO_USER_ADDRESS;
    }

    /** The object this region keeps reachable (buffer or owner), or null. */
    public Object keepAlive() {
        return keepAlive;
    }

    /** Whether {@code [gpa, gpa + length)} lies wholly inside this region ({@code length >= 0}). */
    public boolean contains(long gpa, long length) {
        return gpa >= guestPhysicalAddress && length >= 0 && gpa - guestPhysicalAddress <= size - length;
    }

    @Override
    public String toString() {
        return "MemoryRegion[gpa=0x" + Long.toHexString(guestPhysicalAddress) + ", size=0x" + Long.toHexString(size)
            + ", hva=0x" + Long.toHexString(hostAddress)
            + (hasUserAddress() ? ", uva=0x" + Long.toHexString(userAddress) : "") + "]";
    }
}
