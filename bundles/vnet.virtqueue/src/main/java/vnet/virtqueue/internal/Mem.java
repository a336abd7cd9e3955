package vnet.virtqueue.internal;

import java.nio.ByteOrder;

import org.agrona.UnsafeAccess;

import sun.misc.Unsafe;

/**
 * Little-endian loads and stores at absolute host addresses, with the orderings the virtqueue protocols need.
 * Callers have already checked the address against a {@link vnet.virtqueue.GuestMemory} region.
 */
public final class Mem {
    /** The JDK's unsafe accessor, via Agrona. */
    public static final Unsafe U = UnsafeAccess.UNSAFE;
    private static final boolean BE = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;
    /**
     * Masks the compiler cannot know (not final), for the loads below. A load of guest memory can fault (its file
     * was cut short: SIGBUS), and in compiled code HotSpot then skips the load, leaving its register as it was, and
     * raises the error later. A 16-bit load is compiled as a zero-extending move the JIT trusts: the skipped move
     * leaves garbage in the register's upper bits, and an index derived from it (checked as a 32-bit value, used as a
     * 64-bit one) escapes its bounds into an unmapped address, a SIGSEGV that kills the JVM. An AND with a mask
     * loaded at run time is an instruction the JIT must keep, and it rewrites the whole register: whatever a faulting
     * load leaves, the value stays in its range.
     */
    private static int mask8 = 0xff;
    private static int mask16 = 0xffff;
    private static int mask32 = -1;

    private Mem() {
    }

    /** Reads an unsigned le16. */
    public static int getU16(long address) {
        short v = U.getShort(address);
        return (BE ? Short.reverseBytes(v) : v) & mask16;
    }

    /** Reads an unsigned le16 with acquire (volatile) semantics. */
    public static int getU16Acquire(long address) {
        short v = U.getShortVolatile(null, address);
        return (BE ? Short.reverseBytes(v) : v) & mask16;
    }

    /** Reads an unsigned byte (masked as the 16-bit loads are, see above). */
    public static int getU8(long address) {
        return U.getByte(address) & mask8;
    }

    /** Writes a byte. */
    public static void putU8(long address, int value) {
        U.putByte(address, (byte) value);
    }

    /** Writes a le16. */
    public static void putU16(long address, int value) {
        short v = (short) value;
        U.putShort(address, BE ? Short.reverseBytes(v) : v);
    }

    /** Writes a le16 with release semantics: every earlier load and store is visible before it. */
    public static void putU16Release(long address, int value) {
        U.storeFence();
        short v = (short) value;
        U.putShort(address, BE ? Short.reverseBytes(v) : v);
    }

    /** Reads a le32. */
    public static int getI32(long address) {
        int v = U.getInt(address);
        return (BE ? Integer.reverseBytes(v) : v) & mask32;
    }

    /** Writes a le32. */
    public static void putI32(long address, int value) {
        U.putInt(address, BE ? Integer.reverseBytes(value) : value);
    }

    /** Reads a le64. */
    public static long getI64(long address) {
        long v = U.getLong(address);
        return BE ? Long.reverseBytes(v) : v;
    }

    /** Writes a le64. */
    public static void putI64(long address, long value) {
        U.putLong(address, BE ? Long.reverseBytes(value) : value);
    }

    /** A full fence (store-load barrier), as the spec's notification checks require. */
    public static void fullFence() {
        U.fullFence();
    }

    /** A load-load/load-store fence. */
    public static void loadFence() {
        U.loadFence();
    }

    /** A store-store/load-store fence. */
    public static void storeFence() {
        U.storeFence();
    }

    /** Copies bytes between any two places the unsafe accessor can address (null base means absolute). */
    public static void copy(Object srcBase, long srcOffset, Object dstBase, long dstOffset, long length) {
        U.copyMemory(srcBase, srcOffset, dstBase, dstOffset, length);
    }

    /** Fills {@code length} bytes at an absolute address. */
    public static void fill(long address, long length, byte value) {
        U.setMemory(address, length, value);
    }
}
