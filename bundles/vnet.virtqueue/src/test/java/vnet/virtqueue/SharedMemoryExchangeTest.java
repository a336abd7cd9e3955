package vnet.virtqueue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The project's driver side against its device side through a temp file mapped twice: the driver works on one
 * mapping, the device on another, as two processes would. Multi-segment chains, indirect tables, more than 65536
 * buffers through a small queue (16-bit index and wrap counter wrap-around), EVENT_IDX and flag-based notification
 * decisions, and a two-thread run.
 */
class SharedMemoryExchangeTest {
    private static final long GPA = 0x8000_0000L;
    private static final int FILE_SIZE = 1 << 20;
    private static final long DATA = GPA + 0x40000;
    private static final int SLOT = 2048;
    private static final long INDIRECT = 1L << VirtqueueFeatures.INDIRECT_DESC;
    private static final long EVENT_IDX = 1L << VirtqueueFeatures.EVENT_IDX;

    private SharedFile file;
    private GuestMemory driverMem;
    private GuestMemory deviceMem;

    @BeforeEach
    void map() throws Exception {
        file = new SharedFile(FILE_SIZE);
        driverMem = GuestMemory.of(SharedFile.region(file.driverView, GPA, 0, FILE_SIZE));
        deviceMem = GuestMemory.of(SharedFile.region(file.deviceView, GPA, 0, FILE_SIZE));
        assertNotEquals(driverMem.hostAddress(GPA, 1), deviceMem.hostAddress(GPA, 1));
    }

    @AfterEach
    void unmap() throws Exception {
        file.close();
    }

    private static DeviceQueue device(RingLayout l, long features, GuestMemory mem) {
        DeviceQueue dev = l.isPacked() ? DeviceQueue.packed() : DeviceQueue.split();
        dev.setSize(l.queueSize());
        dev.setFeatures(features);
        dev.setMemory(mem);
        dev.setRingAddresses(l.descTable(), l.driverArea(), l.deviceArea());
        assertTrue(dev.activate(), dev::brokenReason);
        return dev;
    }

    private static byte pattern(long seq, int i) {
        return (byte) (seq * 31 + i * 7 + (i >> 8));
    }

    /**
     * Runs 70,000 buffers through a small queue: random chains (1-3 readable + 0-2 writable segments, direct or
     * indirect), random batch sizes, data verified both ways, and EVENT_IDX / flag decisions checked against what
     * the other side asked for.
     */
    @ParameterizedTest(name = "packed={0} size={1} eventIdx={2}")
    @CsvSource({"false, 8, true", "false, 4, false", "true, 8, true", "true, 6, false", "true, 5, true"})
    void manyBuffersThroughSmallQueue(boolean packed, int size, boolean eventIdx) {
        long features = INDIRECT | (eventIdx ? EVENT_IDX : 0);
        RingLayout l = packed ? RingLayout.packed(GPA, size, 8) : RingLayout.split(GPA, size, 8);
        DriverQueue drv = DriverQueue.create(driverMem, l, features);
        DeviceQueue dev = device(l, features, deviceMem);
        Random rnd = new Random(size * 1000L + (packed ? 1 : 0));
        DescriptorChain chain = new DescriptorChain();
        long[] seqOf = new long[size];
        int[] writableOf = new int[size];
        long[] addrs = new long[8];
        int[] lens = new int[8];
        byte[] buf = new byte[SLOT * 2];
        byte[] expect = new byte[SLOT * 2];
        long seq = 0;
        long done = 0;
        int total = 70_000;
        int kicks = 0;
        int interrupts = 0;
        dev.enableNotification();
        drv.enableInterrupts();
        while (done < total) {
            // Driver: add a batch.
            int batch = 1 + rnd.nextInt(size);
            int added = 0;
            for (int b = 0; b < batch; b++) {
                int r = 1 + rnd.nextInt(3);
                int w = rnd.nextInt(3);
                boolean ind = rnd.nextInt(3) == 0;
                if (!ind && drv.freeDescriptors() < r + w || ind && drv.freeDescriptors() < 1) {
                    break;
                }
                // Data for this buffer lives in a slot chosen after the id is known: fill descriptors first with
                // placeholders, then rewrite? Simpler: slot by seq modulo a pool larger than the queue.
                long slot = DATA + (seq % (size * 2L)) * SLOT * 2;
                int off = 0;
                int readable = 0;
                for (int i = 0; i < r + w; i++) {
                    int len = 1 + rnd.nextInt(300);
                    addrs[i] = slot + off;
                    lens[i] = len;
                    if (i < r) {
                        for (int k = 0; k < len; k++) {
                            driverMem.putU8(slot + off + k, pattern(seq, readable + k));
                        }
                        readable += len;
                    }
                    off += len + 8;
                }
                int id = ind ? drv.addIndirect(addrs, lens, r, w) : drv.add(addrs, lens, r, w);
                assertNotEquals(DriverQueue.NONE, id);
                seqOf[id] = seq;
                writableOf[id] = 0;
                for (int i = r; i < r + w; i++) {
                    writableOf[id] += lens[i];
                }
                seq++;
                added++;
            }
            boolean kick = drv.shouldKick();
            if (added > 0) {
                // The device asked (enableNotification after draining): the first batch after it must kick.
                assertTrue(kick, "kick expected after device re-enabled notifications");
                kicks++;
            }
            // A second, unannounced batch: with EVENT_IDX the device has not re-armed avail_event, no kick;
            // without it, the device left notifications enabled, so kick.
            if (drv.freeDescriptors() > 0 && rnd.nextBoolean()) {
                long slot = DATA + (seq % (size * 2L)) * SLOT * 2;
                driverMem.putU8(slot, pattern(seq, 0));
                int id = drv.add(slot, 1, false);
                seqOf[id] = seq++;
                writableOf[id] = 0;
                assertEquals(!eventIdx, drv.shouldKick());
            }

            // Device: drain with notifications disabled, then re-enable.
            dev.disableNotification();
            int popped = 0;
            int half = -1;
            while (dev.pop(chain)) {
                int id = chain.head();
                long s = seqOf[id];
                int n = chain.readableBytes();
                assertEquals(n, chain.read(0, buf, 0, buf.length));
                for (int k = 0; k < n; k++) {
                    expect[k] = pattern(s, k);
                }
                assertArrayEquals(java.util.Arrays.copyOf(expect, n), java.util.Arrays.copyOf(buf, n));
                assertEquals(writableOf[id], chain.writableBytes());
                int wl = chain.writableBytes();
                for (int k = 0; k < wl; k++) {
                    buf[k] = pattern(~s, k);
                }
                assertEquals(wl, chain.write(0, buf, 0, wl));
                dev.pushUsed(id, wl);
                popped++;
                if (popped == 1 && rnd.nextBoolean()) {
                    // Publish the first one alone: the driver harvested everything before, so it wants a call.
                    dev.publishUsed();
                    assertTrue(dev.needsNotification(), "driver armed interrupts for the next used buffer");
                    interrupts++;
                    half = 1;
                }
            }
            assertFalse(dev.isBroken(), dev::brokenReason);
            dev.publishUsed();
            boolean notify = dev.needsNotification();
            if (popped == 0) {
                assertFalse(notify, "nothing published");
            } else if (half < 0) {
                assertTrue(notify);
                interrupts++;
            } else if (popped > 1) {
                // The driver has not harvested since the first call: with EVENT_IDX it is not asked again.
                assertEquals(!eventIdx, notify);
            }
            assertFalse(dev.enableNotification(), "nothing new arrived");

            // Driver: harvest all and verify what the device wrote.
            int id;
            int harvested = 0;
            while ((id = drv.pollUsed()) != DriverQueue.NONE) {
                assertEquals(writableOf[id], drv.usedLength());
                harvested++;
                done++;
            }
            assertEquals(popped, harvested);
            assertFalse(drv.isBroken(), drv::brokenReason);
            assertEquals(0, drv.inFlight());
            assertEquals(size, drv.freeDescriptors());
            assertFalse(drv.enableInterrupts());
        }
        assertEquals(drv.availIndex(), dev.lastAvailIndex());
        assertEquals(dev.lastAvailIndex(), dev.usedIndex());
        if (!packed) {
            assertEquals((int) (seq & 0xffff), dev.lastAvailIndex());
        }
        assertTrue(seq > 65536);
        assertTrue(kicks > 0 && interrupts > 0);
    }

    /** Writable data written by the device is what the driver reads back, through the other mapping. */
    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void writableDataCrossesMappings(boolean packed) {
        RingLayout l = packed ? RingLayout.packed(GPA, 16, 4) : RingLayout.split(GPA, 16, 4);
        DriverQueue drv = DriverQueue.create(driverMem, l, INDIRECT);
        DeviceQueue dev = device(l, INDIRECT, deviceMem);
        byte[] hdr = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        driverMem.write(DATA, hdr, 0, hdr.length);
        int id = drv.addIndirect(new long[] {DATA, DATA + 0x100, DATA + 0x200, DATA + 0x300},
            new int[] {12, 5, 7, 100}, 1, 3);
        drv.publish();
        DescriptorChain c = new DescriptorChain();
        assertTrue(dev.pop(c));
        assertTrue(c.isIndirect());
        assertEquals(1, c.descriptorCount());
        assertEquals(12, c.readableBytes());
        assertEquals(112, c.writableBytes());
        assertEquals(1, c.readableSegmentCount());
        assertEquals(3, c.writableSegmentCount());
        UnsafeBuffer ub = new UnsafeBuffer(new byte[64]);
        assertEquals(10, c.read(2, ub, 3, 10));
        assertEquals(3, ub.getByte(3));
        assertEquals(12, ub.getByte(12));
        assertEquals(0, c.read(12, ub, 0, 5));
        byte[] frame = new byte[20];
        for (int i = 0; i < frame.length; i++) {
            frame[i] = (byte) (100 + i);
        }
        // 20 bytes at writable offset 3: 2 in the first segment (5 long), 7 in the second, 11 in the third.
        assertEquals(20, c.write(3, frame, 0, 20));
        assertEquals(9, c.write(103, new UnsafeBuffer(frame), 0, 20)); // clamped at the end
        dev.pushUsed(c.head(), 112);
        dev.publishUsed();
        assertEquals(id, drv.pollUsed());
        assertEquals(112, drv.usedLength());
        byte[] got = new byte[7];
        driverMem.read(DATA + 0x100 + 3, got, 0, 2);
        assertEquals(100, got[0]);
        assertEquals(101, got[1]);
        driverMem.read(DATA + 0x200, got, 0, 7);
        assertEquals(102, got[0]);
        assertEquals(108, got[6]);
        assertEquals(109, driverMem.getU8(DATA + 0x300));
        assertEquals(119, driverMem.getU8(DATA + 0x300 + 10));
        assertEquals(100, driverMem.getU8(DATA + 0x300 + 91));
        assertEquals(108, driverMem.getU8(DATA + 0x300 + 99));
    }

    /** Guest-to-guest copy between two chains, each with segments of different sizes. */
    @Test
    void chainToChainCopy() {
        RingLayout l = RingLayout.split(GPA, 8);
        DriverQueue drv = DriverQueue.create(driverMem, l, 0);
        DeviceQueue dev = device(l, 0, deviceMem);
        for (int i = 0; i < 50; i++) {
            driverMem.putU8(DATA + i, i);
        }
        drv.add(new long[] {DATA, DATA + 13}, new int[] {13, 37}, 2, 0);
        drv.add(new long[] {DATA + 0x1000, DATA + 0x2000, DATA + 0x3000}, new int[] {4, 6, 100}, 0, 3);
        drv.publish();
        DescriptorChain tx = new DescriptorChain();
        DescriptorChain rx = new DescriptorChain();
        assertTrue(dev.pop(tx));
        assertTrue(dev.pop(rx));
        assertEquals(45, DescriptorChain.copy(tx, 5, rx, 2, 1000));
        assertEquals(5, driverMem.getU8(DATA + 0x1000 + 2));
        assertEquals(6, driverMem.getU8(DATA + 0x1000 + 3));
        assertEquals(7, driverMem.getU8(DATA + 0x2000));
        assertEquals(12, driverMem.getU8(DATA + 0x2000 + 5));
        assertEquals(13, driverMem.getU8(DATA + 0x3000));
        assertEquals(49, driverMem.getU8(DATA + 0x3000 + 49 - 13));
        assertEquals(0, driverMem.getU8(DATA + 0x3000 + 37));
    }

    /**
     * Reading a burst ahead takes nothing, changes nothing and breaks nothing, even over a garbage head: the pops
     * after it see the same chains, and only the pop of the garbage head breaks the queue.
     */
    @Test
    void prefetchReadsAheadWithoutTakingOrBreaking() {
        RingLayout l = RingLayout.split(GPA, 8);
        DriverQueue drv = DriverQueue.create(driverMem, l, 0);
        DeviceQueue dev = device(l, 0, deviceMem);
        dev.prefetch(8); // nothing available yet
        int first = drv.add(new long[] {DATA}, new int[] {100}, 1, 0);
        int second = drv.add(new long[] {DATA + 0x100}, new int[] {200}, 0, 1);
        drv.publish();
        // A third entry naming head 8 of an 8-entry table, made available by hand after the two.
        driverMem.putU16(l.driverArea() + AvailRing.RING + 2L * 2, 8);
        driverMem.putU16(l.driverArea() + AvailRing.IDX, 3);
        int before = dev.lastAvailIndex();
        dev.prefetch(64);
        assertFalse(dev.isBroken(), dev::brokenReason);
        assertEquals(before, dev.lastAvailIndex());
        DescriptorChain c = new DescriptorChain();
        assertTrue(dev.pop(c));
        assertEquals(first, c.head());
        assertEquals(100, c.readableBytes());
        dev.prefetch(1);
        assertTrue(dev.pop(c));
        assertEquals(second, c.head());
        assertEquals(200, c.writableBytes());
        assertFalse(dev.isBroken(), dev::brokenReason);
        assertFalse(dev.pop(c));
        assertTrue(dev.isBroken());
        assertTrue(dev.brokenReason().contains("head index 8"), dev.brokenReason());
        dev.prefetch(4); // on a broken queue: nothing
    }

    /**
     * Taking a receive buffer over for writing stores a zero at byte 0 and at byte 12 of a one-descriptor writable
     * chain, and nowhere else: not in readable, chained or too short buffers.
     */
    @Test
    void touchForWriteStoresTwoZerosPerWritableBufferAndNothingElse() {
        RingLayout l = RingLayout.split(GPA, 16);
        DriverQueue drv = DriverQueue.create(driverMem, l, 0);
        DeviceQueue dev = device(l, 0, deviceMem);
        driverMem.fill(DATA, 16 * 0x100, (byte) 0xAA);
        int a = drv.add(DATA, 100, true); // touched: bytes 0 and 12
        int b = drv.add(DATA + 0x100, 100, false); // readable: untouched
        int c = drv.add(new long[] {DATA + 0x200, DATA + 0x300}, new int[] {50, 50}, 0, 2); // chained: untouched
        int d = drv.add(DATA + 0x400, 12, true); // no byte 12: untouched
        int e = drv.add(DATA + 0x500, 13, true); // touched
        drv.publish();
        DescriptorChain chain = new DescriptorChain();
        for (int head : new int[] {a, b, c, d, e}) {
            assertTrue(dev.pop(chain));
            assertEquals(head, chain.head());
            chain.touchForWrite(12);
        }
        assertFalse(dev.isBroken(), dev::brokenReason);
        for (int i = 0; i < 16 * 0x100; i++) {
            long at = DATA + i;
            boolean zeroed = at == DATA || at == DATA + 12 || at == DATA + 0x500 || at == DATA + 0x500 + 12;
            assertEquals(zeroed ? 0 : 0xAA, driverMem.getU8(at), "byte 0x" + Integer.toHexString(i));
        }
        chain.clear();
        chain.touchForWrite(12); // an empty chain: nothing
    }

    /**
     * Taking the used ring over for writing stores only into elements not pushed yet, for no more chains than are
     * available: the index, the published elements and the avail_event field keep their bytes, and the pushes after
     * it are what the driver reads.
     */
    @Test
    void prefetchUsedForWriteLeavesWhatTheDriverMayReadAlone() {
        RingLayout l = RingLayout.split(GPA, 16);
        long features = EVENT_IDX;
        DriverQueue drv = DriverQueue.create(driverMem, l, features);
        DeviceQueue dev = device(l, features, deviceMem);
        DescriptorChain chain = new DescriptorChain();
        for (int round = 0; round < 3; round++) { // the third round wraps the ring
            int[] heads = new int[7];
            for (int i = 0; i < heads.length; i++) {
                heads[i] = drv.add(DATA + 0x100L * i, 100, true);
            }
            drv.publish();
            long used = l.deviceArea();
            int usedBytes = (int) UsedRing.sizeOf(16);
            driverMem.fill(used + UsedRing.RING + 8L * 16, 2, (byte) 0x5A); // avail_event: a known value
            byte[] was = new byte[usedBytes];
            driverMem.read(used, was, 0, usedBytes);
            int pushed = dev.usedIndex();
            dev.prefetch(16);
            dev.prefetchUsedForWrite(64); // more than are available: only as many as are
            byte[] now = new byte[usedBytes];
            driverMem.read(used, now, 0, usedBytes);
            for (int i = 0; i < usedBytes; i++) {
                int slot = (i - UsedRing.RING) / 8;
                boolean free = i >= UsedRing.RING && slot < 16 && ((slot - pushed) & 15) < heads.length;
                if (!free) {
                    assertEquals(was[i], now[i], "used ring byte " + i + " in round " + round);
                }
            }
            for (int h : heads) {
                assertTrue(dev.pop(chain));
                dev.pushUsed(chain.head(), 40);
            }
            dev.publishUsed();
            for (int h : heads) {
                assertTrue(drv.hasUsed());
                assertEquals(h, drv.pollUsed());
                assertEquals(40, drv.usedLength());
            }
        }
    }

    /**
     * One buffer each side (a small frame): the copy takes its one-segment path, the in-place address the data path
     * writes a receive header at exists exactly while the bytes lie in the writable part's first segment, and a
     * touch reads only inside the readable part's first segment.
     */
    @Test
    void singleBufferChainsCopyAndGiveInPlaceAddresses() {
        RingLayout l = RingLayout.split(GPA, 8);
        DriverQueue drv = DriverQueue.create(driverMem, l, 0);
        DeviceQueue dev = device(l, 0, deviceMem);
        for (int i = 0; i < 76; i++) {
            driverMem.putU8(DATA + i, i);
        }
        drv.add(new long[] {DATA}, new int[] {76}, 1, 0);
        drv.add(new long[] {DATA + 0x1000}, new int[] {2048}, 0, 1);
        drv.add(new long[] {DATA + 0x2000, DATA + 0x3000}, new int[] {8, 100}, 1, 1); // readable 8, writable 100
        drv.publish();
        DescriptorChain tx = new DescriptorChain();
        DescriptorChain rx = new DescriptorChain();
        DescriptorChain both = new DescriptorChain();
        assertTrue(dev.pop(tx));
        assertTrue(dev.pop(rx));
        assertTrue(dev.pop(both));
        assertEquals(64, DescriptorChain.copy(tx, 12, rx, 12, 64));
        for (int i = 0; i < 64; i++) {
            assertEquals(12 + i, driverMem.getU8(DATA + 0x1000 + 12 + i));
        }
        assertEquals(0, driverMem.getU8(DATA + 0x1000 + 12 + 64), "nothing past the frame");
        assertEquals(64, DescriptorChain.copy(tx, 12, both, 0, 64), "into the writable part, after its readable one");
        assertEquals(12, driverMem.getU8(DATA + 0x3000));
        assertEquals(75, driverMem.getU8(DATA + 0x3000 + 63));
        assertEquals(64, DescriptorChain.copy(tx, 0, both, 36, 1000), "clamped by the destination");

        assertEquals(0 + 12, tx.touch(12), "bytes 0 and 12 of the readable part");
        assertEquals(0, tx.touch(76), "byte 0 only: 76 is past the segment");
        assertEquals(0, rx.touch(12), "no readable part");
        driverMem.putU8(DATA + 0x2000, 5);
        driverMem.putU8(DATA + 0x2000 + 7, 9);
        assertEquals(5 + 9, both.touch(7));
        assertEquals(5, both.touch(8), "byte 0 only: the readable segment holds 8 bytes");
        assertEquals(GuestMemory.NO_ADDRESS, tx.writableAddress(0, 1), "no writable part");
        assertEquals(deviceMem.hostAddress(DATA + 0x1000, 12), rx.writableAddress(0, 12));
        assertEquals(deviceMem.hostAddress(DATA + 0x1000 + 2036, 12), rx.writableAddress(2036, 12));
        assertEquals(GuestMemory.NO_ADDRESS, rx.writableAddress(2037, 12), "past the buffer");
        assertEquals(deviceMem.hostAddress(DATA + 0x3000, 12), both.writableAddress(0, 12), "after the readable part");
        assertEquals(GuestMemory.NO_ADDRESS, rx.writableAddress(-1, 4));
        assertEquals(GuestMemory.NO_ADDRESS, rx.writableAddress(0, -1));
    }

    /** Flag-based suppression without EVENT_IDX, and the enable/poll race helpers. */
    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void flagSuppression(boolean packed) {
        RingLayout l = packed ? RingLayout.packed(GPA, 8) : RingLayout.split(GPA, 8);
        DriverQueue drv = DriverQueue.create(driverMem, l, 0);
        DeviceQueue dev = device(l, 0, deviceMem);
        DescriptorChain c = new DescriptorChain();
        dev.disableNotification();
        drv.add(DATA, 10, false);
        assertFalse(drv.shouldKick(), "device disabled kicks");
        assertTrue(dev.enableNotification(), "a buffer arrived while disabled");
        drv.add(DATA, 10, false);
        assertTrue(drv.shouldKick());
        assertFalse(drv.shouldKick(), "nothing new");
        assertTrue(dev.pop(c));
        drv.disableInterrupts();
        dev.pushUsed(c.head(), 0);
        dev.publishUsed();
        assertFalse(dev.needsNotification(), "driver disabled interrupts");
        assertTrue(drv.enableInterrupts(), "a used buffer is pending");
        assertTrue(dev.pop(c));
        dev.pushUsed(c.head(), 0);
        dev.publishUsed();
        assertTrue(dev.needsNotification());
        assertFalse(dev.needsNotification(), "nothing new published");
        assertNotEquals(DriverQueue.NONE, drv.pollUsed());
        assertNotEquals(DriverQueue.NONE, drv.pollUsed());
        assertEquals(DriverQueue.NONE, drv.pollUsed());
    }

    /** EVENT_IDX: used_event / avail_event set further ahead delay the notification until that index is passed. */
    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void eventIndexAhead(boolean packed) {
        int n = 8;
        RingLayout l = packed ? RingLayout.packed(GPA, n) : RingLayout.split(GPA, n);
        DriverQueue drv = DriverQueue.create(driverMem, l, EVENT_IDX);
        DeviceQueue dev = device(l, EVENT_IDX, deviceMem);
        DescriptorChain c = new DescriptorChain();
        for (int i = 0; i < 6; i++) {
            drv.add(DATA + i, 1, true);
        }
        drv.publish();
        // Driver: "call me when used index passes 3" (split used_event = 3; packed off_wrap = 3 | wrap 1).
        if (packed) {
            driverMem.putU16(l.driverArea(), 3 | 0x8000);
            driverMem.putU16(l.driverArea() + 2, EventSuppression.FLAGS_DESC);
        } else {
            driverMem.putU16(l.driverArea() + AvailRing.usedEventOffset(n), 3);
        }
        boolean[] expected = {false, false, false, true, false, false};
        for (int i = 0; i < 6; i++) {
            assertTrue(dev.pop(c));
            dev.pushUsed(c.head(), 1);
            dev.publishUsed();
            assertEquals(expected[i], dev.needsNotification(), "after used #" + i);
        }
        // Device: "kick me when avail index passes 8" (one full lap ahead for packed: offset 0, wrap 0).
        if (packed) {
            deviceMem.putU16(l.deviceArea(), 0);
            deviceMem.putU16(l.deviceArea() + 2, EventSuppression.FLAGS_DESC);
        } else {
            deviceMem.putU16(l.deviceArea() + UsedRing.availEventOffset(n), 8);
        }
        while (drv.pollUsed() != DriverQueue.NONE) {
            // harvest
        }
        // avail index is 6: adding #6 and #7 passes nothing, #8 (at 8) does.
        drv.add(DATA, 1, true);
        assertFalse(drv.shouldKick());
        drv.add(DATA, 1, true);
        assertFalse(drv.shouldKick());
        drv.add(DATA, 1, true);
        assertTrue(drv.shouldKick());
        drv.add(DATA, 1, true);
        assertFalse(drv.shouldKick());
    }

    /** Driver and device in two threads, spinning, each on its own mapping. */
    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void twoThreads(boolean packed) throws Exception {
        int n = 16;
        int total = 100_000;
        RingLayout l = packed ? RingLayout.packed(GPA, n) : RingLayout.split(GPA, n);
        DriverQueue drv = DriverQueue.create(driverMem, l, EVENT_IDX);
        DeviceQueue dev = device(l, EVENT_IDX, deviceMem);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long deadline = System.nanoTime() + 30_000_000_000L;
        Thread device = new Thread(() -> {
            try {
                DescriptorChain c = new DescriptorChain();
                byte[] b = new byte[8];
                int seen = 0;
                while (seen < total && System.nanoTime() < deadline) {
                    if (!dev.pop(c)) {
                        if (dev.isBroken()) {
                            throw new AssertionError(dev.brokenReason());
                        }
                        Thread.onSpinWait();
                        continue;
                    }
                    c.read(0, b, 0, 4);
                    int v = (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
                    if (v != seen) {
                        throw new AssertionError("expected " + seen + " got " + v);
                    }
                    v = ~v;
                    b[0] = (byte) v;
                    b[1] = (byte) (v >> 8);
                    b[2] = (byte) (v >> 16);
                    b[3] = (byte) (v >> 24);
                    c.write(0, b, 0, 4);
                    dev.pushUsed(c.head(), 4);
                    dev.publishUsed();
                    dev.needsNotification();
                    seen++;
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "device");
        device.start();
        int sent = 0;
        int received = 0;
        long[] slotOf = new long[n];
        int[] seqOf = new int[n];
        while (received < total && failure.get() == null && System.nanoTime() < deadline) {
            while (sent < total && drv.freeDescriptors() >= 2) {
                long slot = DATA + (sent % (2 * n)) * 16L;
                driverMem.putI32(slot, sent);
                int id = drv.add(new long[] {slot, slot + 8}, new int[] {4, 4}, 1, 1);
                slotOf[id] = slot;
                seqOf[id] = sent;
                sent++;
            }
            drv.shouldKick();
            int id = drv.pollUsed();
            if (id == DriverQueue.NONE) {
                Thread.onSpinWait();
                continue;
            }
            assertEquals(4, drv.usedLength());
            assertEquals(~seqOf[id], driverMem.getI32(slotOf[id] + 8));
            received++;
        }
        device.join(30_000);
        assertNull(failure.get(), () -> String.valueOf(failure.get()));
        assertEquals(total, received);
        assertFalse(drv.isBroken(), drv::brokenReason);
        assertFalse(dev.isBroken(), dev::brokenReason);
    }
}
