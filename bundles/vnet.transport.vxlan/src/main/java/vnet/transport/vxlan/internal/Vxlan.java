package vnet.transport.vxlan.internal;

import java.nio.ByteOrder;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The VXLAN header (RFC 7348 §5) and what goes around it: 8 bytes, flags with the I bit (0x08) set and every other
 * bit zero, then the 24-bit VNI and a reserved byte. Outer UDP source ports come from a hash of the inner flow, as
 * Linux does ({@code udp_flow_src_port}: the hash scaled into the local port range 32768..60999), so that ECMP in the
 * underlay spreads flows while each flow keeps its order.
 */
final class Vxlan {
    static final int HEADER_LENGTH = 8;
    static final int UDP_HEADER_LENGTH = 8;
    static final int IPV4_HEADER_LENGTH = 20;
    /** Outer bytes around an inner frame over IPv4: IP, UDP, VXLAN. */
    static final int OUTER_IPV4 = IPV4_HEADER_LENGTH + UDP_HEADER_LENGTH + HEADER_LENGTH;
    /** Underlay MTU minus this is the MTU to give guests: the outer headers plus the inner Ethernet header. */
    static final int GUEST_MTU_OVERHEAD = OUTER_IPV4 + 14;
    static final int ETH_HEADER_LENGTH = 14;

    /** The first word of a valid header: I flag, nothing else. */
    static final int FLAGS_WORD = 0x0800_0000;

    static final int OK = 0;
    static final int BAD_FLAGS = 1;
    static final int WRONG_VNI = 2;

    static final int SOURCE_PORT_MIN = 32768;
    static final int SOURCE_PORT_MAX = 60999;

    private Vxlan() {
    }

    /** Writes the 8-byte header for {@code vni} at {@code offset}. */
    static void writeHeader(MutableDirectBuffer b, int offset, int vni) {
        b.putInt(offset, FLAGS_WORD, ByteOrder.BIG_ENDIAN);
        b.putInt(offset + 4, vni << 8, ByteOrder.BIG_ENDIAN);
    }

    /**
     * Checks a received header against {@code vni}: {@link #OK}, {@link #BAD_FLAGS} (I flag missing, or a reserved bit
     * or extension set: Linux drops those too unless it negotiated the extension) or {@link #WRONG_VNI}.
     */
    static int check(DirectBuffer b, int offset, int vni) {
        int reservedLow = b.getInt(offset + 4, ByteOrder.BIG_ENDIAN) & 0xFF;
        if (b.getInt(offset, ByteOrder.BIG_ENDIAN) != FLAGS_WORD || reservedLow != 0) {
            return BAD_FLAGS;
        }
        return b.getInt(offset + 4, ByteOrder.BIG_ENDIAN) >>> 8 == vni ? OK : WRONG_VNI;
    }

    /** Writes the UDP header (checksum 0: optional over IPv4, and Linux's vxlan default) in front of a VXLAN packet. */
    static void writeUdpHeader(MutableDirectBuffer b, int offset, int sourcePort, int destinationPort, int udpLength) {
        b.putShort(offset, (short) sourcePort, ByteOrder.BIG_ENDIAN);
        b.putShort(offset + 2, (short) destinationPort, ByteOrder.BIG_ENDIAN);
        b.putShort(offset + 4, (short) udpLength, ByteOrder.BIG_ENDIAN);
        b.putShort(offset + 6, (short) 0);
    }

    /**
     * A hash of the inner frame's flow: the MAC addresses and EtherType, and for IPv4 the addresses, the protocol and,
     * for TCP and UDP (unfragmented), the ports. Frames of one flow hash alike.
     */
    static int flowHash(DirectBuffer b, int offset, int length) {
        if (length < ETH_HEADER_LENGTH) {
            return 0;
        }
        long h = mix(b.getLong(offset, ByteOrder.BIG_ENDIAN) ^ (b.getInt(offset + 8, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL) << 16
                ^ (b.getShort(offset + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF));
        int type = b.getShort(offset + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        int ip = offset + ETH_HEADER_LENGTH;
        if (type == 0x0800 && length >= ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH) {
            int ihl = (b.getByte(ip) & 0x0F) * 4;
            int protocol = b.getByte(ip + 9) & 0xFF;
            long addresses = b.getLong(ip + 12, ByteOrder.BIG_ENDIAN);
            h = mix(h ^ addresses ^ (long) protocol << 56);
            boolean fragment = (b.getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x3FFF) != 0;
            if ((protocol == 6 || protocol == 17) && !fragment && ihl >= IPV4_HEADER_LENGTH
                    && length >= ETH_HEADER_LENGTH + ihl + 4) {
                h = mix(h ^ (b.getInt(ip + ihl, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL));
            }
        }
        return (int) (h ^ h >>> 32);
    }

    /** The outer UDP source port for a flow hash: scaled into {@value #SOURCE_PORT_MIN}..{@value #SOURCE_PORT_MAX}. */
    static int sourcePort(int hash) {
        return SOURCE_PORT_MIN + (int) (((hash & 0xFFFF_FFFFL) * (SOURCE_PORT_MAX + 1 - SOURCE_PORT_MIN)) >>> 32);
    }

    /** A 64-bit finaliser (MurmurHash3's fmix64): every input bit affects every output bit. */
    private static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        return k ^ k >>> 33;
    }
}
