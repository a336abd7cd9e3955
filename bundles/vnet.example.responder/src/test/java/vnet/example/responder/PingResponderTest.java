package vnet.example.responder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class PingResponderTest {
    static final byte[] MAC = PingResponder.parseMac("02:00:00:00:00:64");
    static final byte[] IP = PingResponder.parseIp("192.0.2.100");
    static final byte[] GUEST_MAC = PingResponder.parseMac("52:54:00:00:00:01");
    static final byte[] GUEST_IP = PingResponder.parseIp("192.0.2.1");
    final PingResponder responder = new PingResponder(MAC, IP);
    final byte[] out = new byte[2048];

    static byte[] arpRequest(byte[] target) {
        byte[] f = new byte[60];
        Arrays.fill(f, 0, 6, (byte) 0xff);
        System.arraycopy(GUEST_MAC, 0, f, 6, 6);
        PingResponder.put16(f, 12, 0x0806);
        PingResponder.put16(f, 14, 1);
        PingResponder.put16(f, 16, 0x0800);
        f[18] = 6;
        f[19] = 4;
        PingResponder.put16(f, 20, 1);
        System.arraycopy(GUEST_MAC, 0, f, 22, 6);
        System.arraycopy(GUEST_IP, 0, f, 28, 4);
        System.arraycopy(target, 0, f, 38, 4);
        return f;
    }

    static byte[] echoRequest(byte[] dst, int dataLength) {
        int total = 20 + 8 + dataLength;
        byte[] f = new byte[14 + total];
        System.arraycopy(MAC, 0, f, 0, 6);
        System.arraycopy(GUEST_MAC, 0, f, 6, 6);
        PingResponder.put16(f, 12, 0x0800);
        f[14] = 0x45;
        PingResponder.put16(f, 16, total);
        PingResponder.put16(f, 20, 0x4000); // DF
        f[22] = 64;
        f[23] = 1;
        System.arraycopy(GUEST_IP, 0, f, 26, 4);
        System.arraycopy(dst, 0, f, 30, 4);
        PingResponder.put16(f, 24, PingResponder.checksum(f, 14, 20));
        f[34] = 8;
        PingResponder.put16(f, 38, 0x1234);
        PingResponder.put16(f, 40, 7);
        for (int i = 0; i < dataLength; i++) {
            f[42 + i] = (byte) i;
        }
        PingResponder.put16(f, 36, PingResponder.checksum(f, 34, 8 + dataLength));
        return f;
    }

    @Test
    void answersArpForItsAddress() {
        byte[] req = arpRequest(IP);
        assertEquals(60, responder.answer(req, req.length, out));
        assertArrayEquals(GUEST_MAC, Arrays.copyOfRange(out, 0, 6));
        assertArrayEquals(MAC, Arrays.copyOfRange(out, 6, 12));
        assertEquals(0x0806, PingResponder.u16(out, 12));
        assertEquals(2, PingResponder.u16(out, 20));
        assertArrayEquals(MAC, Arrays.copyOfRange(out, 22, 28));
        assertArrayEquals(IP, Arrays.copyOfRange(out, 28, 32));
        assertArrayEquals(GUEST_MAC, Arrays.copyOfRange(out, 32, 38));
        assertArrayEquals(GUEST_IP, Arrays.copyOfRange(out, 38, 42));
    }

    @Test
    void ignoresArpForOthers() {
        byte[] req = arpRequest(PingResponder.parseIp("192.0.2.7"));
        assertEquals(0, responder.answer(req, req.length, out));
    }

    @Test
    void answersPingWithValidChecksums() {
        for (int data : new int[] {0, 56, 1000}) {
            byte[] req = echoRequest(IP, data);
            int n = responder.answer(req, req.length, out);
            assertEquals(Math.max(60, req.length), n);
            assertArrayEquals(GUEST_MAC, Arrays.copyOfRange(out, 0, 6));
            assertArrayEquals(IP, Arrays.copyOfRange(out, 26, 30));
            assertArrayEquals(GUEST_IP, Arrays.copyOfRange(out, 30, 34));
            assertEquals(0, PingResponder.checksum(out, 14, 20), "IP header checksum");
            assertEquals(0, out[34], "echo reply");
            assertEquals(0, PingResponder.checksum(out, 34, 8 + data), "ICMP checksum");
            assertArrayEquals(Arrays.copyOfRange(req, 38, req.length), Arrays.copyOfRange(out, 38, req.length),
                    "identifier, sequence and data come back");
        }
    }

    @Test
    void ignoresPingForOthersAndBrokenFrames() {
        byte[] other = echoRequest(PingResponder.parseIp("192.0.2.9"), 8);
        assertEquals(0, responder.answer(other, other.length, out));
        byte[] bad = echoRequest(IP, 8);
        bad[bad.length - 1] ^= 1;
        assertEquals(0, responder.answer(bad, bad.length, out), "bad ICMP checksum");
        assertEquals(0, responder.answer(bad, 20, out), "truncated");
        assertEquals(0, responder.answer(new byte[10], 10, out));
    }

    @Test
    void parsesAddresses() {
        assertThrows(IllegalArgumentException.class, () -> PingResponder.parseIp("192.0.2"));
        assertThrows(IllegalArgumentException.class, () -> PingResponder.parseIp("192.0.2.256"));
        assertThrows(IllegalArgumentException.class, () -> PingResponder.parseMac("02:00:00:00:00"));
        assertEquals("02:00:00:00:00:64", PingResponder.format(PingResponder.macBytes(0x020000000064L)));
    }
}
