package vnet.virtio.net;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.virtqueue.DescriptorChain;

/**
 * The software fallback for offloads a receiver did not negotiate: turns a frame as a driver sent it (VIRTIO 1.2
 * §5.1.6.2: GSO with {@code gso_size}, a partial checksum with NEEDS_CSUM) into the frames a wire would carry,
 * each at most headers plus {@code gso_size} long with every checksum complete.
 *
 * <ul>
 * <li>TCP over IPv4 and IPv6 (GSO_TCPV4, GSO_TCPV6): headers replicated per segment, IPv4 identification
 * incremented, IPv4 total length / IPv6 payload length and the IPv4 header checksum rewritten, sequence numbers
 * advanced by {@code gso_size}, FIN and PSH kept on the last segment only, CWR on the first only (ECN, RFC 3168
 * §6.1.2), the TCP checksum computed over pseudo-header, header and payload.</li>
 * <li>UDP (GSO_UDP_L4, USO): one datagram per segment, UDP length and checksum rewritten (a zero sum sent as
 * 0xFFFF, RFC 768).</li>
 * <li>No GSO but NEEDS_CSUM: the checksum completed ({@link Checksums#complete}).</li>
 * <li>Anything else: copied as it is.</li>
 * </ul>
 * The headers are parsed from the frame itself, not taken from {@code hdr_len} (which a driver may leave
 * approximate, §5.1.6.2.1); up to two 802.1Q / 802.1ad tags and IPv6 hop-by-hop, routing and destination-options
 * headers are understood. UFO (GSO_UDP, IP fragmentation) and IPv4 fragments are not segmented.
 *
 * <p>Each resulting frame is built in a scratch buffer allocated once and handed to a {@link Sink} with a header
 * that asks for nothing (no GSO, no NEEDS_CSUM). One thread uses a segmenter; nothing allocates per frame.
 */
public final class GsoSegmenter {

    /** Result: the frame's headers cannot be segmented (unknown protocol, bad lengths, UFO, fragments). */
    public static final int BAD_FRAME = -1;

    /** Longest run of headers (Ethernet, tags, IP, extension headers, TCP) a frame may have. */
    public static final int MAX_HEADERS = 256;

    /** Takes each frame the segmenter produces; the buffer is reused for the next one. */
    @FunctionalInterface
    public interface Sink {
        /**
         * @param header a header without offloads (GSO_NONE, flags 0)
         * @param frame  the frame, from index 0
         * @param length its length
         */
        void accept(VirtioNetHeader header, MutableDirectBuffer frame, int length);
    }

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;
    private static final int ETH_P_IP = 0x0800;
    private static final int ETH_P_IPV6 = 0x86DD;
    private static final int ETH_P_8021Q = 0x8100;
    private static final int ETH_P_8021AD = 0x88A8;
    private static final int IPPROTO_TCP = 6;
    private static final int IPPROTO_UDP = 17;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;

    private final UnsafeBuffer headers = new UnsafeBuffer(new byte[MAX_HEADERS]);
    private final FrameBuffer out;
    private final VirtioNetHeader plain = new VirtioNetHeader();

    private DescriptorChain srcChain;
    private DirectBuffer srcBuffer;
    private int srcOffset;

    // the parsed frame
    private int l3;
    private boolean ipv4;
    private int l4;
    private boolean tcp;
    private int payloadStart;

    /** A segmenter whose scratch buffer holds the largest frame ({@link FrameBuffer#DEFAULT_CAPACITY}). */
    public GsoSegmenter() {
        this(FrameBuffer.DEFAULT_CAPACITY);
    }

    /**
     * @param capacity the longest frame it produces (larger segments or frames give {@link #BAD_FRAME})
     */
    public GsoSegmenter(int capacity) {
        this.out = new FrameBuffer(capacity);
    }

    /**
     * Tells whether a receiver with {@code receiverFeatures} cannot take a frame with header {@code h} as it is:
     * its GSO type (or the ECN flag) was not negotiated. (A partial checksum alone NetDevice completes itself.)
     *
     * @param h the sender's header
     * @param receiverFeatures the receiving driver's negotiated features
     * @return true if the frame must be segmented first
     */
    public static boolean mustSegment(VirtioNetHeader h, long receiverFeatures) {
        int type = h.gsoType();
        if ((type & ~VirtioNetHeader.GSO_ECN) == VirtioNetHeader.GSO_NONE) {
            return false;
        }
        if ((type & VirtioNetHeader.GSO_ECN) != 0 && (receiverFeatures & Features.GUEST_ECN) == 0) {
            return true;
        }
        long needed = switch (type & ~VirtioNetHeader.GSO_ECN) {
            case VirtioNetHeader.GSO_TCPV4 -> Features.GUEST_TSO4;
            case VirtioNetHeader.GSO_TCPV6 -> Features.GUEST_TSO6;
            case VirtioNetHeader.GSO_UDP -> Features.GUEST_UFO;
            case VirtioNetHeader.GSO_UDP_L4 -> Features.GUEST_USO4 | Features.GUEST_USO6;
            default -> 0;
        };
        return (receiverFeatures & needed) == 0;
    }

    /**
     * Tells whether a frame with header {@code h} differs from its wire form (GSO or a partial checksum).
     *
     * @param h the sender's header
     * @return true if {@link #segment} would change it
     */
    public static boolean needsWork(VirtioNetHeader h) {
        return h.isGso() || h.needsCsum();
    }

    /**
     * Produces the wire form of a frame lying in a chain's readable part (e.g. a transmit chain).
     *
     * @param h the sender's header
     * @param chain holds the frame
     * @param offset where the frame starts in the readable part
     * @param length the frame length
     * @param sink takes each resulting frame
     * @return frames handed to {@code sink} (&gt; 0), or {@link #BAD_FRAME}
     */
    public int segment(VirtioNetHeader h, DescriptorChain chain, int offset, int length, Sink sink) {
        srcChain = chain;
        srcBuffer = null;
        srcOffset = offset;
        try {
            return run(h, length, sink);
        } finally {
            srcChain = null;
        }
    }

    /**
     * Produces the wire form of a frame in a buffer (not modified).
     *
     * @param h the sender's header
     * @param frame holds the frame
     * @param offset where the frame starts
     * @param length the frame length
     * @param sink takes each resulting frame
     * @return frames handed to {@code sink} (&gt; 0), or {@link #BAD_FRAME}
     */
    public int segment(VirtioNetHeader h, DirectBuffer frame, int offset, int length, Sink sink) {
        srcChain = null;
        srcBuffer = frame;
        srcOffset = offset;
        try {
            return run(h, length, sink);
        } finally {
            srcBuffer = null;
        }
    }

    private boolean read(int from, MutableDirectBuffer dst, int index, int length) {
        if (length == 0) {
            return true;
        }
        if (srcChain != null) {
            return srcChain.read(srcOffset + from, dst, index, length) == length;
        }
        long end = (long) srcOffset + from + length;
        if (srcOffset < 0 || end > srcBuffer.capacity()) {
            return false;
        }
        dst.putBytes(index, srcBuffer, srcOffset + from, length);
        return true;
    }

    private int run(VirtioNetHeader h, int length, Sink sink) {
        plain.clear();
        if (length < 14 || length > out.capacity() && !h.isGso()) {
            return BAD_FRAME;
        }
        if (!h.isGso()) {
            UnsafeBuffer b = out.buffer();
            if (!read(0, b, 0, length)) {
                return BAD_FRAME;
            }
            if (h.needsCsum() && !Checksums.complete(b, 0, length, h.csumStart(), h.csumOffset())) {
                return BAD_FRAME;
            }
            sink.accept(plain, b, length);
            return 1;
        }
        int mss = h.gsoSize();
        int type = h.gsoType() & ~VirtioNetHeader.GSO_ECN;
        int seen = Math.min(length, MAX_HEADERS);
        if (mss == 0 || !read(0, headers, 0, seen) || !parse(seen)) {
            return BAD_FRAME;
        }
        boolean typeMatches = switch (type) {
            case VirtioNetHeader.GSO_TCPV4 -> tcp && ipv4;
            case VirtioNetHeader.GSO_TCPV6 -> tcp && !ipv4;
            case VirtioNetHeader.GSO_UDP_L4 -> !tcp;
            default -> false; // UFO would need IP fragmentation
        };
        if (!typeMatches || payloadStart + mss > out.capacity()) {
            return BAD_FRAME;
        }
        int payload = length - payloadStart;
        int count = payload <= mss ? 1 : (payload + mss - 1) / mss;
        UnsafeBuffer b = out.buffer();
        int ipId = ipv4 ? headers.getShort(l3 + 4, BE) & 0xFFFF : 0;
        int seq = tcp ? headers.getInt(l4 + 4, BE) : 0;
        int tcpFlags = tcp ? headers.getByte(l4 + 13) & 0xFF : 0;
        for (int i = 0; i < count; i++) {
            int segPayload = Math.min(mss, payload - i * mss);
            int segLength = payloadStart + segPayload;
            b.putBytes(0, headers, 0, payloadStart);
            if (!read(payloadStart + i * mss, b, payloadStart, segPayload)) {
                return i == 0 ? BAD_FRAME : i;
            }
            if (ipv4) {
                b.putShort(l3 + 2, (short) (segLength - l3), BE);
                b.putShort(l3 + 4, (short) (ipId + i), BE);
                b.putShort(l3 + 10, (short) 0);
                int ihl = l4 - l3;
                b.putShort(l3 + 10, (short) (~Checksums.fold(Checksums.sum(b, l3, ihl, 0))), BE);
            } else {
                b.putShort(l3 + 4, (short) (segLength - l3 - 40), BE);
            }
            int csumField;
            if (tcp) {
                b.putInt(l4 + 4, seq + i * mss, BE);
                int f = tcpFlags;
                if (i != count - 1) {
                    f &= ~(TCP_FIN | TCP_PSH);
                }
                if (i != 0) {
                    f &= ~TCP_CWR;
                }
                b.putByte(l4 + 13, (byte) f);
                csumField = l4 + 16;
            } else {
                b.putShort(l4 + 4, (short) (segLength - l4), BE);
                csumField = l4 + 6;
            }
            b.putShort(csumField, (short) 0);
            int sum = ~Checksums.fold(Checksums.sum(b, l4, segLength - l4, pseudoHeaderSum(b, segLength - l4)))
                    & 0xFFFF;
            b.putShort(csumField, (short) Checksums.wireForm(sum, csumField - l4), BE);
            sink.accept(plain, b, segLength);
        }
        return count;
    }

    /** Parses the first {@code seen} bytes in {@link #headers}; false if the frame is not TCP or UDP over IP. */
    private boolean parse(int seen) {
        int type = headers.getShort(12, BE) & 0xFFFF;
        int p = 14;
        for (int tags = 0; tags < 2 && (type == ETH_P_8021Q || type == ETH_P_8021AD); tags++) {
            if (p + 4 > seen) {
                return false;
            }
            type = headers.getShort(p + 2, BE) & 0xFFFF;
            p += 4;
        }
        l3 = p;
        int proto;
        if (type == ETH_P_IP) {
            if (p + 20 > seen || (headers.getByte(p) & 0xF0) != 0x40) {
                return false;
            }
            int ihl = (headers.getByte(p) & 0x0F) * 4;
            if (ihl < 20 || (headers.getShort(p + 6, BE) & 0x3FFF) != 0) {
                return false; // a fragment (MF or an offset) cannot be segmented
            }
            ipv4 = true;
            proto = headers.getByte(p + 9) & 0xFF;
            p += ihl;
        } else if (type == ETH_P_IPV6) {
            if (p + 40 > seen || (headers.getByte(p) & 0xF0) != 0x60) {
                return false;
            }
            ipv4 = false;
            proto = headers.getByte(p + 6) & 0xFF;
            p += 40;
            // hop-by-hop (0), routing (43), destination options (60): skip; a fragment header (44) ends it
            while (proto == 0 || proto == 43 || proto == 60) {
                if (p + 8 > seen) {
                    return false;
                }
                proto = headers.getByte(p) & 0xFF;
                p += ((headers.getByte(p + 1) & 0xFF) + 1) * 8;
            }
        } else {
            return false;
        }
        l4 = p;
        if (proto == IPPROTO_TCP) {
            if (p + 20 > seen) {
                return false;
            }
            int doff = ((headers.getByte(p + 12) & 0xFF) >>> 4) * 4;
            if (doff < 20) {
                return false;
            }
            tcp = true;
            payloadStart = p + doff;
        } else if (proto == IPPROTO_UDP) {
            tcp = false;
            payloadStart = p + 8;
        } else {
            return false;
        }
        return payloadStart <= seen;
    }

    /** The unfolded sum of the IPv4 or IPv6 pseudo-header for an L4 length (RFC 793, RFC 8200 §8.1). */
    private long pseudoHeaderSum(UnsafeBuffer b, int l4Length) {
        int proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
        if (ipv4) {
            return Checksums.sum(b, l3 + 12, 8, 0) + proto + l4Length;
        }
        return Checksums.sum(b, l3 + 8, 32, 0) + proto + (l4Length >>> 16) + (l4Length & 0xFFFF);
    }
}
