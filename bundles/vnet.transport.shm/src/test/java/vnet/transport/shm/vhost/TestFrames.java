package vnet.transport.shm.vhost;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Random;
import java.util.function.IntUnaryOperator;

import vnet.virtio.net.FrameBuffer;

/** Ethernet test frames (local experimental EtherType 0x88b5) and a send-and-compare loop. */
final class TestFrames {
    static final byte[] DST = {0x52, 0x54, 0x00, 0x00, 0x02, 0x02};
    static final byte[] SRC = {0x52, 0x54, 0x00, 0x00, 0x02, 0x01};

    private TestFrames() {
    }

    /** A frame of {@code length} bytes (at least 18): MACs, EtherType 0x88b5, sequence number, random payload. */
    static byte[] frame(int seq, int length, Random random) {
        byte[] f = new byte[length];
        random.nextBytes(f);
        System.arraycopy(DST, 0, f, 0, 6);
        System.arraycopy(SRC, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        f[14] = (byte) (seq >>> 24);
        f[15] = (byte) (seq >>> 16);
        f[16] = (byte) (seq >>> 8);
        f[17] = (byte) seq;
        return f;
    }

    /** The frame with source and destination MAC swapped (what testpmd's macswap returns). */
    static byte[] macSwapped(byte[] f) {
        byte[] s = f.clone();
        System.arraycopy(f, 0, s, 6, 6);
        System.arraycopy(f, 6, s, 0, 6);
        return s;
    }

    /**
     * Sends {@code count} frames of lengths {@code lengthOf(seq)} with up to {@code window} in flight, receives each
     * back in order and checks it byte for byte against {@code expected(sent)}.
     */
    static void exchange(VhostUserFrontend fe, int count, int window, IntUnaryOperator lengthOf,
                         java.util.function.UnaryOperator<byte[]> expected) throws IOException {
        Random random = new Random(count * 31L + window);
        ArrayDeque<byte[]> inFlight = new ArrayDeque<>();
        FrameBuffer rx = new FrameBuffer();
        FrameBuffer tx = new FrameBuffer();
        int sent = 0;
        int received = 0;
        while (received < count) {
            while (sent < count && inFlight.size() < window) {
                byte[] f = frame(sent, lengthOf.applyAsInt(sent), random);
                tx.set(f, 0, f.length);
                assertTrue(fe.send(tx), () -> "frame " + inFlight.size() + " queued: " + fe);
                inFlight.add(f);
                sent++;
            }
            assertTrue(fe.receive(rx, Duration.ofSeconds(10)), "frame " + received + " of " + count + " came back; " + fe);
            byte[] want = expected.apply(inFlight.remove());
            assertArrayEquals(want, rx.toByteArray(), "frame " + received + " (" + want.length + " bytes)");
            received++;
        }
    }
}
