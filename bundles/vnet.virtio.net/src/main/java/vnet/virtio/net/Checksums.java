package vnet.virtio.net;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The Internet checksum (RFC 1071) and the checksum completion a device owes a frame sent with
 * {@link VirtioNetHeader#F_NEEDS_CSUM} when the receiver cannot take it partial (VIRTIO 1.2 §5.1.6.2).
 *
 * <p>The sender has already stored the pseudo-header sum in the checksum field, so completion is: ones' complement
 * sum from {@code csumStart} to the end of the frame, complemented, stored big-endian at
 * {@code csumStart + csumOffset}. A result of 0 is stored as {@code 0xFFFF} (both mean "zero" in ones' complement,
 * and for UDP a transmitted 0 would mean "no checksum", RFC 768), except in a TCP header's checksum field
 * ({@code csumOffset} {@value #TCP_CHECK}): there 0xFFFF is never the computed form (RFC 1624), and receivers that check
 * strictly (Wireshark) call it wrong.
 *
 * <p>Allocation free and stateless.
 */
public final class Checksums {

    private Checksums() {
    }

    /**
     * Adds bytes to a running ones' complement sum, taken as big-endian 16-bit words (an odd last byte is padded
     * with a zero byte).
     *
     * @param buffer the bytes
     * @param offset first byte
     * @param length number of bytes
     * @param initial a previous unfolded sum, or 0
     * @return the unfolded sum (fold with {@link #fold(long)})
     */
    public static long sum(byte[] buffer, int offset, int length, long initial) {
        long s = initial;
        int i = offset;
        int end = offset + length;
        for (; i + 1 < end; i += 2) {
            s += ((buffer[i] & 0xFF) << 8) | (buffer[i + 1] & 0xFF);
        }
        if (i < end) {
            s += (buffer[i] & 0xFF) << 8;
        }
        return s;
    }

    /**
     * Adds bytes of a buffer (heap or guest memory) to a running ones' complement sum, 32 bits at a time.
     *
     * @param buffer the bytes
     * @param index first byte
     * @param length number of bytes
     * @param initial a previous unfolded sum, or 0
     * @return the unfolded sum (fold with {@link #fold(long)})
     */
    public static long sum(DirectBuffer buffer, int index, int length, long initial) {
        long s = initial;
        int i = index;
        int end = index + length;
        for (; i + 3 < end; i += 4) {
            s += buffer.getInt(i, ByteOrder.BIG_ENDIAN) & 0xFFFFFFFFL;
        }
        if (i + 1 < end) {
            s += buffer.getShort(i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            i += 2;
        }
        if (i < end) {
            s += (buffer.getByte(i) & 0xFF) << 8;
        }
        return s;
    }

    /**
     * Folds an unfolded sum to 16 bits (end-around carry), not complemented.
     *
     * @param sum an unfolded sum
     * @return 0 to 0xFFFF
     */
    public static int fold(long sum) {
        long s = sum;
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /**
     * Computes the Internet checksum of a range: the complement of its folded ones' complement sum.
     *
     * @param buffer the bytes
     * @param offset first byte
     * @param length number of bytes
     * @return 0 to 0xFFFF
     */
    public static int checksum(byte[] buffer, int offset, int length) {
        return ~fold(sum(buffer, offset, length, 0)) & 0xFFFF;
    }

    /**
     * Completes a partial checksum in place, as a device does for a NEEDS_CSUM frame.
     *
     * @param buffer the frame's buffer
     * @param offset where the frame (its Ethernet header) starts
     * @param length the frame's length
     * @param csumStart {@code csum_start} from the header, relative to the frame
     * @param csumOffset {@code csum_offset} from the header, relative to {@code csumStart}
     * @return true if done; false, leaving the frame untouched, if the offsets do not fit in the frame
     */
    public static boolean complete(byte[] buffer, int offset, int length, int csumStart, int csumOffset) {
        if (!fits(length, csumStart, csumOffset) || offset < 0 || offset > buffer.length - length) {
            return false;
        }
        int sum = wireForm(~fold(sum(buffer, offset + csumStart, length - csumStart, 0)) & 0xFFFF, csumOffset);
        int at = offset + csumStart + csumOffset;
        buffer[at] = (byte) (sum >>> 8);
        buffer[at + 1] = (byte) sum;
        return true;
    }

    /**
     * Completes a partial checksum in place in a buffer (heap or guest memory), as a device does for a NEEDS_CSUM
     * frame.
     *
     * @param buffer the frame's buffer
     * @param offset where the frame starts
     * @param length the frame's length
     * @param csumStart {@code csum_start} from the header, relative to the frame
     * @param csumOffset {@code csum_offset} from the header, relative to {@code csumStart}
     * @return true if done; false, leaving the frame untouched, if the offsets do not fit in the frame
     */
    public static boolean complete(MutableDirectBuffer buffer, int offset, int length, int csumStart, int csumOffset) {
        if (!fits(length, csumStart, csumOffset) || offset < 0 || offset > buffer.capacity() - length) {
            return false;
        }
        int sum = wireForm(~fold(sum(buffer, offset + csumStart, length - csumStart, 0)) & 0xFFFF, csumOffset);
        buffer.putShort(offset + csumStart + csumOffset, (short) sum, ByteOrder.BIG_ENDIAN);
        return true;
    }

    /** Where a TCP header holds its checksum, as {@code csum_offset}. */
    private static final int TCP_CHECK = 16;

    /** How a computed checksum is stored (see the class comment): 0 as 0xFFFF, but not in a TCP header. */
    static int wireForm(int checksum, int csumOffset) {
        return checksum == 0 && csumOffset != TCP_CHECK ? 0xFFFF : checksum;
    }

    private static boolean fits(int length, int csumStart, int csumOffset) {
        return length >= 0 && csumStart >= 0 && csumOffset >= 0 && (long) csumStart + csumOffset + 2 <= length;
    }
}
