package vnet.virtqueue.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

import org.agrona.BufferUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A load of guest memory whose file was cut short faults (SIGBUS); compiled, HotSpot skips the load and raises the
 * error later. What the load returned meanwhile must still lie in its type's range, or an index derived from it
 * escapes its bounds (see Mem's masks). The loads are compiled first, then read the cut-off page.
 */
class MemFaultTest {
    private static final int PAGE = 4096;
    /** Widened, as an index into a ring is: the register's upper half is where a skipped load leaves garbage. */
    private static volatile long u16;
    private static volatile long u8;

    @TempDir
    Path dir;

    private static void load(long address) {
        u16 = Mem.getU16(address);
        u8 = Mem.getU8(address);
        u16 = Mem.getU16Acquire(address) | u16;
    }

    @Test
    void aFaultingLoadStillGivesAValueInRange() throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("cut").toFile(), "rw")) {
            f.setLength(2 * PAGE);
            MappedByteBuffer m = f.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 2 * PAGE);
            long base = BufferUtil.address(m);
            for (int i = 0; i < 50_000; i++) {
                load(base + PAGE + (i & 1023) * 2);
            }
            f.setLength(PAGE);
            int faults = 0;
            int outOfRange = 0;
            long example = 0;
            int i = 0;
            while (i < 200) {
                try { // around the loop: the error surfaces at some later point of the thread, a back-edge included
                    while (i < 200) {
                        load(base + PAGE + 2 * i++);
                        long a = u16;
                        long b = u8;
                        if (a < 0 || a > 0xffff || b < 0 || b > 0xff) {
                            outOfRange++;
                            example = a;
                        }
                    }
                } catch (InternalError e) {
                    faults++;
                }
            }
            try {
                Thread.sleep(1); // a native call: where a fault not raised yet surfaces
            } catch (InternalError e) {
                faults++;
            }
            assertTrue(faults > 0, "the cut-off page faulted");
            assertEquals(0, outOfRange, "loads gave values out of range, e.g. 0x" + Long.toHexString(example));
            m.clear(); // the mapping goes with the buffer
        }
    }
}
