package vnet.virtio.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class VirtioNetHeaderTest {

    /** TSO over IPv4 with ECN, partial checksum, 3 buffers, a TCPv4 hash. */
    private static VirtioNetHeader sample() {
        return new VirtioNetHeader().flags(VirtioNetHeader.F_NEEDS_CSUM)
                .gsoType(VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN).hdrLen(54).gsoSize(1448).csumStart(34)
                .csumOffset(16).numBuffers(3).hashValue(0x12345678).hashReport(VirtioNetHeader.HASH_REPORT_TCPV4);
    }

    private static final byte[] LEGACY = {0x01, (byte) 0x81, 0x36, 0x00, (byte) 0xA8, 0x05, 0x22, 0x00, 0x10, 0x00};
    private static final byte[] MRG = {0x01, (byte) 0x81, 0x36, 0x00, (byte) 0xA8, 0x05, 0x22, 0x00, 0x10, 0x00,
        0x03, 0x00};
    private static final byte[] HASH = {0x01, (byte) 0x81, 0x36, 0x00, (byte) 0xA8, 0x05, 0x22, 0x00, 0x10, 0x00,
        0x03, 0x00, 0x78, 0x56, 0x34, 0x12, 0x02, 0x00, 0x00, 0x00};

    @Test
    void headerSizeFollowsFeatures() {
        assertEquals(10, VirtioNetHeader.headerSize(0));
        assertEquals(10, VirtioNetHeader.headerSize(Features.CSUM | Features.MAC));
        assertEquals(12, VirtioNetHeader.headerSize(Features.MRG_RXBUF));
        assertEquals(12, VirtioNetHeader.headerSize(Features.VERSION_1));
        assertEquals(12, VirtioNetHeader.headerSize(Features.VERSION_1 | Features.MRG_RXBUF));
        assertEquals(20, VirtioNetHeader.headerSize(Features.VERSION_1 | Features.HASH_REPORT | Features.CTRL_VQ));
    }

    @Test
    void encodesEachSizeByteForByte() {
        VirtioNetHeader h = sample();
        for (byte[] expected : new byte[][] {LEGACY, MRG, HASH}) {
            byte[] out = new byte[expected.length + 4];
            Arrays.fill(out, (byte) 0xEE);
            assertEquals(expected.length, h.encode(out, 2, expected.length));
            assertArrayEquals(expected, Arrays.copyOfRange(out, 2, 2 + expected.length));
            assertEquals((byte) 0xEE, out[1], "no byte written before the header");
            assertEquals((byte) 0xEE, out[2 + expected.length], "no byte written after the header");
        }
    }

    @Test
    void decodesEachSizeByteForByte() {
        VirtioNetHeader full = sample();
        assertEquals(full, new VirtioNetHeader().decode(HASH, 0, 20));
        VirtioNetHeader mrg = new VirtioNetHeader().copyFrom(full).hashValue(0).hashReport(0);
        assertEquals(mrg, new VirtioNetHeader().decode(MRG, 0, 12));
        VirtioNetHeader legacy = new VirtioNetHeader().copyFrom(mrg).numBuffers(0);
        assertEquals(legacy, new VirtioNetHeader().decode(LEGACY, 0, 10));
        // Decoding a shorter header clears the fields it lacks, so a reused object carries nothing over.
        VirtioNetHeader reused = sample();
        reused.decode(LEGACY, 0, 10);
        assertEquals(0, reused.numBuffers());
        assertEquals(0, reused.hashValue());
    }

    @Test
    void directBufferMatchesByteArray() {
        UnsafeBuffer buf = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        VirtioNetHeader h = sample();
        for (byte[] expected : new byte[][] {LEGACY, MRG, HASH}) {
            buf.setMemory(0, 64, (byte) 0xEE);
            h.encode(buf, 7, expected.length);
            byte[] got = new byte[expected.length];
            buf.getBytes(7, got);
            assertArrayEquals(expected, got);
            assertEquals((byte) 0xEE, buf.getByte(7 + expected.length));
            VirtioNetHeader back = new VirtioNetHeader().decode(buf, 7, expected.length);
            VirtioNetHeader fromArray = new VirtioNetHeader().decode(expected, 0, expected.length);
            assertEquals(fromArray, back);
        }
    }

    /** The in-place forms the data path uses (guest memory at a host address) write and read the same bytes. */
    @Test
    void inPlaceAtAnAddressMatchesByteArray() {
        UnsafeBuffer buf = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        VirtioNetHeader h = sample();
        VirtioNetHeader ones = new VirtioNetHeader().flags(0xFF).gsoType(0xFF).hdrLen(0xFFFF).gsoSize(0xFFFF)
                .csumStart(0xFFFF).csumOffset(0xFFFF).numBuffers(0xFFFF).hashValue(0xFFFFFFFF).hashReport(0xFFFF);
        for (byte[] expected : new byte[][] {LEGACY, MRG, HASH}) {
            int size = expected.length;
            buf.setMemory(0, 64, (byte) 0xEE);
            assertEquals(size, h.encodeAt(buf.addressOffset() + 5, size)); // odd: unaligned, as in a guest buffer
            byte[] got = new byte[size];
            buf.getBytes(5, got);
            assertArrayEquals(expected, got, "size " + size);
            assertEquals((byte) 0xEE, buf.getByte(4), "no byte written before the header");
            assertEquals((byte) 0xEE, buf.getByte(5 + size), "no byte written after the header");
            VirtioNetHeader reused = new VirtioNetHeader().copyFrom(ones); // nothing carries over
            assertEquals(new VirtioNetHeader().decode(expected, 0, size), reused.decodeAt(buf.addressOffset() + 5, size));
            ones.encodeAt(buf.addressOffset() + 5, size);
            VirtioNetHeader back = new VirtioNetHeader().decodeAt(buf.addressOffset() + 5, size);
            assertEquals(new VirtioNetHeader().decode(buf, 5, size), back, "all ones, size " + size);
            assertEquals(0xFFFF, back.csumStart());
        }
        assertThrows(IllegalArgumentException.class, () -> h.encodeAt(buf.addressOffset(), 11));
        assertThrows(IllegalArgumentException.class, () -> h.decodeAt(buf.addressOffset(), 16));
    }

    @Test
    void unsignedFieldsRoundTrip() {
        VirtioNetHeader h = new VirtioNetHeader().flags(0xFF).gsoType(0xFF).hdrLen(0xFFFF).gsoSize(0xFFFF)
                .csumStart(0xFFFF).csumOffset(0xFFFF).numBuffers(0xFFFF).hashValue(0xFFFFFFFF).hashReport(0xFFFF);
        byte[] out = new byte[20];
        h.encode(out, 0, 20);
        byte[] expected = new byte[20];
        Arrays.fill(expected, 0, 18, (byte) 0xFF);
        assertArrayEquals(expected, out, "padding stays 0");
        VirtioNetHeader back = new VirtioNetHeader().decode(out, 0, 20);
        assertEquals(h, back);
        assertEquals(0xFFFF, back.csumStart());
        assertEquals(0xFF, back.gsoType());
        assertTrue(back.isGso());
        assertTrue(back.needsCsum());
    }

    @Test
    void ecnAloneIsNotGso() {
        VirtioNetHeader h = new VirtioNetHeader().gsoType(VirtioNetHeader.GSO_ECN);
        assertFalse(h.isGso());
        assertFalse(h.needsCsum());
    }

    @Test
    void rejectsBadSizesAndBounds() {
        VirtioNetHeader h = new VirtioNetHeader();
        assertThrows(IllegalArgumentException.class, () -> h.encode(new byte[32], 0, 11));
        assertThrows(IllegalArgumentException.class, () -> h.decode(new byte[32], 0, 8));
        assertThrows(IndexOutOfBoundsException.class, () -> h.encode(new byte[12], 1, 12));
        assertThrows(IndexOutOfBoundsException.class, () -> h.decode(new byte[19], 0, 20));
        assertThrows(IndexOutOfBoundsException.class, () -> h.decode(new byte[19], -1, 10));
    }
}
