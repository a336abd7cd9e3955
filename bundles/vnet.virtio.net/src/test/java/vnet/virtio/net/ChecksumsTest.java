package vnet.virtio.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Checksum completion against checksums computed by hand (the sums are in the comments), for frames
 * 192.0.2.1 -> 192.0.2.2 behind a 14-byte Ethernet and a 20-byte IPv4 header.
 */
class ChecksumsTest {

    private static final int ETH_IP = 14 + 20;

    private static byte[] ethIp(int protocol, int l4Length) {
        byte[] f = new byte[ETH_IP + l4Length];
        byte[] eth = {0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00};
        System.arraycopy(eth, 0, f, 0, 14);
        int total = 20 + l4Length;
        byte[] ip = {0x45, 0, (byte) (total >> 8), (byte) total, 0, 0, 0x40, 0, 64, (byte) protocol, 0, 0,
            (byte) 192, 0, 2, 1, (byte) 192, 0, 2, 2};
        System.arraycopy(ip, 0, f, 14, 20);
        return f;
    }

    /**
     * UDP 1234 -> 5678, payload "hi", length 10.
     * Pseudo header: C000+0201+C000+0202+0011+000A = 1841E, folded 841F (what the sender stores).
     * UDP: 04D2+162E+000A+6869 = 8373; 841F+8373 = 10792 -> 0793; checksum ~0793 = F86C.
     */
    @Test
    void completesUdp() {
        byte[] f = ethIp(17, 10);
        byte[] udp = {0x04, (byte) 0xD2, 0x16, 0x2E, 0x00, 0x0A, (byte) 0x84, 0x1F, 0x68, 0x69};
        System.arraycopy(udp, 0, f, ETH_IP, udp.length);
        assertTrue(Checksums.complete(f, 0, f.length, ETH_IP, 6));
        assertEquals((byte) 0xF8, f[ETH_IP + 6]);
        assertEquals((byte) 0x6C, f[ETH_IP + 7]);
    }

    /**
     * TCP 80 -> 49152, seq 1, SYN, window FFFF, no payload, length 20.
     * Pseudo header: C000+0201+C000+0202+0006+0014 = 1841D, folded 841E.
     * TCP: 0050+C000+0001+5002+FFFF = 21052 -> 1054; 841E+1054 = 9472; checksum ~9472 = 6B8D.
     */
    @Test
    void completesTcpAtAnOffset() {
        byte[] tcp = {0x00, 0x50, (byte) 0xC0, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, (byte) 0xFF, (byte) 0xFF,
            (byte) 0x84, 0x1E, 0, 0};
        byte[] f = ethIp(6, 20);
        System.arraycopy(tcp, 0, f, ETH_IP, tcp.length);
        byte[] inBuffer = new byte[f.length + 100];
        System.arraycopy(f, 0, inBuffer, 50, f.length);
        assertTrue(Checksums.complete(inBuffer, 50, f.length, ETH_IP, 16));
        assertEquals((byte) 0x6B, inBuffer[50 + ETH_IP + 16]);
        assertEquals((byte) 0x8D, inBuffer[50 + ETH_IP + 17]);

        UnsafeBuffer direct = new UnsafeBuffer(ByteBuffer.allocateDirect(f.length + 3));
        direct.putBytes(3, f);
        assertTrue(Checksums.complete(direct, 3, f.length, ETH_IP, 16));
        assertEquals(0x6B8D, direct.getShort(3 + ETH_IP + 16, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF);
    }

    /** Odd lengths pad with a zero byte, in both implementations; the completed segment then verifies. */
    @Test
    void oddLengthsAgreeAndVerify() {
        for (int len = 8; len < 80; len++) {
            byte[] seg = new byte[len];
            for (int i = 0; i < len; i++) {
                seg[i] = (byte) (i * 37 + len);
            }
            long pseudo = 0xC000 + 0x0201 + 0xC000 + 0x0202 + 17 + len;
            seg[6] = (byte) (Checksums.fold(pseudo) >> 8);
            seg[7] = (byte) Checksums.fold(pseudo);
            byte[] copy = seg.clone();
            UnsafeBuffer direct = new UnsafeBuffer(ByteBuffer.allocateDirect(len));
            direct.putBytes(0, seg);
            assertTrue(Checksums.complete(seg, 0, len, 0, 6));
            assertTrue(Checksums.complete(direct, 0, len, 0, 6));
            byte[] fromDirect = new byte[len];
            direct.getBytes(0, fromDirect);
            assertArrayEquals(seg, fromDirect, "length " + len);
            // Receiver's check: pseudo header + segment with its checksum sums to FFFF.
            assertEquals(0xFFFF, Checksums.fold(Checksums.sum(seg, 0, len, pseudo)), "length " + len);
            assertEquals(Checksums.fold(Checksums.sum(copy, 0, len, 0)),
                    Checksums.fold(Checksums.sum(new UnsafeBuffer(copy), 0, len, 0)));
        }
    }

    @Test
    void zeroResultIsStoredAsFfff() {
        // Words FFFF + 0000(field): sum FFFF, complement 0 -> stored FFFF.
        byte[] f = {(byte) 0xFF, (byte) 0xFF, 0, 0};
        assertTrue(Checksums.complete(f, 0, 4, 0, 2));
        assertEquals((byte) 0xFF, f[2]);
        assertEquals((byte) 0xFF, f[3]);
    }

    /**
     * A TCP checksum that completes to 0 is stored as 0x0000 (RFC 1624; Wireshark calls 0xFFFF wrong there), a UDP one
     * as 0xFFFF (RFC 768: 0 would mean "no checksum"); both through the array and the buffer variant.
     */
    @Test
    void zeroResultStaysZeroInATcpHeaderAndIsFfffInAUdpOne() {
        for (int csumOffset : new int[] {16, 6}) {
            int expected = csumOffset == 16 ? 0 : 0xFFFF;
            // 20 bytes of transport header and data: word FFFF at 0, the field (0000) at csumOffset, zeros else.
            byte[] f = new byte[20];
            f[0] = (byte) 0xFF;
            f[1] = (byte) 0xFF;
            assertTrue(Checksums.complete(f, 0, 20, 0, csumOffset));
            assertEquals(expected, (f[csumOffset] & 0xFF) << 8 | f[csumOffset + 1] & 0xFF, "offset " + csumOffset);
            UnsafeBuffer b = new UnsafeBuffer(new byte[20]);
            b.putShort(0, (short) 0xFFFF);
            assertTrue(Checksums.complete(b, 0, 20, 0, csumOffset));
            assertEquals(expected, b.getShort(csumOffset, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF, "offset " + csumOffset);
        }
    }

    @Test
    void refusesOffsetsOutsideTheFrame() {
        byte[] f = new byte[60];
        byte[] before = f.clone();
        assertFalse(Checksums.complete(f, 0, 60, 34, 25));
        assertFalse(Checksums.complete(f, 0, 60, 59, 0));
        assertFalse(Checksums.complete(f, 0, 60, 0xFFFF, 0xFFFF));
        assertFalse(Checksums.complete(f, 10, 60, 0, 6));
        assertFalse(Checksums.complete(new UnsafeBuffer(f), 0, 60, 58, 1));
        assertArrayEquals(before, f);
        assertTrue(Checksums.complete(f, 0, 60, 58, 0));
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 §3: 0001 F203 F4F5 F6F7 sums to 2DDF0 -> DDF2, checksum 220D.
        byte[] b = {0x00, 0x01, (byte) 0xF2, 0x03, (byte) 0xF4, (byte) 0xF5, (byte) 0xF6, (byte) 0xF7};
        assertEquals(0xDDF2, Checksums.fold(Checksums.sum(b, 0, 8, 0)));
        assertEquals(0x220D, Checksums.checksum(b, 0, 8));
    }
}
