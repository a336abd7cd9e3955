package vnet.virtqueue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** Regions, translation (guest physical and front-end user addresses), bounds checks, snapshots. */
class GuestMemoryTest {
    private static final long G = 1L << 30;

    @Test
    void translatesLargeRegionsWithoutIntArithmetic() {
        // Translation arithmetic only: the host addresses are never dereferenced.
        MemoryRegion low = MemoryRegion.ofAddress(0, 3 * G, 0x7f00_0000_0000L, 0x7e00_0000_0000L);
        MemoryRegion high = MemoryRegion.ofAddress(4 * G, 6 * G, 0x7f10_0000_0000L, 0x7e10_0000_0000L);
        GuestMemory m = GuestMemory.of(high, low);
        assertEquals(low, m.regions().get(0));
        assertEquals(0x7f00_0000_0000L + 2 * G + 5, m.hostAddress(2 * G + 5, 16));
        assertEquals(0x7f00_0000_0000L + 3 * G - 16, m.hostAddress(3 * G - 16, 16));
        assertEquals(GuestMemory.NO_ADDRESS, m.hostAddress(3 * G - 16, 17));
        assertEquals(GuestMemory.NO_ADDRESS, m.hostAddress(3 * G, 1)); // the hole
        assertEquals(0x7f10_0000_0000L + 5 * G, m.hostAddress(9 * G, 1 * G));
        assertEquals(GuestMemory.NO_ADDRESS, m.hostAddress(9 * G, 1 * G + 1));
        assertEquals(GuestMemory.NO_ADDRESS, m.hostAddress(-1, 1));
        assertEquals(GuestMemory.NO_ADDRESS, m.hostAddress(Long.MIN_VALUE, 1));
        assertEquals(GuestMemory.NO_ADDRESS, m.hostAddress(5, -1));
        assertTrue(m.isValid(0, 3 * G));
        assertFalse(m.isValid(0, 3 * G + 1));
        assertFalse(m.isValid(Long.MAX_VALUE, 1));
        assertEquals(4 * G + 7, m.translateUserAddress(0x7e10_0000_0000L + 7));
        assertEquals(2 * G, m.translateUserAddress(0x7e00_0000_0000L + 2 * G));
        assertEquals(GuestMemory.NO_ADDRESS, m.translateUserAddress(0x7e00_0000_0000L + 3 * G));
        assertEquals(GuestMemory.NO_ADDRESS, m.translateUserAddress(5));
        assertSame(high, m.regionAt(5 * G));
        assertNull(m.regionAt(3 * G + 5));
    }

    @Test
    void rejectsBadRegions() {
        assertThrows(IllegalArgumentException.class, () -> MemoryRegion.ofAddress(0, 0, 0x1000));
        assertThrows(IllegalArgumentException.class, () -> MemoryRegion.ofAddress(-4096, 16, 0x1000));
        assertThrows(IllegalArgumentException.class, () -> MemoryRegion.ofAddress(Long.MAX_VALUE - 5, 16, 0x1000));
        assertThrows(IllegalArgumentException.class, () -> MemoryRegion.ofAddress(0, 16, Long.MAX_VALUE - 5));
        assertThrows(IllegalArgumentException.class, () -> MemoryRegion.ofAddress(0, 16, 0));
        assertThrows(IllegalArgumentException.class, () -> MemoryRegion.ofBuffer(0, ByteBuffer.allocate(16)));
        MemoryRegion a = MemoryRegion.ofAddress(0x1000, 0x1000, 0x10000);
        MemoryRegion b = MemoryRegion.ofAddress(0x1fff, 0x1000, 0x20000);
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.of(a, b));
    }

    @Test
    void snapshotsAndAccessorsOverAdjacentRegions() {
        ByteBuffer b1 = ByteBuffer.allocateDirect(4096);
        ByteBuffer b2 = ByteBuffer.allocateDirect(4096);
        MemoryRegion r1 = MemoryRegion.ofBuffer(0x10000, b1);
        MemoryRegion r2 = MemoryRegion.ofBuffer(0x11000, b2).withUserAddress(0x5555_0000L);
        GuestMemory one = GuestMemory.EMPTY.withRegion(r1);
        GuestMemory two = one.withRegion(r2);
        assertEquals(1, one.regions().size());
        assertEquals(2, two.regions().size());
        assertEquals(0x11010, two.translateUserAddress(0x5555_0010L));
        assertEquals(GuestMemory.NO_ADDRESS, one.hostAddress(0x11000, 1));
        assertTrue(two.isValid(0x10ff0, 0x20));
        assertEquals(GuestMemory.NO_ADDRESS, two.hostAddress(0x10ff0, 0x20)); // spans two regions

        byte[] src = new byte[64];
        for (int i = 0; i < src.length; i++) {
            src[i] = (byte) i;
        }
        two.write(0x10fe0, src, 0, 64); // 32 bytes in each buffer
        assertEquals(31, b1.get(4095));
        assertEquals(32, b2.get(0));
        byte[] back = new byte[64];
        two.read(0x10fe0, back, 0, 64);
        assertArrayEquals(src, back);
        UnsafeBuffer ub = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        two.read(0x10fe0, ub, 0, 64);
        assertEquals(63, ub.getByte(63));
        two.write(0x10000, ub, 1, 8);
        assertEquals(1, two.getU8(0x10000));

        two.putI64(0x10100, 0x1122334455667788L);
        assertEquals(0x88, b1.get(0x100) & 0xff); // little-endian
        assertEquals(0x1122334455667788L, two.getI64(0x10100));
        assertEquals(0x55667788, two.getI32(0x10100));
        assertEquals(0x7788, two.getU16(0x10100));
        assertThrows(IndexOutOfBoundsException.class, () -> two.getI64(0x10ffc)); // crosses a region boundary
        assertThrows(IndexOutOfBoundsException.class, () -> two.getU8(0x12000));
        assertThrows(IndexOutOfBoundsException.class, () -> two.read(0x11fff, back, 0, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> two.fill(0xffff, 2, (byte) 0));
        two.fill(0x10ffe, 4, (byte) 0x5a);
        assertEquals(0x5a, b2.get(1));

        GuestMemory removed = two.withoutRegion(0x11000);
        assertEquals(1, removed.regions().size());
        assertSame(two, two.withoutRegion(0x999));
    }

    @Test
    void mapsAFileChannel() throws Exception {
        try (SharedFile f = new SharedFile(8192)) {
            MemoryRegion r = MemoryRegion.map(0x2000, f.channel, 4096, 4096);
            GuestMemory m = GuestMemory.of(r);
            m.putI32(0x2000 + 8, 0xcafebabe);
            assertEquals(0xcafebabe, f.deviceView.order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(4096 + 8));
            assertTrue(r.keepAlive() instanceof java.nio.MappedByteBuffer);
        }
    }

    @Test
    void regionLookupsAlternatingBetweenRegionsStayRight() {
        // the last-hit hint must never answer for another region
        MemoryRegion[] r = new MemoryRegion[8];
        for (int i = 0; i < r.length; i++) {
            r[i] = MemoryRegion.ofAddress(i * 2 * G, G, 0x7f00_0000_0000L + i * G);
        }
        GuestMemory m = GuestMemory.of(r);
        for (int k = 0; k < 100; k++) {
            int i = (k * 5) % 8;
            assertEquals(i, m.indexOf(i * 2 * G + k));
            assertEquals(0x7f00_0000_0000L + i * G + k, m.hostAddress(i * 2 * G + k, 16));
            assertEquals(-1, m.indexOf(i * 2 * G + G + k)); // the hole after region i
        }
    }
}
