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

    private int flags;
    private int gsoType;
    private int hdrLen;
    private int gsoSize;
    private int csumStart;
    private int csumOffset;
    private int numBuffers;
    private int hashValue;
    private int hashReport;

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
        flags = 0;
        gsoType = 0;
        hdrLen = 0;
        gsoSize = 0;
        csumStart = 0;
        csumOffset = 0;
        numBuffers = 0;
        hashValue = 0;
        hashReport = 0;
        return this;
    }

    /**
     * Copies every field of another header.
     *
     * @param other the source
     * @return this
     */
    public VirtioNetHeader copyFrom(VirtioNetHeader other) {
        flags = other.flags;
        gsoType = other.gsoType;
        hdrLen = other.hdrLen;
        gsoSize = other.gsoSize;
        csumStart = other.csumStart;
        csumOffset = other.csumOffset;
        numBuffers = other.numBuffers;
        hashValue = other.hashValue;
        hashReport = other.hashReport;
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
        flags = src[offset] & 0xFF;
        gsoType = src[offset + 1] & 0xFF;
        hdrLen = LittleEndian.getU16(src, offset + 2);
        gsoSize = LittleEndian.getU16(src, offset + 4);
        csumStart = LittleEndian.getU16(src, offset + 6);
        csumOffset = LittleEndian.getU16(src, offset + 8);
        numBuffers = size >= SIZE_NUM_BUFFERS ? LittleEndian.getU16(src, offset + 10) : 0;
        if (size == SIZE_HASH_REPORT) {
            hashValue = LittleEndian.getI32(src, offset + 12);
            hashReport = LittleEndian.getU16(src, offset + 16);
        } else {
            hashValue = 0;
            hashReport = 0;
        }
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
        dst[offset] = (byte) flags;
        dst[offset + 1] = (byte) gsoType;
        LittleEndian.putU16(dst, offset + 2, hdrLen);
        LittleEndian.putU16(dst, offset + 4, gsoSize);
        LittleEndian.putU16(dst, offset + 6, csumStart);
        LittleEndian.putU16(dst, offset + 8, csumOffset);
        if (size >= SIZE_NUM_BUFFERS) {
            LittleEndian.putU16(dst, offset + 10, numBuffers);
        }
        if (size == SIZE_HASH_REPORT) {
            LittleEndian.putI32(dst, offset + 12, hashValue);
            LittleEndian.putU16(dst, offset + 16, hashReport);
            LittleEndian.putU16(dst, offset + 18, 0);
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
        flags = src.getByte(index) & 0xFF;
        gsoType = src.getByte(index + 1) & 0xFF;
        hdrLen = src.getShort(index + 2, LE) & 0xFFFF;
        gsoSize = src.getShort(index + 4, LE) & 0xFFFF;
        csumStart = src.getShort(index + 6, LE) & 0xFFFF;
        csumOffset = src.getShort(index + 8, LE) & 0xFFFF;
        numBuffers = size >= SIZE_NUM_BUFFERS ? src.getShort(index + 10, LE) & 0xFFFF : 0;
        if (size == SIZE_HASH_REPORT) {
            hashValue = src.getInt(index + 12, LE);
            hashReport = src.getShort(index + 16, LE) & 0xFFFF;
        } else {
            hashValue = 0;
            hashReport = 0;
        }
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
        dst.putByte(index, (byte) flags);
        dst.putByte(index + 1, (byte) gsoType);
        dst.putShort(index + 2, (short) hdrLen, LE);
        dst.putShort(index + 4, (short) gsoSize, LE);
        dst.putShort(index + 6, (short) csumStart, LE);
        dst.putShort(index + 8, (short) csumOffset, LE);
        if (size >= SIZE_NUM_BUFFERS) {
            dst.putShort(index + 10, (short) numBuffers, LE);
        }
        if (size == SIZE_HASH_REPORT) {
            dst.putInt(index + 12, hashValue, LE);
            dst.putShort(index + 16, (short) hashReport, LE);
            dst.putShort(index + 18, (short) 0, LE);
        }
        return size;
    }



    // --- fields -------------------------------------------------------------------------------------------------

    /** @return {@code flags} (u8): {@link #F_NEEDS_CSUM}, {@link #F_DATA_VALID}, {@link #F_RSC_INFO} */
    public int flags() {
        return flags;
    }

    /**
     * Sets {@code flags}.
     *
     * @param value u8
     * @return this
     */
    public VirtioNetHeader flags(int value) {
        flags = value & 0xFF;
        return this;
    }

    /** @return {@code gso_type} (u8): a {@code GSO_*} value, possibly or-ed with {@link #GSO_ECN} */
    public int gsoType() {
        return gsoType;
    }

    /**
     * Sets {@code gso_type}.
     *
     * @param value u8
     * @return this
     */
    public VirtioNetHeader gsoType(int value) {
        gsoType = value & 0xFF;
        return this;
    }

    /** @return {@code hdr_len} (le16): length of the headers to replicate per segment */
    public int hdrLen() {
        return hdrLen;
    }

    /**
     * Sets {@code hdr_len}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader hdrLen(int value) {
        hdrLen = value & 0xFFFF;
        return this;
    }

    /** @return {@code gso_size} (le16): MSS of each segment */
    public int gsoSize() {
        return gsoSize;
    }

    /**
     * Sets {@code gso_size}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader gsoSize(int value) {
        gsoSize = value & 0xFFFF;
        return this;
    }

    /** @return {@code csum_start} (le16): offset in the frame where checksumming starts */
    public int csumStart() {
        return csumStart;
    }

    /**
     * Sets {@code csum_start}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader csumStart(int value) {
        csumStart = value & 0xFFFF;
        return this;
    }

    /** @return {@code csum_offset} (le16): where, after {@code csumStart}, the checksum is stored */
    public int csumOffset() {
        return csumOffset;
    }

    /**
     * Sets {@code csum_offset}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader csumOffset(int value) {
        csumOffset = value & 0xFFFF;
        return this;
    }

    /** @return {@code num_buffers} (le16): RX buffers holding the frame; 0 on TX */
    public int numBuffers() {
        return numBuffers;
    }

    /**
     * Sets {@code num_buffers}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader numBuffers(int value) {
        numBuffers = value & 0xFFFF;
        return this;
    }

    /** @return {@code hash_value} (le32) as a signed int */
    public int hashValue() {
        return hashValue;
    }

    /**
     * Sets {@code hash_value}.
     *
     * @param value le32
     * @return this
     */
    public VirtioNetHeader hashValue(int value) {
        hashValue = value;
        return this;
    }

    /** @return {@code hash_report} (le16): a {@code HASH_REPORT_*} value */
    public int hashReport() {
        return hashReport;
    }

    /**
     * Sets {@code hash_report}.
     *
     * @param value le16
     * @return this
     */
    public VirtioNetHeader hashReport(int value) {
        hashReport = value & 0xFFFF;
        return this;
    }

    /** @return true if {@link #F_NEEDS_CSUM} is set */
    public boolean needsCsum() {
        return (flags & F_NEEDS_CSUM) != 0;
    }

    /** @return true if {@code gsoType} without the ECN flag is not {@link #GSO_NONE} */
    public boolean isGso() {
        return (gsoType & ~GSO_ECN) != GSO_NONE;
    }

    /**
     * Compares every field.
     *
     * @param o another object
     * @return true if it is a header with the same fields
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof VirtioNetHeader h && h.flags == flags && h.gsoType == gsoType && h.hdrLen == hdrLen
                && h.gsoSize == gsoSize && h.csumStart == csumStart && h.csumOffset == csumOffset
                && h.numBuffers == numBuffers && h.hashValue == hashValue && h.hashReport == hashReport;
    }

    /** @return a hash of every field */
    @Override
    public int hashCode() {
        int h = flags;
        h = 31 * h + gsoType;
        h = 31 * h + hdrLen;
        h = 31 * h + gsoSize;
        h = 31 * h + csumStart;
        h = 31 * h + csumOffset;
        h = 31 * h + numBuffers;
        h = 31 * h + hashValue;
        return 31 * h + hashReport;
    }

    /** @return the fields, for logs and test failures (allocates) */
    @Override
    public String toString() {
        return "VirtioNetHeader{flags=" + flags + ", gsoType=" + gsoType + ", hdrLen=" + hdrLen + ", gsoSize=" + gsoSize
                + ", csumStart=" + csumStart + ", csumOffset=" + csumOffset + ", numBuffers=" + numBuffers
                + ", hashValue=0x" + Integer.toHexString(hashValue) + ", hashReport=" + hashReport + '}';
    }
}
