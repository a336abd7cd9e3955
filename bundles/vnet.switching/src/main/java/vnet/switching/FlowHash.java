package vnet.switching;

import java.nio.ByteOrder;

import org.agrona.concurrent.UnsafeBuffer;

import vnet.virtqueue.DescriptorChain;

/**
 * The flow hash that picks a multiqueue port's receive queue: over the IPv4 or IPv6 source and destination
 * addresses and, for TCP and UDP, the ports (after at most one 802.1Q tag); other frames hash their MAC addresses.
 * One flow always gets one value, so its frames stay in order on one queue. Allocation free.
 */
final class FlowHash {
    /** Bytes of the frame examined: Ethernet, a tag, an IPv6 header and the ports. */
    static final int BYTES = 14 + 4 + 40 + 4;

    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private FlowHash() {
    }

    /** The receive pair (0 .. {@code pairs}-1) that a frame of flow hash {@code hash} goes to. */
    static int pairOf(int hash, int pairs) {
        return Integer.remainderUnsigned(hash, pairs);
    }

    /** Hashes the frame at {@code offset} of {@code chain}'s readable part, using {@code scratch} of {@link #BYTES}. */
    static int of(DescriptorChain chain, int offset, int length, UnsafeBuffer scratch) {
        return of(scratch, chain.read(offset, scratch, 0, Math.min(length, BYTES)));
    }

    /** Hashes the frame at {@code offset} of {@code frame}, using {@code scratch} of {@link #BYTES}. */
    static int of(org.agrona.DirectBuffer frame, int offset, int length, UnsafeBuffer scratch) {
        int n = Math.min(length, BYTES);
        frame.getBytes(offset, scratch, 0, n);
        return of(scratch, n);
    }

    /** Hashes the first {@code n} bytes of a frame, copied into {@code scratch}. */
    private static int of(UnsafeBuffer scratch, int n) {
        if (n < 14) {
            return 0;
        }
        int p = 12;
        int type = scratch.getShort(p, BE) & 0xFFFF;
        if (type == 0x8100 && n >= 18) {
            p += 4;
            type = scratch.getShort(p, BE) & 0xFFFF;
        }
        int l3 = p + 2;
        int h;
        int proto;
        int l4;
        if (type == 0x0800 && n >= l3 + 20) {
            h = mix(scratch.getInt(l3 + 12, BE), scratch.getInt(l3 + 16, BE));
            proto = scratch.getByte(l3 + 9) & 0xFF;
            boolean fragment = (scratch.getShort(l3 + 6, BE) & 0x3FFF) != 0;
            l4 = fragment ? -1 : l3 + (scratch.getByte(l3) & 0x0F) * 4;
        } else if (type == 0x86DD && n >= l3 + 40) {
            h = 0;
            for (int i = 8; i < 40; i += 4) {
                h = mix(h, scratch.getInt(l3 + i, BE));
            }
            proto = scratch.getByte(l3 + 6) & 0xFF;
            l4 = l3 + 40;
        } else {
            return mix(scratch.getInt(0, BE), scratch.getInt(4, BE) ^ scratch.getInt(8, BE));
        }
        if ((proto == 6 || proto == 17) && l4 > 0 && n >= l4 + 4) {
            h = mix(h, scratch.getInt(l4, BE));
        }
        return mix(h, proto);
    }

    private static int mix(int h, int v) {
        int x = (h ^ v) * 0x9E3779B1;
        return x ^ (x >>> 15);
    }
}
