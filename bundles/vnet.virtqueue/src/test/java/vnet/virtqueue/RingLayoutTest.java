package vnet.virtqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/**
 * Ring layouts against the spec's byte offsets: the driver side writes, the test reads raw little-endian bytes
 * at the offsets of §2.7 and §2.8 (not through the library's own layout constants), then the device side writes
 * and the test reads again.
 */
class RingLayoutTest {
    private static final long BASE = 0x4000_0000L;
    private static final long FEATURES = (1L << 28) | (1L << 29);

    private final ByteBuffer raw = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private final GuestMemory mem = GuestMemory.of(MemoryRegion.ofBuffer(BASE, raw));

    private int u8(long gpa) {
        return raw.get((int) (gpa - BASE)) & 0xff;
    }

    private int u16(long gpa) {
        return raw.getShort((int) (gpa - BASE)) & 0xffff;
    }

    private int i32(long gpa) {
        return raw.getInt((int) (gpa - BASE));
    }

    private long i64(long gpa) {
        return raw.getLong((int) (gpa - BASE));
    }

    @Test
    void layoutSizesAndAlignments() {
        RingLayout s = RingLayout.split(BASE + 1, 256);
        assertEquals(BASE + 16, s.descTable());
        assertEquals(s.descTable() + 16 * 256, s.driverArea());
        assertEquals(align(s.driverArea() + 6 + 2 * 256, 4), s.deviceArea());
        assertEquals(s.deviceArea() + 6 + 8 * 256, s.end());
        RingLayout s1 = RingLayout.split(BASE, 1);
        assertEquals(BASE + 16, s1.driverArea());
        assertEquals(BASE + 16 + 8, s1.deviceArea()); // avail 6+2=8 bytes, used aligned to 4
        RingLayout p = RingLayout.packed(BASE, 3, 4);
        assertEquals(BASE, p.descTable());
        assertEquals(BASE + 48, p.driverArea());
        assertEquals(BASE + 52, p.deviceArea());
        assertEquals(BASE + 64, p.indirectArea());
        assertEquals(BASE + 64 + 2 * 4 * 16, p.indirectTable(2));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(BASE, 3));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.split(BASE, 65536));
        assertThrows(IllegalArgumentException.class, () -> RingLayout.packed(BASE, 32769));
        RingLayout.packed(BASE, 32768);
        RingLayout.split(BASE, 32768);
        assertThrows(IllegalArgumentException.class, () -> DeviceQueue.split().setSize(48));
        DeviceQueue.packed().setSize(48);
    }

    private static long align(long v, int a) {
        return (v + a - 1) & -a;
    }

    @Test
    void splitDescriptorAvailAndUsedOffsets() {
        int n = 8;
        RingLayout l = RingLayout.split(BASE, n, 4);
        DriverQueue drv = DriverQueue.create(mem, l, FEATURES);
        long a = BASE + 0x10000;
        int h0 = drv.add(new long[] {a + 0x0708, a + 0x100, a + 0x200}, new int[] {0x0344, 32, 64}, 2, 1);
        int h1 = drv.add(a + 0x300, 77, true);
        int h2 = drv.addIndirect(new long[] {a + 0x400, a + 0x500}, new int[] {10, 20}, 1, 1);
        drv.publish();

        long d0 = l.descTable() + 16L * h0;
        assertEquals(a + 0x0708, i64(d0));
        assertEquals(0x08, u8(d0));
        assertEquals(0x07, u8(d0 + 1));
        assertEquals(0x01, u8(d0 + 2));
        assertEquals(0x40, u8(d0 + 3));
        assertEquals(0x00, u8(d0 + 7));
        assertEquals(0x0344, i32(d0 + 8));
        assertEquals(0x44, u8(d0 + 8));
        assertEquals(0x03, u8(d0 + 9));
        assertEquals(1, u16(d0 + 12)); // NEXT
        int n1 = u16(d0 + 14);
        long d1 = l.descTable() + 16L * n1;
        assertEquals(a + 0x100, i64(d1));
        assertEquals(1, u16(d1 + 12));
        long d2 = l.descTable() + 16L * u16(d1 + 14);
        assertEquals(a + 0x200, i64(d2));
        assertEquals(64, i32(d2 + 8));
        assertEquals(2, u16(d2 + 12)); // WRITE, no NEXT

        long d3 = l.descTable() + 16L * h1;
        assertEquals(a + 0x300, i64(d3));
        assertEquals(77, i32(d3 + 8));
        assertEquals(2, u16(d3 + 12));

        long d4 = l.descTable() + 16L * h2;
        assertEquals(4, u16(d4 + 12)); // INDIRECT
        assertEquals(32, i32(d4 + 8));
        long t = i64(d4);
        assertEquals(a + 0x400, i64(t));
        assertEquals(10, i32(t + 8));
        assertEquals(1, u16(t + 12));
        assertEquals(1, u16(t + 14));
        assertEquals(a + 0x500, i64(t + 16));
        assertEquals(2, u16(t + 16 + 12));

        long av = l.driverArea();
        assertEquals(0, u16(av));
        assertEquals(3, u16(av + 2));
        assertEquals(h0, u16(av + 4));
        assertEquals(h1, u16(av + 6));
        assertEquals(h2, u16(av + 8));
        drv.disableInterrupts();
        assertEquals((0 - 1) & 0xffff, u16(av + 4 + 2 * n)); // used_event parked behind last_used with EVENT_IDX

        DeviceQueue dev = DeviceQueue.split();
        dev.setSize(n);
        dev.setFeatures(FEATURES);
        dev.setMemory(mem);
        dev.setRingAddresses(l.descTable(), l.driverArea(), l.deviceArea());
        assertTrue(dev.activate());
        DescriptorChain c = new DescriptorChain();
        assertTrue(dev.pop(c));
        assertTrue(dev.pop(c));
        dev.pushUsed(h1, 0x55667788);
        dev.pushUsed(h0, 5);
        long us = l.deviceArea();
        assertEquals(0, u16(us + 2)); // not yet published
        dev.publishUsed();
        assertEquals(2, u16(us + 2));
        assertEquals(h1, i32(us + 4));
        assertEquals(0x55667788, i32(us + 8));
        assertEquals(0x88, u8(us + 8));
        assertEquals(h0, i32(us + 12));
        assertEquals(5, i32(us + 16));
        dev.enableNotification();
        assertEquals(2, u16(us + 4 + 8 * n)); // avail_event = next avail index

        // Without EVENT_IDX the flags are used: VIRTQ_USED_F_NO_NOTIFY and VIRTQ_AVAIL_F_NO_INTERRUPT.
        DriverQueue drv2 = DriverQueue.create(mem, l, 0);
        DeviceQueue dev2 = DeviceQueue.split();
        dev2.setSize(n);
        dev2.setMemory(mem);
        dev2.setRingAddresses(l.descTable(), l.driverArea(), l.deviceArea());
        assertTrue(dev2.activate());
        dev2.disableNotification();
        assertEquals(1, u16(us));
        dev2.enableNotification();
        assertEquals(0, u16(us));
        drv2.disableInterrupts();
        assertEquals(1, u16(av));
        drv2.enableInterrupts();
        assertEquals(0, u16(av));
    }

    @Test
    void packedDescriptorAndEventSuppressionOffsets() {
        int n = 4;
        RingLayout l = RingLayout.packed(BASE, n, 4);
        DriverQueue drv = DriverQueue.create(mem, l, FEATURES);
        long a = BASE + 0x10000;
        int id0 = drv.add(new long[] {a + 0x0708, a + 0x100}, new int[] {0x0344, 64}, 1, 1);
        long r = l.descTable();
        assertEquals(0, u16(r + 14)); // first descriptor's flags deferred until publish
        assertEquals(0x80 | 2, u16(r + 16 + 14)); // AVAIL (wrap 1) | WRITE, USED clear
        drv.publish();
        assertEquals(a + 0x0708, i64(r));
        assertEquals(0x08, u8(r));
        assertEquals(0x07, u8(r + 1));
        assertEquals(0x0344, i32(r + 8));
        assertEquals(0x44, u8(r + 8));
        assertEquals(id0, u16(r + 12));
        assertEquals(0x80 | 1, u16(r + 14)); // AVAIL | NEXT
        assertEquals(a + 0x100, i64(r + 16));
        assertEquals(64, i32(r + 24));
        assertEquals(id0, u16(r + 16 + 12));

        int id1 = drv.addIndirect(new long[] {a + 0x200, a + 0x300}, new int[] {8, 16}, 1, 1);
        drv.publish();
        long d2 = r + 32;
        assertEquals(0x80 | 4, u16(d2 + 14)); // AVAIL | INDIRECT
        assertEquals(32, i32(d2 + 8));
        assertEquals(id1, u16(d2 + 12));
        long t = i64(d2);
        assertEquals(l.indirectTable(id1), t);
        assertEquals(a + 0x200, i64(t));
        assertEquals(0, u16(t + 14));
        assertEquals(2, u16(t + 16 + 14));

        // Fill the ring (slot 3) and wrap: the next descriptor at slot 0 gets wrap counter 0: USED set, AVAIL clear.
        int id2 = drv.add(a + 0x400, 1, false);
        drv.publish();
        assertEquals(0x80, u16(r + 48 + 14));

        DeviceQueue dev = DeviceQueue.packed();
        dev.setSize(n);
        dev.setFeatures(FEATURES);
        dev.setMemory(mem);
        dev.setRingAddresses(l.descTable(), l.driverArea(), l.deviceArea());
        assertTrue(dev.activate());
        DescriptorChain c = new DescriptorChain();
        assertTrue(dev.pop(c));
        assertEquals(id0, c.head());
        assertEquals(2, c.descriptorCount());
        assertTrue(dev.pop(c));
        assertEquals(id1, c.head());
        assertTrue(dev.pop(c));
        assertEquals(id2, c.head());
        assertEquals(0, dev.lastAvailIndex()); // offset 0, wrap counter flipped to 0
        dev.pushUsed(id1, 0x55667788);
        dev.pushUsed(id0, 0);
        dev.publishUsed();
        // Used descriptors in completion order at the device's used position: slot 0 (id1), then slot 0+1 (id0).
        assertEquals(id1, u16(r + 12));
        assertEquals(0x55667788, i32(r + 8));
        assertEquals(0x8000 | 0x80 | 2, u16(r + 14)); // USED | AVAIL (wrap 1) | WRITE (data written)
        assertEquals(id0, u16(r + 16 + 12));
        assertEquals(0x8000 | 0x80, u16(r + 16 + 14));
        assertEquals(3, dev.usedIndex() & 0x7fff); // 1 (indirect) + 2 (chain)

        // Event suppression structures: off_wrap le16 @0, flags le16 @2.
        long drvEv = l.driverArea();
        long devEv = l.deviceArea();
        drv.disableInterrupts();
        assertEquals(1, u16(drvEv + 2));
        assertEquals(id1, drv.pollUsed());
        assertEquals(0x55667788, drv.usedLength());
        assertEquals(id0, drv.pollUsed());
        drv.enableInterrupts();
        assertEquals(2, u16(drvEv + 2)); // DESC
        assertEquals(3 | 0x8000, u16(drvEv)); // next used offset 3, wrap 1
        dev.disableNotification();
        assertEquals(1, u16(devEv + 2));
        dev.enableNotification();
        assertEquals(2, u16(devEv + 2));
        assertEquals(0, u16(devEv)); // next avail offset 0, wrap 0

        DriverQueue plain = DriverQueue.create(mem, l, 0);
        plain.enableInterrupts();
        assertEquals(0, u16(drvEv + 2));
        assertFalse(plain.hasUsed());
    }
}
