package vnet.virtqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The device side's control plane as a vhost-user back-end drives it: activation checks, user address translation,
 * GET/SET_VRING_BASE (with the packed wrap counter in bit 15) across a reconnect, rewind, memory snapshots swapped
 * at run time, and the broken state.
 */
class DeviceQueueControlTest {
    private static final long GPA = 0x2_0000_0000L;
    private static final long UVA = 0x7f12_3400_0000L;
    private final ByteBuffer raw = ByteBuffer.allocateDirect(1 << 20);
    private final GuestMemory mem = GuestMemory.of(MemoryRegion.ofBuffer(GPA, raw, UVA));
    private final DescriptorChain chain = new DescriptorChain();

    private static DeviceQueue device(boolean packed, int n, GuestMemory m, RingLayout l) {
        DeviceQueue q = packed ? DeviceQueue.packed() : DeviceQueue.split();
        q.setSize(n);
        q.setMemory(m);
        q.setRingAddresses(l.descTable(), l.driverArea(), l.deviceArea());
        return q;
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void activationChecksRingAddresses(boolean packed) {
        RingLayout l = packed ? RingLayout.packed(GPA, 8) : RingLayout.split(GPA, 8);
        DeviceQueue q = packed ? DeviceQueue.packed() : DeviceQueue.split();
        assertFalse(q.activate());
        assertEquals("queue size not set", q.brokenReason());
        q.reset();
        q.setSize(8);
        q.setMemory(mem);
        q.setRingAddresses(l.descTable() + 8, l.driverArea(), l.deviceArea()); // misaligned descriptor area
        assertFalse(q.activate());
        assertTrue(q.isBroken());
        q.reset();
        q.setRingAddresses(l.descTable(), GPA + (1 << 20) - 2, l.deviceArea()); // driver area leaves the region
        assertFalse(q.activate());
        q.reset();
        q.setRingAddresses(l.descTable(), l.driverArea(), GPA - 0x1000); // device area below memory
        assertFalse(q.activate());
        q.reset();
        assertFalse(q.isBroken());
        assertNull(q.brokenReason());
        // vhost-user hands over front-end user addresses
        long uDesc = UVA + (l.descTable() - GPA);
        long uDriver = UVA + (l.driverArea() - GPA);
        long uDevice = UVA + (l.deviceArea() - GPA);
        q.setRingAddresses(mem.translateUserAddress(uDesc), mem.translateUserAddress(uDriver),
            mem.translateUserAddress(uDevice));
        assertTrue(q.activate());
        assertTrue(q.isActive());
        q.deactivate();
        assertFalse(q.isActive());
        assertFalse(q.pop(chain));
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void vringBaseSurvivesReconnect(boolean packed) {
        int n = 4;
        RingLayout l = packed ? RingLayout.packed(GPA, n) : RingLayout.split(GPA, n);
        DriverQueue drv = DriverQueue.create(mem, l, 0);
        DeviceQueue q = device(packed, n, mem, l);
        assertTrue(q.activate());
        long data = GPA + 0x80000;
        for (int i = 0; i < 6; i++) {
            drv.add(data, 16, true);
            drv.publish();
            assertTrue(q.pop(chain));
            q.pushUsed(chain.head(), 16);
            q.publishUsed();
            assertTrue(drv.pollUsed() >= 0);
        }
        int base = q.lastAvailIndex(); // GET_VRING_BASE
        assertEquals(packed ? 2 : 6, base); // packed: offset 2 after 1.5 laps, wrap counter 0 in bit 15
        q.deactivate();

        DeviceQueue again = device(packed, n, mem, l); // the back-end reconnects
        again.setLastAvailIndex(base); // SET_VRING_BASE
        assertTrue(again.activate());
        assertEquals(base, again.usedIndex());
        for (int i = 0; i < 7; i++) {
            drv.add(data, 16, false);
            drv.publish();
            assertTrue(again.pop(chain), again::toString);
            again.pushUsed(chain.head(), 0);
            again.publishUsed();
            assertTrue(drv.pollUsed() >= 0);
        }
        assertEquals(drv.availIndex(), again.lastAvailIndex());
        if (packed) {
            assertThrows(IllegalArgumentException.class, () -> again.setLastAvailIndex(0x8000 | n));
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void rewindGivesChainsBack(boolean packed) {
        RingLayout l = packed ? RingLayout.packed(GPA, 8) : RingLayout.split(GPA, 8);
        DriverQueue drv = DriverQueue.create(mem, l, 0);
        DeviceQueue q = device(packed, 8, mem, l);
        assertTrue(q.activate());
        long data = GPA + 0x80000;
        int[] ids = new int[3];
        for (int i = 0; i < 3; i++) {
            ids[i] = drv.add(new long[] {data, data + 64}, new int[] {64, 64}, 0, 2);
        }
        drv.publish();
        int saved = q.lastAvailIndex();
        assertTrue(q.pop(chain));
        assertTrue(q.pop(chain));
        q.rewind(saved); // not enough buffers for a mergeable frame: give them back
        for (int i = 0; i < 3; i++) {
            assertTrue(q.pop(chain));
            assertEquals(ids[i], chain.head());
        }
        assertFalse(q.pop(chain));
        assertFalse(q.isBroken());
    }

    @ParameterizedTest(name = "packed={0}")
    @CsvSource({"false", "true"})
    void memorySnapshotsSwapAtRunTime(boolean packed) {
        RingLayout l = packed ? RingLayout.packed(GPA, 8) : RingLayout.split(GPA, 8);
        DriverQueue drv = DriverQueue.create(mem, l, 0);
        DeviceQueue q = device(packed, 8, mem, l);
        assertTrue(q.activate());
        ByteBuffer hot = ByteBuffer.allocateDirect(4096);
        long hotGpa = 0x9_0000_0000L;
        GuestMemory grown = mem.withRegion(MemoryRegion.ofBuffer(hotGpa, hot)); // hot-added memory
        DriverQueue drvGrown = drv;
        q.setMemory(grown);
        assertTrue(q.isActive());
        drvGrown.add(hotGpa + 100, 10, true);
        drvGrown.publish();
        assertTrue(q.pop(chain));
        assertEquals(1, chain.write(0, new byte[] {42}, 0, 1));
        assertEquals(42, hot.get(100));
        q.pushUsed(chain.head(), 1);
        q.publishUsed();
        assertTrue(drv.pollUsed() >= 0);

        q.setMemory(mem); // the region is removed again: a buffer there now breaks the queue
        drv.add(hotGpa + 100, 10, true);
        drv.publish();
        assertFalse(q.pop(chain));
        assertTrue(q.isBroken());
        assertNotNull(q.brokenReason());

        q.reset();
        q.setMemory(GuestMemory.of(MemoryRegion.ofBuffer(hotGpa, hot)));
        assertFalse(q.activate(), "rings no longer mapped");
        q.reset();
        q.setMemory(mem);
        assertTrue(q.activate());
        q.setMemory(GuestMemory.EMPTY); // swapping in memory without the rings breaks an active queue
        assertTrue(q.isBroken());
    }

    @Test
    void brokenQueueStopsAndNeverThrows() {
        RingLayout l = RingLayout.split(GPA, 8);
        DriverQueue drv = DriverQueue.create(mem, l, 0);
        DeviceQueue q = device(false, 8, mem, l);
        assertTrue(q.activate());
        drv.add(GPA + 0x80000, 8, true);
        drv.publish();
        q.pushUsed(8, 0); // a device bug: invalid id
        assertTrue(q.isBroken());
        assertFalse(q.pop(chain));
        assertFalse(q.hasAvailable());
        q.publishUsed();
        assertFalse(q.needsNotification());
        assertFalse(q.enableNotification());
        q.disableNotification();
        q.markBroken("other");
        assertEquals("device pushed invalid id 8", q.brokenReason());
        q.reset();
        assertTrue(q.activate());
        assertTrue(q.pop(chain));
    }
}
