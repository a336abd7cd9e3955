package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemfdMmapTest {

    @Test
    void twoMappingsOfOneMemfdSeeEachOthersWrites() throws Exception {
        try (Fd memfd = Memfd.create("vnet-test", 1 << 20);
             Mapping a = Mman.mapShared(memfd, 0, 1 << 20);
             Mapping b = Mman.mapShared(memfd, 0, 1 << 20)) {
            assertTrue(a.address() != b.address(), "two distinct mappings");
            a.byteBuffer(4096, 8).putLong(0, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, b.byteBuffer(4096, 8).getLong(0));
            b.byteBuffer((1 << 20) - 1, 1).put(0, (byte) 0x5a);
            assertEquals(0x5a, a.byteBuffer((1 << 20) - 1, 1).get(0));
        }
    }

    @Test
    void mappingWithAnOffsetStartsThere() throws Exception {
        long page = Mman.pageSize();
        try (Fd memfd = Memfd.create("vnet-offset", 16 * page);
             Mapping whole = Mman.mapShared(memfd, 0, 16 * page);
             Mapping paged = Mman.mapShared(memfd, 3 * page, 2 * page);
             Mapping unaligned = Mman.mapShared(memfd, 3 * page + 100, 64)) {
            whole.byteBuffer(3 * page + 100, 4).putInt(0, 0xcafebabe);
            assertEquals(0xcafebabe, paged.byteBuffer(100, 4).getInt(0));
            assertEquals(0xcafebabe, unaligned.byteBuffer(0, 4).getInt(0), "address is the requested offset");
            assertEquals(64, unaligned.length());
        }
    }

    @Test
    void regionsLargerThan2GiB() throws Exception {
        long size = 3L << 30; // sparse: only touched pages take memory
        long far = (5L << 29) + 12; // 2.5 GiB + 12
        try (Fd memfd = Memfd.create("vnet-big", size);
             Mapping all = Mman.mapShared(memfd, 0, size);
             Mapping tail = Mman.mapShared(memfd, 2L << 30, 1L << 30)) {
            assertEquals(size, all.length());
            assertEquals(size, Fstat.of(memfd).size());
            all.byteBuffer(far, 8).putLong(0, -7L);
            assertEquals(-7L, tail.byteBuffer(far - (2L << 30), 8).getLong(0));
        }
    }

    @Test
    void closeIsIdempotent() throws Exception {
        Fd memfd = Memfd.create("vnet-close", 4096);
        Mapping m = Mman.mapShared(memfd, 0, 4096);
        m.close();
        m.close();
        assertFalse(m.isMapped());
        assertThrows(IllegalStateException.class, () -> m.byteBuffer(0, 1));
        memfd.close();
        memfd.close();
        assertFalse(memfd.isOpen());
        assertThrows(IllegalStateException.class, memfd::fd);
    }

    @Test
    void mmapOfABadDescriptorIsEbadf() {
        LinuxException e = assertThrows(LinuxException.class, () -> Mman.mapShared(Fd.adopt(987_654), 0, 4096));
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("EBADF", e.errnoName());
        assertEquals("mmap", e.call());
        assertTrue(e.getMessage().startsWith("mmap: EBADF (Bad file descriptor)"), e.getMessage());
    }

    @Test
    void writableSharedMappingOfAReadOnlyDescriptorIsEacces(@TempDir Path dir) throws Exception {
        Path file = java.nio.file.Files.write(dir.resolve("data"), new byte[4096]);
        try (Fd readOnly = Files.open(file, Files.O_RDONLY)) {
            LinuxException e = assertThrows(LinuxException.class, () -> Mman.mapShared(readOnly, 0, 4096));
            assertEquals("EACCES", e.errnoName());
            try (Mapping m = Mman.mmap(readOnly, 0, 4096, Mman.PROT_READ, Mman.MAP_SHARED)) {
                assertEquals(0, m.byteBuffer(0, 4096).get(4095));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Mman.mapShared(Fd.adopt(987_654), 0, 0));
    }

    @Test
    void dupSharesTheFile() throws Exception {
        try (Fd memfd = Memfd.create("vnet-dup", 4096); Fd copy = memfd.dup()) {
            assertTrue(copy.fd() != memfd.fd());
            try (Mapping a = Mman.mapShared(memfd, 0, 4096); Mapping b = Mman.mapShared(copy, 0, 4096)) {
                ByteBuffer buffer = a.byteBuffer(0, 4096);
                buffer.put(10, (byte) 42);
                assertEquals(42, b.byteBuffer(10, 1).get(0));
            }
        }
    }
}
