package vnet.virtio.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The software fallback against hand-made frames: every resulting segment is checked field by field, and its
 * checksums are recomputed here from the bytes (not with {@link Checksums}).
 */
class GsoSegmenterTest {

    private static final int ACK = 0x10;
    private static final int PSH = 0x08;
    private static final int FIN = 0x01;
    private static final int CWR = 0x80;

    /** A segment as the sink saw it (copied). */
    record Out(VirtioNetHeader header, byte[] frame) {
    }

    private final GsoSegmenter segmenter = new GsoSegmenter();
    private final List<Out> outs = new ArrayList<>();
    private final GsoSegmenter.Sink sink = (h, f, len) -> {
        byte[] b = new byte[len];
        f.getBytes(0, b);
        outs.add(new Out(new VirtioNetHeader().copyFrom(h), b));
    };

    // ---- frames ---------------------------------------------------------------------------------------------------

    private static byte[] payload(int n, long seed) {
        byte[] p = new byte[n];
        new Random(seed).nextBytes(p);
        return p;
    }

    /** Ethernet (optionally one 802.1Q tag) + IPv4 or IPv6 + TCP with 12 bytes of options + payload. */
    private static byte[] tcpFrame(boolean v6, int vlan, int tcpFlags, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(200 + payload.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
        if (vlan >= 0) {
            b.putShort((short) 0x8100).putShort((short) vlan);
        }
        int tcpLen = 32 + payload.length;
        if (v6) {
            b.putShort((short) 0x86DD);
            b.putInt(0x60000000).putShort((short) tcpLen).put((byte) 6).put((byte) 64);
            b.put(v6Address(1)).put(v6Address(2));
        } else {
            b.putShort((short) 0x0800);
            b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + tcpLen)).putShort((short) 0xFFFE)
                    .putShort((short) 0x4000).put((byte) 64).put((byte) 6).putShort((short) 0)
                    .put(new byte[] {(byte) 192, 0, 2, 1}).put(new byte[] {(byte) 192, 0, 2, 2});
        }
        b.putShort((short) 40000).putShort((short) 5001).putInt(0xFFFFF000).putInt(77)
                .put((byte) (8 << 4)).put((byte) tcpFlags).putShort((short) 501).putShort((short) 0x1234)
                .putShort((short) 0);
        b.put(new byte[] {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}); // NOP NOP timestamps
        b.put(payload);
        byte[] f = new byte[b.position()];
        b.flip().get(f);
        return f;
    }

    private static byte[] udpFrame(boolean v6, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(100 + payload.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
        int udpLen = 8 + payload.length;
        if (v6) {
            b.putShort((short) 0x86DD);
            b.putInt(0x60000000).putShort((short) udpLen).put((byte) 17).put((byte) 64);
            b.put(v6Address(1)).put(v6Address(2));
        } else {
            b.putShort((short) 0x0800);
            b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + udpLen)).putShort((short) 7)
                    .putShort((short) 0).put((byte) 64).put((byte) 17).putShort((short) 0)
                    .put(new byte[] {(byte) 192, 0, 2, 1}).put(new byte[] {(byte) 192, 0, 2, 2});
        }
        b.putShort((short) 4000).putShort((short) 4001).putShort((short) udpLen).putShort((short) 0);
        b.put(payload);
        byte[] f = new byte[b.position()];
        b.flip().get(f);
        return f;
    }

    private static byte[] v6Address(int last) {
        byte[] a = new byte[16];
        a[0] = (byte) 0xfd;
        a[15] = (byte) last;
        return a;
    }

    private static VirtioNetHeader gso(int type, int mss, int csumStart, int csumOffset) {
        return new VirtioNetHeader().flags(VirtioNetHeader.F_NEEDS_CSUM).gsoType(type).gsoSize(mss)
                .csumStart(csumStart).csumOffset(csumOffset).hdrLen(csumStart + 20);
    }

    private int run(VirtioNetHeader h, byte[] frame) {
        UnsafeBuffer in = new UnsafeBuffer(new byte[frame.length + 7]);
        in.putBytes(7, frame);
        return segmenter.segment(h, in, 7, frame.length, sink);
    }

    // ---- independent checks ---------------------------------------------------------------------------------------

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | b[at + 1] & 0xFF;
    }

    private static long u32(byte[] b, int at) {
        return (long) u16(b, at) << 16 | u16(b, at + 2);
    }

    /** Ones' complement sum of big-endian words, folded. */
    private static int onesSum(byte[] b, int from, int to, int initial) {
        long s = initial;
        for (int i = from; i < to; i += 2) {
            s += (b[i] & 0xFF) << 8 | (i + 1 < to ? b[i + 1] & 0xFF : 0);
        }
        while (s > 0xFFFF) {
            s = (s & 0xFFFF) + (s >> 16);
        }
        return (int) s;
    }

    /** The sum over the pseudo-header and the L4 part, checksum included: 0xFFFF when correct. */
    private static int l4Verify(byte[] f, int l3, int l4, boolean v6, int proto) {
        int len = f.length - l4;
        int pseudo = v6 ? onesSum(f, l3 + 8, l3 + 40, 0) : onesSum(f, l3 + 12, l3 + 20, 0);
        pseudo = onesSum(new byte[] {0, (byte) proto, (byte) (len >> 8), (byte) len}, 0, 4, pseudo);
        return onesSum(f, l4, f.length, pseudo);
    }

    private void checkTcp(byte[] original, boolean v6, int l3, int mss, int expectedCount, int flags) {
        int l4 = l3 + (v6 ? 40 : 20);
        int start = l4 + 32;
        int payload = original.length - start;
        assertEquals(expectedCount, outs.size());
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i = 0; i < outs.size(); i++) {
            Out o = outs.get(i);
            byte[] f = o.frame();
            assertEquals(VirtioNetHeader.GSO_NONE, o.header().gsoType());
            assertEquals(0, o.header().flags());
            int segPayload = Math.min(mss, payload - i * mss);
            assertEquals(start + segPayload, f.length, "segment " + i + " length");
            assertArrayEquals(java.util.Arrays.copyOfRange(original, 0, l3),
                    java.util.Arrays.copyOfRange(f, 0, l3), "Ethernet header and tag");
            if (v6) {
                assertEquals(f.length - l3 - 40, u16(f, l3 + 4), "IPv6 payload length");
            } else {
                assertEquals(f.length - l3, u16(f, l3 + 2), "IPv4 total length");
                assertEquals((0xFFFE + i) & 0xFFFF, u16(f, l3 + 4), "IPv4 id");
                assertEquals(0x4000, u16(f, l3 + 6), "DF kept");
                assertEquals(0xFFFF, onesSum(f, l3, l3 + 20, 0), "IPv4 header checksum of segment " + i);
            }
            assertEquals((0xFFFFF000L + (long) i * mss) & 0xFFFFFFFFL, u32(f, l4 + 4), "sequence number");
            assertEquals(77, u32(f, l4 + 8), "ack number");
            int expectedFlags = flags;
            if (i != outs.size() - 1) {
                expectedFlags &= ~(PSH | FIN);
            }
            if (i != 0) {
                expectedFlags &= ~CWR;
            }
            assertEquals(expectedFlags, f[l4 + 13] & 0xFF, "TCP flags of segment " + i);
            assertArrayEquals(java.util.Arrays.copyOfRange(original, l4 + 20, l4 + 32),
                    java.util.Arrays.copyOfRange(f, l4 + 20, l4 + 32), "TCP options");
            assertEquals(0xFFFF, l4Verify(f, l3, l4, v6, 6), "TCP checksum of segment " + i);
            joined.write(f, start, f.length - start);
        }
        assertArrayEquals(java.util.Arrays.copyOfRange(original, start, original.length), joined.toByteArray());
    }

    // ---- tests ----------------------------------------------------------------------------------------------------

    @Test
    void tcpOverIpv4WithOptions() {
        byte[] f = tcpFrame(false, -1, ACK | PSH | FIN | CWR, payload(4000, 1));
        assertEquals(3, run(gso(VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN, 1448, 34, 16), f));
        checkTcp(f, false, 14, 1448, 3, ACK | PSH | FIN | CWR);
    }

    @Test
    void tcpOverIpv6() {
        byte[] f = tcpFrame(true, -1, ACK | PSH, payload(65_000, 2));
        assertEquals(45, run(gso(VirtioNetHeader.GSO_TCPV6, 1448, 54, 16), f));
        checkTcp(f, true, 14, 1448, 45, ACK | PSH);
    }

    @Test
    void vlanTaggedTcp() {
        byte[] f = tcpFrame(false, 10, ACK | PSH, payload(3000, 3));
        assertEquals(3, run(gso(VirtioNetHeader.GSO_TCPV4, 1000, 38, 16), f));
        checkTcp(f, false, 18, 1000, 3, ACK | PSH);
        byte[] f6 = tcpFrame(true, 20, ACK, payload(2897, 4));
        outs.clear();
        assertEquals(3, run(gso(VirtioNetHeader.GSO_TCPV6, 1448, 58, 16), f6));
        checkTcp(f6, true, 18, 1448, 3, ACK);
    }

    @Test
    void payloadOfExactlyOneSegmentStaysOneFrame() {
        byte[] f = tcpFrame(false, -1, ACK | FIN, payload(1448, 5));
        assertEquals(1, run(gso(VirtioNetHeader.GSO_TCPV4, 1448, 34, 16), f));
        checkTcp(f, false, 14, 1448, 1, ACK | FIN);
    }

    @Test
    void udpSegmentationOverIpv4AndIpv6() {
        for (boolean v6 : new boolean[] {false, true}) {
            outs.clear();
            byte[] p = payload(2500, 6);
            byte[] f = udpFrame(v6, p);
            int l3 = 14;
            int l4 = l3 + (v6 ? 40 : 20);
            assertEquals(3, run(gso(VirtioNetHeader.GSO_UDP_L4, 1000, l4, 6), f));
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            for (int i = 0; i < 3; i++) {
                byte[] s = outs.get(i).frame();
                int n = i < 2 ? 1000 : 500;
                assertEquals(l4 + 8 + n, s.length);
                assertEquals(8 + n, u16(s, l4 + 4), "UDP length");
                assertTrue(u16(s, l4 + 6) != 0, "a UDP checksum of 0 means none");
                assertEquals(0xFFFF, l4Verify(s, l3, l4, v6, 17), "UDP checksum, v6=" + v6);
                if (!v6) {
                    assertEquals(7 + i, u16(s, l3 + 4), "IPv4 id");
                    assertEquals(0xFFFF, onesSum(s, l3, l3 + 20, 0));
                } else {
                    assertEquals(8 + n, u16(s, l3 + 4), "IPv6 payload length");
                }
                joined.write(s, l4 + 8, n);
            }
            assertArrayEquals(p, joined.toByteArray());
        }
    }

    @Test
    void partialChecksumIsCompletedWithoutSegmenting() {
        byte[] f = tcpFrame(false, -1, ACK | PSH, payload(777, 7));
        // the sender leaves the pseudo-header sum in the checksum field (VIRTIO 1.2 §5.1.6.2)
        int len = f.length - 34;
        int pseudo = onesSum(f, 26, 34, 0) + 6 + len;
        pseudo = (pseudo & 0xFFFF) + (pseudo >> 16);
        f[50] = (byte) (pseudo >> 8);
        f[51] = (byte) pseudo;
        VirtioNetHeader h = new VirtioNetHeader().flags(VirtioNetHeader.F_NEEDS_CSUM).csumStart(34).csumOffset(16);
        assertEquals(1, run(h, f));
        byte[] s = outs.get(0).frame();
        assertEquals(f.length, s.length);
        assertEquals(0, outs.get(0).header().flags());
        assertEquals(0xFFFF, l4Verify(s, 14, 34, false, 6));
    }

    @Test
    void frameWithoutOffloadIsCopiedUnchanged() {
        byte[] f = tcpFrame(false, -1, ACK, payload(100, 8));
        assertEquals(1, run(new VirtioNetHeader(), f));
        assertArrayEquals(f, outs.get(0).frame());
    }

    @Test
    void framesThatCannotBeSegmentedAreRefused() {
        byte[] v4 = tcpFrame(false, -1, ACK, payload(3000, 9));
        byte[] v6 = tcpFrame(true, -1, ACK, payload(3000, 9));
        assertEquals(GsoSegmenter.BAD_FRAME, run(gso(VirtioNetHeader.GSO_TCPV6, 1448, 34, 16), v4), "type mismatch");
        assertEquals(GsoSegmenter.BAD_FRAME, run(gso(VirtioNetHeader.GSO_TCPV4, 1448, 54, 16), v6), "type mismatch");
        assertEquals(GsoSegmenter.BAD_FRAME, run(gso(VirtioNetHeader.GSO_TCPV4, 0, 34, 16), v4), "gso_size 0");
        assertEquals(GsoSegmenter.BAD_FRAME, run(gso(VirtioNetHeader.GSO_UDP, 1448, 34, 6), udpFrame(false,
                payload(3000, 1))), "UFO");
        assertEquals(GsoSegmenter.BAD_FRAME, run(gso(VirtioNetHeader.GSO_UDP_L4, 1448, 34, 6), v4), "USO on TCP");
        byte[] arp = v4.clone();
        arp[12] = 0x08;
        arp[13] = 0x06;
        assertEquals(GsoSegmenter.BAD_FRAME, run(gso(VirtioNetHeader.GSO_TCPV4, 1448, 34, 16), arp), "not IP");
        byte[] fragment = v4.clone();
        fragment[20] = 0x20; // MF
        assertEquals(GsoSegmenter.BAD_FRAME, run(gso(VirtioNetHeader.GSO_TCPV4, 1448, 34, 16), fragment));
        byte[] badCsum = v4.clone();
        assertEquals(GsoSegmenter.BAD_FRAME, run(new VirtioNetHeader().flags(VirtioNetHeader.F_NEEDS_CSUM)
                .csumStart(badCsum.length).csumOffset(16), badCsum), "checksum field outside the frame");
        assertTrue(outs.isEmpty());
    }

    @Test
    void mustSegmentFollowsTheReceiversFeatures() {
        VirtioNetHeader tso4 = gso(VirtioNetHeader.GSO_TCPV4, 1448, 34, 16);
        assertTrue(GsoSegmenter.mustSegment(tso4, Features.GUEST_CSUM));
        assertFalse(GsoSegmenter.mustSegment(tso4, Features.GUEST_CSUM | Features.GUEST_TSO4));
        VirtioNetHeader ecn = gso(VirtioNetHeader.GSO_TCPV6 | VirtioNetHeader.GSO_ECN, 1448, 54, 16);
        assertTrue(GsoSegmenter.mustSegment(ecn, Features.GUEST_TSO6));
        assertFalse(GsoSegmenter.mustSegment(ecn, Features.GUEST_TSO6 | Features.GUEST_ECN));
        assertTrue(GsoSegmenter.mustSegment(gso(VirtioNetHeader.GSO_UDP_L4, 1000, 34, 6), Features.GUEST_TSO4));
        assertFalse(GsoSegmenter.mustSegment(gso(VirtioNetHeader.GSO_UDP_L4, 1000, 34, 6), Features.GUEST_USO4));
        assertFalse(GsoSegmenter.mustSegment(new VirtioNetHeader().flags(1), 0));
    }

    @Test
    void segmentingAllocatesNothing() {
        byte[] f = tcpFrame(false, -1, ACK | PSH, payload(60_000, 10));
        UnsafeBuffer in = new UnsafeBuffer(ByteBuffer.allocateDirect(f.length));
        in.putBytes(0, f);
        VirtioNetHeader h = gso(VirtioNetHeader.GSO_TCPV4, 1448, 34, 16);
        long[] bytes = new long[1];
        GsoSegmenter.Sink count = (hh, b, len) -> bytes[0] += len;
        for (int i = 0; i < 2_000; i++) { // warm up (JIT)
            segmenter.segment(h, in, 0, f.length, count);
        }
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 1_000; i++) {
            segmenter.segment(h, in, 0, f.length, count);
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < 1_000, "allocated " + allocated + " bytes for 1000 frames");
        assertTrue(bytes[0] > 0);
    }
}
