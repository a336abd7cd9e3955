package vnet.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import org.junit.jupiter.api.Test;

import vnet.linux.Fd;
import vnet.linux.Memfd;

/**
 * QEMU's multiqueue NIC sends ADD_MEM_REG and REM_MEM_REG once per queue pair for the same memory: an identical
 * repeat counts as a reference, anything else that overlaps is still refused.
 */
class DataspaceRegistryDuplicateTest {
    private static final long MIB = 1 << 20;

    @Test
    void identicalRepeatIsOneDataspaceWithTwoReferences() throws Exception {
        try (Fd mem = Memfd.create("vnet-dup", 2 * MIB); DataspaceRegistry r = new DataspaceRegistry(1, Set.of())) {
            Dataspace first = r.register(mem.dup(), 0, 2 * MIB, 0x7f00_0000_0000L, 0);
            Dataspace again = r.register(mem.dup(), 0, 2 * MIB, 0x7f00_0000_0000L, 0); // ds-max=1 is not exceeded
            assertSame(first, again);
            assertEquals(1, r.count());
            try (Fd other = Memfd.create("vnet-other", 2 * MIB)) {
                assertThrows(DataspaceException.class, () -> r.register(other.dup(), 0, 2 * MIB, 0x7f00_0000_0000L, 0),
                        "the same geometry in another file is an overlap");
            }
            assertThrows(DataspaceException.class, () -> r.register(mem.dup(), 0, MIB, 0x7f00_0000_0000L, 0),
                    "a different size is an overlap");
            assertTrue(r.releaseDuplicate(0, 2 * MIB));
            assertFalse(r.releaseDuplicate(0, 2 * MIB), "one reference left: the region itself");
            Dataspace removed = r.remove(0, 2 * MIB);
            assertNotNull(removed);
            removed.close();
            assertNull(r.remove(0, 2 * MIB));
        }
    }
}
