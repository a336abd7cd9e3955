package vnet.virtio.net;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import vnet.virtio.net.internal.LittleEndian;

/**
 * The {@code struct virtio_net_hdr} that precedes every frame on the RX and TX virtqueues (VIRTIO 1.2 §5.1.6), as a
 * mutable, reusable object: decode into it, encode from it, never allocate per frame.
 *
 * <p>Three wire sizes exist, all little-endian:
 * <ul>
 * <li>{@value #SIZE_LEGACY} bytes: {@code flags u8, gso_type u8, hdr_len, gso_size, csum_start, csum_offset} (legacy
 * devices without MRG_RXBUF);</li>
 * <li>{@value #SIZE_NUM_BUFFERS} bytes: the same plus {@code num_buffers le16} (VERSION_1 or MRG_RXBUF);</li>
 * <li>{@value #SIZE_HASH_REPORT} bytes: the same plus {@code hash_value le32, hash_report le16, padding le16}
 * (HASH_REPORT).</li>
 * </ul>
 * Fields absent from the decoded size are set to 0; padding is written as 0 and ignored on decode.
 */
public final class VirtioNetHeader {

    /** Size of the legacy header without {@code num_buffers}. */
    public static final int SIZE_LEGACY = 10;
    /** Size of the header with {@code num_buffers}. */
    public static final int SIZE_NUM_BUFFERS = 12;
    /** Size of the header with {@code num_buffers} and the hash report. */
    public static final int SIZE_HASH_REPORT = 20;

    /** {@code flags}: checksum from {@code csumStart} to the end is still to be computed. */
    public static final int F_NEEDS_CSUM = 1;
    /** {@code flags}: the device validated the checksum (RX only). */
    public static final int F_DATA_VALID = 2;
    /** {@code flags}: {@code csumStart}/{@code csumOffset} carry RSC coalescing info (RX only, RSC_EXT). */
    public static final int F_RSC_INFO = 4;

    /** {@code gsoType}: not a GSO frame. */
    public static final int GSO_NONE = 0;
    /** {@code gsoType}: TCP over IPv4 segmentation. */
    public static final int GSO_TCPV4 = 1;
    /** {@code gsoType}: UDP fragmentation (UFO). */
    public static final int GSO_UDP = 3;
    /** {@code gsoType}: TCP over IPv6 segmentation. */
    public static final int GSO_TCPV6 = 4;
    /** {@code gsoType}: UDP segmentation (USO). */
    public static final int GSO_UDP_L4 = 5;
    /** {@code gsoType} flag: the TCP frame has ECN set. */
    public static final int GSO_ECN = 0x80;

    /** {@code hashReport}: no hash computed. */
    public static final int HASH_REPORT_NONE = 0;
    /** {@code hashReport}: IPv4 hash. */
    public static final int HASH_REPORT_IPV4 = 1;
    /** {@code hashReport}: TCP/IPv4 hash. */
    public static final int HASH_REPORT_TCPV4 = 2;
    /** {@code hashReport}: UDP/IPv4 hash. */
    public static final int HASH_REPORT_UDPV4 = 3;
    /** {@code hashReport}: IPv6 hash. */
    public static final int HASH_REPORT_IPV6 = 4;
    /** {@code hashReport}: TCP/IPv6 hash. */
    public static final int HASH_REPORT_TCPV6 = 5;
    /** {@code hashReport}: UDP/IPv6 hash. */
    public static final int HASH_REPORT_UDPV6 = 6;
    /** {@code hashReport}: IPv6 hash with extension headers. */
    public static final int HASH_REPORT_IPV6_EX = 7;
    /** {@code hashReport}: TCP/IPv6 hash with extension headers. */
    public static final int HASH_REPORT_TCPV6_EX = 8;
    /** {@code hashReport}: UDP/IPv6 hash with extension headers. */
    public static final int HASH_REPORT_UDPV6_EX = 9;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final sun.misc.Unsafe U = org.agrona.UnsafeAccess.UNSAFE;
    private static final boolean BIG_ENDIAN_HOST = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;

    /*
     * The fields packed as the wire has them (little-endian order of bytes in each word), so that a decode, a copy
     * and an encode are two or three loads and stores instead of one per field: the data path moves a header per
     * frame, and at 64-byte frames every store counts (they queue behind the stores into guest memory).
     */
    /** Bytes 0..7: flags, gso_type, hdr_len, gso_size, csum_start. */
    private long base;
    /** Bytes 8..11: csum_offset, num_buffers. */
    private int tail;
    /** Bytes 12..19: hash_value, hash_report (padding 0). */
    private long hash;

    /** Creates a header with every field 0 (no offload, GSO_NONE). */
    public VirtioNetHeader() {
    }

    /**
     * Returns the header size for a negotiated feature set: {@value #SIZE_HASH_REPORT} with HASH_REPORT,
     * {@value #SIZE_NUM_BUFFERS} with VERSION_1 or MRG_RXBUF, else {@value #SIZE_LEGACY}.
     *
     * @param negotiatedFeatures the features both sides accepted
     * @return 10, 12 or 20
     */
    public static int headerSize(long negotiatedFeatures) {
        if ((negotiatedFeatures & Features.HASH_REPORT) != 0) {
            return SIZE_HASH_REPORT;
        }
        if ((negotiatedFeatures & (Features.VERSION_1 | Features.MRG_RXBUF)) != 0) {
            return SIZE_NUM_BUFFERS;
        }
        return SIZE_LEGACY;
    }

    /**
     * Tells whether {@code size} is one of the three wire sizes.
     *
     * @param size a header size
     * @return true for 10, 12 or 20
     */
    public static boolean isValidSize(int size) {
        return size == SIZE_LEGACY || size == SIZE_NUM_BUFFERS || size == SIZE_HASH_REPORT;
    }

    private static void checkSize(int size) {
        if (!isValidSize(size)) {
            throw new IllegalArgumentException("virtio_net_hdr size must be 10, 12 or 20: " + size);
        }
    }

    /**
     * Resets every field to 0.
     *
     * @return this
     */
    public VirtioNetHeader clear() {
        base = 0;
        tail = 0;
        hash = 0;
        return this;
    }

    /**
     * Copies every field of another header.
     *
     * @param other the source
     * @return this
     */
    public VirtioNetHeader copyFrom(VirtioNetHeader other) {
        base = other.base;
        tail = other.tail;
        hash = other.hash;
        return this;
    }

    // --- decode / encode ----------------------------------------------------------------------------------------

    /**
     * Decodes a header of {@code size} bytes from a byte array.
     *
     * @param src the bytes
     * @param offset where the header starts
     * @param size 10, 12 or 20
     * @return this
     */
    public VirtioNetHeader decode(byte[] src, int offset, int size) {
        checkSize(size);
        if (offset < 0 || offset > src.length - size) {
            throw new IndexOutOfBoundsException("header of " + size + " at " + offset + " exceeds " + src.length);
        }
        base = (LittleEndian.getI32(src, offset) & 0xFFFF_FFFFL) | (long) LittleEndian.getI32(src, offset + 4) << 32;
        tail = LittleEndian.getU16(src, offset + 8)
                | (size >= SIZE_NUM_BUFFERS ? LittleEndian.getU16(src, offset + 10) << 16 : 0);
        hash = size == SIZE_HASH_REPORT ? hashWord(LittleEndian.getI32(src, offset + 12),
                LittleEndian.getU16(src, offset + 16)) : 0;
        return this;
    }

    /**
     * Encodes this header as {@code size} bytes into a byte array.
     *
     * @param dst the destination
     * @param offset where the header starts
     * @param size 10, 12 or 20
     * @return {@code size}
     */
    public int encode(byte[] dst, int offset, int size) {
        checkSize(size);
        if (offset < 0 || offset > dst.length - size) {
            throw new IndexOutOfBoundsException("header of " + size + " at " + offset + " exceeds " + dst.length);
        }
        LittleEndian.putI32(dst, offset, (int) base);
        LittleEndian.putI32(dst, offset + 4, (int) (base >>> 32));
        LittleEndian.putU16(dst, offset + 8, tail);
        if (size >= SIZE_NUM_BUFFERS) {
            LittleEndian.putU16(dst, offset + 10, tail >>> 16);
        }
        if (size == SIZE_HASH_REPORT) {
            LittleEndian.putI32(dst, offset + 12, (int) hash);
            LittleEndian.putI32(dst, offset + 16, (int) (hash >>> 32)); // hash_report, padding 0
        }
        return size;
    }

    /**
     * Decodes a header of {@code size} bytes from a buffer (a guest-memory region or a heap buffer).
     *
     * @param src the buffer
     * @param index where the header starts
     * @param size 10, 12 or 20
     * @return this
     */
    public VirtioNetHeader decode(DirectBuffer src, int index, int size) {
        checkSize(size);
        base = src.getLong(index, LE);
        tail = size >= SIZE_NUM_BUFFERS ? src.getInt(index + 8, LE) : src.getShort(index + 8, LE) & 0xFFFF;
        hash = size == SIZE_HASH_REPORT ? hashWord(src.getInt(index + 12, LE), src.getShort(index + 16, LE)) : 0;
        return this;
    }

    /**
     * Encodes this header as {@code size} bytes into a buffer.
     *
     * @param dst the buffer
     * @param index where the header starts
     * @param size 10, 12 or 20
     * @return {@code size}
     */
    public int encode(MutableDirectBuffer dst, int index, int size) {
        checkSize(size);
        dst.putLong(index, base, LE);
        if (size >= SIZE_NUM_BUFFERS) {
            dst.putInt(index + 8, tail, LE);
        } else {
            dst.putShort(index + 8, (short) tail, LE);
        }
        if (size == SIZE_HASH_REPORT) {
            dst.putLong(index + 12, hash, LE);
        }
        return size;
    }

    /**
     * Decodes a header of {@code size} bytes in place at a host address (off-heap scratch, a guest buffer): two or
     * three loads, no bounds checks, for the data path. The caller vouches that the bytes are mapped.
     *
     * @param address where the header starts
     * @param size 10, 12 or 20
     * @return this
     */
    public VirtioNetHeader decodeAt(long address, int size) {
        checkSize(size);
        base = le(U.getLong(address));
        tail = size >= SIZE_NUM_BUFFERS ? le(U.getInt(address + 8)) : le(U.getShort(address + 8)) & 0xFFFF;
        hash = size == SIZE_HASH_REPORT ? hashWord(le(U.getInt(address + 12)), le(U.getShort(address + 16))) : 0;
        return this;
    }

    /**
     * Encodes this header as {@code size} bytes in place at a host address (a guest's receive buffer): the
     * counterpart of {@link #decodeAt}.
     *
     * @param address where the header starts
     * @param size 10, 12 or 20
     * @return {@code size}
     */
    public int encodeAt(long address, int size) {
        checkSize(size);
        U.putLong(address, le(base));
        if (size >= SIZE_NUM_BUFFERS) {
            U.putInt(address + 8, le(tail));
        } else {
            U.putShort(address + 8, le((short) tail));
        }
        if (size == SIZE_HASH_REPORT) {
            U.putLong(address + 12, le(hash));
        }
        return size;
    }

    /** {@code word} with the {@code mask}-wide field at bit {@code shift} set to {@code value}. */
    private static long insert(long word, int shift, long mask, int value) {
        return word & ~(mask << shift) | (value & mask) << shift;
    }

    private static long hashWord(int value, int report) {
        return (value & 0xFFFF_FFFFL) | (report & 0xFFFFL) << 32;
    }

    private static long le(long v) {
        return BIG_ENDIAN_HOST ? Long.reverseBytes(v) : v;
    }

    private static int le(int v) {
        return BIG_ENDIAN_HOST ? Integer.reverseBytes(v) : v;
    }

    private static short le(short v) {
        return BIG_ENDIAN_HOST ? Short.reverseBytes(v) : v;
    }

    // --- fields -------------------------------------------------------------------------------------------------

    /** @return {@code flags} (u8): {@link #F_NEEDS_CSUM}, {@link #F_DATA_VALID}, {@link #F_RSC_INFO} */
    public int flags() {
        return (int) base & 0xFF;
    }

    /**
     * Sets {@code flags}.
     *
     * @param value u8
     * @return this
     */
    public VirtioNetHeader flags(int value) {
        base = insert(base, 0, 0xFFL, value);
        return this;
    }

    /** @return {@code gso_type} (u8): a {@code GSO_*} value, possibly or-ed with {@link #GSO_ECN} */
    public int gsoType() {
        return (int) (base >>> 8) & 0xFF;
    }

    /**
     * Sets {@code gso_type}.
     *
     * @param value u8
     * @return this
     */
    public VirtioNetHeader gsoType(int value) {
        base = insert(base, 8, 0xFFL, value);
        return this;
    }

    /** @return {@code hdr_len} (le16): length of the headers to replicate per segment */
    public int hdrLen() {
        return (int) (base >>> 16) & 0xFFFF;
    }

    /**
     * Sets {@code hdr_len}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader hdrLen(int value) {
        base = insert(base, 16, 0xFFFFL, value);
        return this;
    }

    /** @return {@code gso_size} (le16): MSS of each segment */
    public int gsoSize() {
        return (int) (base >>> 32) & 0xFFFF;
    }

    /**
     * Sets {@code gso_size}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader gsoSize(int value) {
        base = insert(base, 32, 0xFFFFL, value);
        return this;
    }

    /** @return {@code csum_start} (le16): offset in the frame where checksumming starts */
    public int csumStart() {
        return (int) (base >>> 48) & 0xFFFF;
    }

    /**
     * Sets {@code csum_start}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader csumStart(int value) {
        base = insert(base, 48, 0xFFFFL, value);
        return this;
    }

    /** @return {@code csum_offset} (le16): where, after {@code csumStart}, the checksum is stored */
    public int csumOffset() {
        return (int) tail & 0xFFFF;
    }

    /**
     * Sets {@code csum_offset}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader csumOffset(int value) {
        tail = (int) insert(tail, 0, 0xFFFFL, value);
        return this;
    }

    /** @return {@code num_buffers} (le16): RX buffers holding the frame; 0 on TX */
    public int numBuffers() {
        return (int) (tail >>> 16) & 0xFFFF;
    }

    /**
     * Sets {@code num_buffers}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader numBuffers(int value) {
        tail = (int) insert(tail, 16, 0xFFFFL, value);
        return this;
    }

    /** @return {@code hash_value} (le32) as a signed int */
    public int hashValue() {
        return (int) hash;
    }

    /**
     * Sets {@code hash_value}.
     *
     * @param value le32
     * @return this
     */
    public VirtioNetHeader hashValue(int value) {
        hash = insert(hash, 0, 0xFFFF_FFFFL, value);
        return this;
    }

    /** @return {@code hash_report} (le16): a {@code HASH_REPORT_*} value */
    public int hashReport() {
        return (int) (hash >>> 32) & 0xFFFF;
    }

    /**
     * Sets {@code hash_report}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader hashReport(int value) {
        hash = insert(hash, 32, 0xFFFFL, value);
        return this;
    }

    /** @return true if {@link #F_NEEDS_CSUM} is set */
    public boolean needsCsum() {
        return (base & F_NEEDS_CSUM) != 0;
    }

    /** @return true if {@code gsoType} without the ECN flag is not {@link #GSO_NONE} */
    public boolean isGso() {
        return (base & (~GSO_ECN & 0xFF) << 8) != 0;
    }

    /**
     * Compares every field.
     *
     * @param o another object
     * @return true if it is a header with the same fields
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof VirtioNetHeader h && h.base == base && h.tail == tail && h.hash == hash;
    }

    /** @return a hash of every field */
    @Override
    public int hashCode() {
        return (Long.hashCode(base) * 31 + tail) * 31 + Long.hashCode(hash);
    }

    /** @return the fields, for logs and test failures (allocates) */
    @Override
    public String toString() {
        return "VirtioNetHeader{flags=" + flags() + ", gsoType=" + gsoType() + ", hdrLen=" + hdrLen() + ", gsoSize="
                + gsoSize() + ", csumStart=" + csumStart() + ", csumOffset=" + csumOffset() + ", numBuffers="
                + numBuffers() + ", hashValue=0x" + Integer.toHexString(hashValue()) + ", hashReport=" + hashReport()
                + '}';
    }
}
