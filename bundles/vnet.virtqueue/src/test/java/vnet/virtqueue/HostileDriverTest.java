package vnet.virtqueue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile drivers: over a million random and hand-made malicious chains, written directly into ring memory through
 * one mapping of a shared file while the device reads through another. For every chain an independent model
 * ({@link ChainOracle}) says whether it is acceptable; the device must agree (valid: popped with the same totals and
 * bytes; malformed: queue broken with a reason), must never throw, and must never touch a byte outside its regions:
 * guard areas around every region inside the file are checked. Two well-behaved queue pairs on the same memory keep
 * exchanging buffers throughout.
 *
 * <p>Memory: region A (3 MiB) and region B (64 KiB) are adjacent in guest physical space but separate in the file
 * (a buffer spanning them is valid and becomes two segments); region C (64 KiB) lies after a hole; region D holds the
 * healthy queues. The split hostile rings sit at the very end of B, the packed ones at the very end of C.
 */
class HostileDriverTest {
    private static final int GUARD = 4096;
    private static final long A = 0x10_0000L;
    private static final int A_SIZE = 3 << 20;
    private static final long B = A + A_SIZE;
    private static final int B_SIZE = 64 << 10;
    private static final long C = 0x1000_0000L;
    private static final int C_SIZE = 64 << 10;
    private static final long D = 0x4000_0000_0000L;
    private static final int D_SIZE = 256 << 10;
    private static final int OFF_A = GUARD;
    private static final int OFF_B = OFF_A + A_SIZE + GUARD;
    private static final int OFF_C = OFF_B + B_SIZE + GUARD;
    private static final int OFF_D = OFF_C + C_SIZE + GUARD;
    private static final int FILE_SIZE = OFF_D + D_SIZE + GUARD;
    private static final int[] GUARDS = {0, OFF_B - GUARD, OFF_C - GUARD, OFF_D - GUARD, OFF_D + D_SIZE};

    /** Small indirect tables (16 slots of 64 entries) and one big table (1025 entries) at the start of A. */
    private static final long TABLES = A;
    private static final long BIG_TABLE = A + 0x4000;
    private static final long DATA = A + 0x9000;
    private static final long DATA_END = A + A_SIZE;

    private static final int SPLIT_N = 16;
    private static final long SPLIT_USED = B + B_SIZE - 136;
    private static final long SPLIT_AVAIL = SPLIT_USED - 40;
    private static final long SPLIT_DESC = SPLIT_AVAIL - 256;
    private static final int PACKED_N = 12;
    private static final long PACKED_DEVICE_EVENT = C + C_SIZE - 4;
    private static final long PACKED_DRIVER_EVENT = C + C_SIZE - 8;
    private static final long PACKED_DESC = C + C_SIZE - 224;

    private static final long INDIRECT = 1L << VirtqueueFeatures.INDIRECT_DESC;
    private static final long EVENT_IDX = 1L << VirtqueueFeatures.EVENT_IDX;
    private static final int ITERATIONS = 500_000; // per ring type: 1,000,000 chains in all

    private SharedFile file;
    private GuestMemory drvMem;
    private GuestMemory devMem;
    private ChainOracle oracle;
    private Random rnd;
    private final DescriptorChain chain = new DescriptorChain();
    private final byte[] got = new byte[8192];
    private final byte[] want = new byte[8192];
    private final long[] addr = new long[2048];
    private final int[] len = new int[2048];
    private final boolean[] wr = new boolean[2048];
    private int elements;
    private final int[] stats = new int[3];
    private Healthy healthySplit;
    private Healthy healthyPacked;

    @BeforeEach
    void map() throws Exception {
        file = new SharedFile(FILE_SIZE);
        drvMem = memory(file.driverView);
        devMem = memory(file.deviceView);
        for (int g : GUARDS) {
            for (int i = 0; i < GUARD; i++) {
                file.driverView.put(g + i, canary(g + i));
            }
        }
        oracle = new ChainOracle(drvMem);
        healthySplit = new Healthy(false);
        healthyPacked = new Healthy(true);
    }

    @AfterEach
    void unmap() throws Exception {
        file.close();
    }

    private static GuestMemory memory(java.nio.MappedByteBuffer view) {
        return GuestMemory.of(SharedFile.region(view, A, OFF_A, A_SIZE), SharedFile.region(view, B, OFF_B, B_SIZE),
            SharedFile.region(view, C, OFF_C, C_SIZE), SharedFile.region(view, D, OFF_D, D_SIZE));
    }

    private static byte canary(int offset) {
        return (byte) (0xa5 ^ offset ^ (offset >>> 8));
    }

    private void checkCanaries() {
        ByteBuffer v = file.deviceView;
        for (int g : GUARDS) {
            for (int i = 0; i < GUARD; i++) {
                if (v.get(g + i) != canary(g + i)) {
                    fail("guard byte at file offset " + (g + i) + " changed");
                }
            }
        }
    }

    /** A well-behaved driver/device pair in region D; each round moves a few buffers and checks the data. */
    private final class Healthy {
        final DriverQueue drv;
        final DeviceQueue dev;
        final long data;
        final DescriptorChain c = new DescriptorChain();
        int round;

        Healthy(boolean packed) {
            long base = D + (packed ? 0x10000 : 0);
            RingLayout l = packed ? RingLayout.packed(base, 8, 4) : RingLayout.split(base, 8, 4);
            long f = INDIRECT | EVENT_IDX;
            drv = DriverQueue.create(drvMem, l, f);
            dev = packed ? DeviceQueue.packed() : DeviceQueue.split();
            dev.setSize(8);
            dev.setFeatures(f);
            dev.setMemory(devMem);
            dev.setRingAddresses(l.descTable(), l.driverArea(), l.deviceArea());
            assertTrue(dev.activate());
            data = base + 0x8000;
        }

        void exercise() {
            round++;
            for (int i = 0; i < 3; i++) {
                long a = data + i * 256L;
                drvMem.putI32(a, round * 3 + i);
                int id = i == 1 ? drv.addIndirect(new long[] {a, a + 128}, new int[] {4, 4}, 1, 1)
                    : drv.add(new long[] {a, a + 128}, new int[] {4, 4}, 1, 1);
                assertNotEquals(DriverQueue.NONE, id);
            }
            drv.shouldKick();
            for (int i = 0; i < 3; i++) {
                assertTrue(dev.pop(c), () -> "healthy queue stalled: " + dev.brokenReason());
                byte[] b = new byte[4];
                c.read(0, b, 0, 4);
                c.write(0, b, 0, 4);
                dev.pushUsed(c.head(), 4);
            }
            dev.publishUsed();
            dev.needsNotification();
            for (int i = 0; i < 3; i++) {
                int id = drv.pollUsed();
                assertNotEquals(DriverQueue.NONE, id, () -> "healthy driver: " + drv.brokenReason());
            }
            for (int i = 0; i < 3; i++) {
                long a = data + i * 256L;
                assertEquals(round * 3 + i, drvMem.getI32(a + 128));
            }
            assertFalse(dev.isBroken());
            assertFalse(drv.isBroken());
        }
    }

    // ---------------------------------------------------------------- elements

    /** A valid buffer element: mostly small, some at region edges, some spanning A and B, some zero-length. */
    private void validElement(int i, boolean writable) {
        int k = rnd.nextInt(20);
        long a;
        int l;
        if (k < 12) {
            l = 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 16384 : 512);
            a = DATA + (long) rnd.nextInt((int) (DATA_END - DATA - l));
        } else if (k < 14) {
            l = 1 + rnd.nextInt(512);
            a = A + A_SIZE - l; // ends exactly at A's end (B follows: still inside memory)
        } else if (k < 16) {
            int x = 1 + rnd.nextInt(512);
            a = B - x;
            l = x + 1 + rnd.nextInt(512); // spans A -> B
        } else if (k < 17) {
            l = 1 + rnd.nextInt(256);
            a = C; // starts exactly at C
        } else if (k < 18) {
            l = 1 + rnd.nextInt(64);
            a = C + C_SIZE - l; // ends exactly at C's end (over the packed rings)
        } else if (k < 19) {
            l = 0;
            a = rnd.nextLong(); // zero length: address ignored
        } else {
            l = 1 + rnd.nextInt(1024);
            a = B + rnd.nextInt(8192);
        }
        addr[i] = a;
        len[i] = l;
        wr[i] = writable;
    }

    /** An address/length pair that leaves memory: over an edge, in a hole, wrapping 2^64, or absurdly long. */
    private void badElement(int i) {
        int l = 1 + rnd.nextInt(64);
        long a;
        switch (rnd.nextInt(10)) {
            case 0: a = B + B_SIZE - l + 1; break; // one byte over B's end (a hole follows)
            case 1: a = C + C_SIZE; break; // exactly at C's end
            case 2: a = C - 1; l = 2; break; // starts in the hole before C
            case 3: a = A - 1; break; // just below A
            case 4: a = -16; l = 32; break; // wraps 2^64
            case 5: a = Long.MAX_VALUE - 7; l = 16; break;
            case 6: a = DATA; l = -1; break; // 4 GiB - 1
            case 7: a = DATA; l = A_SIZE; break; // runs past A and B
            case 8: a = rnd.nextLong(); break;
            default: a = C + C_SIZE - l + 1 + rnd.nextInt(l); break;
        }
        addr[i] = a;
        len[i] = l;
    }

    private void randomElements() {
        int r = rnd.nextInt(4);
        int w = rnd.nextInt(4);
        if (r + w == 0) {
            r = 1;
        }
        elements = r + w;
        for (int i = 0; i < elements; i++) {
            validElement(i, i >= r);
        }
    }

    private long interesting() {
        switch (rnd.nextInt(8)) {
            case 0: return 0;
            case 1: return -1;
            case 2: return A + A_SIZE;
            case 3: return C + C_SIZE - 1;
            case 4: return Long.MIN_VALUE;
            case 5: return rnd.nextInt(65536);
            case 6: return 0x7fffffff;
            default: return rnd.nextLong();
        }
    }

    /** Fuzzes one field of the 16-byte descriptor at {@code d}. */
    private void fuzzDescriptor(long d) {
        switch (rnd.nextInt(6)) {
            case 0: drvMem.putI64(d, drvMem.getI64(d) ^ (1L << rnd.nextInt(64))); break;
            case 1: drvMem.putI64(d, interesting()); break;
            case 2: drvMem.putI32(d + 8, (int) interesting()); break;
            case 3: drvMem.putI32(d + 8, drvMem.getI32(d + 8) ^ (1 << rnd.nextInt(32))); break;
            case 4: drvMem.putU16(d + 12 + 2 * rnd.nextInt(2), rnd.nextInt(65536)); break;
            default: {
                long f = d + 12 + 2 * rnd.nextInt(2);
                drvMem.putU16(f, drvMem.getU16(f) ^ (1 << rnd.nextInt(16)));
            }
        }
    }

    private static void putDesc(GuestMemory m, long d, long a, int l, int f, int next) {
        m.putI64(d, a);
        m.putI32(d + 8, l);
        m.putU16(d + 12, f);
        m.putU16(d + 14, next);
    }

    // ---------------------------------------------------------------- checks shared by both ring types

    private void checkPop(DeviceQueue dev, int expected, String what) {
        boolean popped;
        try {
            popped = dev.pop(chain);
        } catch (Throwable t) {
            throw new AssertionError("device threw on " + what + " (oracle: " + oracle.why + ")", t);
        }
        stats[expected]++;
        switch (expected) {
            case ChainOracle.NOTHING:
                assertFalse(popped, what);
                assertFalse(dev.isBroken(), () -> what + ": broken on nothing: " + dev.brokenReason());
                break;
            case ChainOracle.INVALID:
                assertFalse(popped, () -> what + ": malformed chain accepted (oracle: " + oracle.why + ") " + chain);
                assertTrue(dev.isBroken(), what);
                assertNotNull(dev.brokenReason());
                assertFalse(dev.pop(chain), "a broken queue pops nothing");
                break;
            default:
                assertTrue(popped, () -> what + ": valid chain refused: " + dev.brokenReason());
                assertFalse(dev.isBroken());
                assertEquals(oracle.head, chain.head(), what);
                assertEquals(oracle.readable, chain.readableBytes(), what);
                assertEquals(oracle.writable, chain.writableBytes(), what);
                checkData(what);
        }
    }

    /** The readable bytes the device sees are the driver's, and the device can fill its writable part. */
    private void checkData(String what) {
        int n = (int) Math.min(oracle.readable, got.length);
        assertEquals(n, chain.read(0, got, 0, n));
        int filled = 0;
        for (int s = 0; s < oracle.segments && filled < n; s++) {
            int take = (int) Math.min(n - filled, oracle.segLen[s]);
            if (oracle.segAddr[s] < D) {
                drvMem.read(oracle.segAddr[s], want, filled, take);
            }
            filled += take;
        }
        if (oracle.segments < ChainOracle.MAX_SEGMENTS && filled == n) {
            assertArrayEquals(java.util.Arrays.copyOf(want, n), java.util.Arrays.copyOf(got, n), what);
        }
        if (oracle.readable > got.length) {
            assertEquals(16, chain.read((int) oracle.readable - 16, got, 0, 64));
        }
        int w = (int) oracle.writable;
        byte v = (byte) rnd.nextInt();
        assertEquals(Math.min(w, 65536), chain.fill(0, Math.min(w, 65536), v));
        if (w > 65536) {
            assertEquals(16, chain.fill(w - 16, 64, v));
        }
    }

    // ---------------------------------------------------------------- split

    private DeviceQueue newSplit() {
        DeviceQueue q = DeviceQueue.split();
        q.setSize(SPLIT_N);
        q.setMemory(devMem);
        q.setRingAddresses(SPLIT_DESC, SPLIT_AVAIL, SPLIT_USED);
        return q;
    }

    private static void restart(DeviceQueue q, long features) {
        q.reset();
        q.setFeatures(features);
        assertTrue(q.activate(), q::brokenReason);
    }

    /** Writes one split chain (and its avail entry) for the elements, then applies a malicious variant. */
    private String writeSplit(int last, boolean indirectOk) {
        randomElements();
        int mask = SPLIT_N - 1;
        int[] idx = new int[SPLIT_N];
        for (int i = 0; i < SPLIT_N; i++) {
            idx[i] = i;
        }
        for (int i = SPLIT_N - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        boolean useIndirect = indirectOk && rnd.nextInt(3) == 0;
        int direct = useIndirect ? rnd.nextInt(Math.min(3, elements)) : elements;
        int inTable = elements - direct;
        if (inTable == 0) {
            useIndirect = false;
        }
        String what = "split";
        int variant = rnd.nextInt(2) == 0 ? -1 : rnd.nextInt(16);
        if (variant == 0 && !useIndirect && elements < SPLIT_N) {
            // the longest acceptable direct chain: every descriptor of the table
            elements = SPLIT_N;
            for (int i = 0; i < elements; i++) {
                validElement(i, false);
                len[i] = 1 + rnd.nextInt(64);
            }
            direct = SPLIT_N;
            what += "/full-length";
        }
        long table = TABLES + rnd.nextInt(16) * 1024L;
        int[] perm = new int[Math.max(inTable, 1)];
        for (int i = 0; i < inTable; i++) {
            perm[i] = i;
        }
        for (int i = inTable - 1; i > 1; i--) { // the walk starts at entry 0; the rest in random slots
            int j = 1 + rnd.nextInt(i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        if (variant == 1 && indirectOk) {
            // one big table: overflowing, exactly at the int limit, or longer than 1024 buffers
            int kind = rnd.nextInt(3);
            useIndirect = true;
            direct = 0;
            inTable = kind == 2 ? 1025 : 1024;
            table = BIG_TABLE;
            for (int i = 0; i < inTable; i++) {
                perm[0] = 0;
                int l = kind == 2 ? 1 : 1 << 21;
                if (kind == 1 && i == inTable - 1) {
                    l = (1 << 21) - 1;
                }
                putDesc(drvMem, table + 16L * i, DATA, l, i < inTable - 1 ? 1 : 0, i + 1);
            }
            what += "/big-table-" + kind;
        } else if (useIndirect) {
            for (int k = 0; k < inTable; k++) {
                int e = direct + k;
                int slot = perm[k];
                int next = k + 1 < inTable ? perm[k + 1] : 0;
                putDesc(drvMem, table + 16L * slot, addr[e], len[e], (wr[e] ? 2 : 0) | (k + 1 < inTable ? 1 : 0), next);
            }
        }
        for (int k = 0; k < direct; k++) {
            boolean lastDirect = k == direct - 1;
            int f = (wr[k] ? 2 : 0) | (!lastDirect || useIndirect ? 1 : 0);
            putDesc(drvMem, SPLIT_DESC + 16L * idx[k], addr[k], len[k], f, lastDirect ? (useIndirect ? idx[direct] : 0)
                : idx[k + 1]);
        }
        int head = idx[0];
        if (useIndirect) {
            putDesc(drvMem, SPLIT_DESC + 16L * idx[direct], table, inTable * 16, 4, 0);
        }
        int ringIdx = (last + 1) & 0xffff;
        // malicious variants
        switch (variant) {
            case -1: case 0: case 1:
                break;
            case 2: { // loop: the last direct descriptor points back into the chain
                if (direct > 0) {
                    long d = SPLIT_DESC + 16L * idx[direct - 1];
                    drvMem.putU16(d + 12, drvMem.getU16(d + 12) | 1);
                    drvMem.putU16(d + 14, idx[rnd.nextInt(direct)]);
                    what += "/loop";
                }
                break;
            }
            case 3: { // next index out of range
                long d = SPLIT_DESC + 16L * idx[Math.max(direct - 1, 0)];
                drvMem.putU16(d + 12, drvMem.getU16(d + 12) | 1);
                drvMem.putU16(d + 14, SPLIT_N + rnd.nextInt(65536 - SPLIT_N));
                what += "/next-range";
                break;
            }
            case 4: { // nested indirect, or a loop inside the indirect table
                if (useIndirect && inTable > 0) {
                    long e = table + 16L * rnd.nextInt(inTable);
                    if (rnd.nextBoolean()) {
                        drvMem.putU16(e + 12, 4);
                        drvMem.putI64(e, TABLES);
                        drvMem.putI32(e + 8, 64);
                        what += "/nested";
                    } else {
                        drvMem.putU16(e + 12, drvMem.getU16(e + 12) | 1);
                        drvMem.putU16(e + 14, rnd.nextInt(inTable));
                        what += "/table-loop";
                    }
                }
                break;
            }
            case 5: { // the indirect descriptor itself: WRITE/NEXT flag, bad length, table over an edge
                if (useIndirect) {
                    long d = SPLIT_DESC + 16L * idx[direct];
                    switch (rnd.nextInt(5)) {
                        case 0: drvMem.putU16(d + 12, 4 | 2); break;
                        case 1: drvMem.putU16(d + 12, 4 | 1); break;
                        case 2: drvMem.putI32(d + 8, new int[] {0, 8, 17, inTable * 16 + 8}[rnd.nextInt(4)]); break;
                        case 3: drvMem.putI64(d, C + C_SIZE - 16L * inTable + 16); break;
                        default: drvMem.putI64(d, B - 16); break; // spans A and B: not one region
                    }
                    what += "/indirect-desc";
                }
                break;
            }
            case 6: // avail index jump
                ringIdx = (last + SPLIT_N + 1 + rnd.nextInt(65536 - SPLIT_N - 1)) & 0xffff;
                what += "/avail-jump";
                break;
            case 7: // head out of range
                head = SPLIT_N + rnd.nextInt(65536 - SPLIT_N);
                what += "/head";
                break;
            case 8: { // readable after writable
                int e = rnd.nextInt(direct > 0 ? direct : 1);
                long d = SPLIT_DESC + 16L * idx[e];
                drvMem.putU16(d + 12, drvMem.getU16(d + 12) ^ 2);
                what += "/rw-order";
                break;
            }
            case 9: { // an element leaves memory
                int e = rnd.nextInt(Math.max(direct, 1));
                badElement(e);
                long d = SPLIT_DESC + 16L * idx[e];
                drvMem.putI64(d, addr[e]);
                drvMem.putI32(d + 8, len[e]);
                what += "/bad-address";
                break;
            }
            case 10: // nothing new
                ringIdx = last;
                what += "/nothing";
                break;
            default: { // random field fuzz in the chain, its table or the avail ring
                int times = 1 + rnd.nextInt(3);
                for (int t = 0; t < times; t++) {
                    int where = rnd.nextInt(4);
                    if (where == 0 && useIndirect && inTable > 0) {
                        fuzzDescriptor(table + 16L * rnd.nextInt(inTable));
                    } else if (where == 1) {
                        fuzzDescriptor(SPLIT_DESC + 16L * rnd.nextInt(SPLIT_N));
                    } else if (where == 2) {
                        head ^= 1 << rnd.nextInt(16);
                    } else {
                        fuzzDescriptor(SPLIT_DESC + 16L * idx[rnd.nextInt(Math.max(direct, 1))]);
                    }
                }
                what += "/fuzz";
            }
        }
        drvMem.putU16(SPLIT_AVAIL + 4 + 2L * (last & mask), head);
        drvMem.putU16(SPLIT_AVAIL + 2, ringIdx);
        return what;
    }

    @Test
    void splitQueueSurvivesHostileDrivers() {
        rnd = new Random(0x5eed_0001L);
        DeviceQueue q = newSplit();
        long features = INDIRECT | EVENT_IDX;
        restart(q, features);
        drvMem.putU16(SPLIT_AVAIL + 2, 0);
        for (int it = 0; it < ITERATIONS; it++) {
            if (q.isBroken()) {
                features = (rnd.nextInt(10) == 0 ? 0 : INDIRECT) | (rnd.nextBoolean() ? EVENT_IDX : 0);
                drvMem.putU16(SPLIT_AVAIL + 2, 0);
                restart(q, features);
            }
            int last = q.lastAvailIndex();
            boolean indirectOk = (features & INDIRECT) != 0;
            String what = writeSplit(last, indirectOk || rnd.nextInt(20) == 0);
            int expected = oracle.split(SPLIT_DESC, SPLIT_AVAIL, SPLIT_N, indirectOk, last);
            checkPop(q, expected, what + " #" + it);
            if (expected == ChainOracle.VALID) {
                int used = q.usedIndex();
                int written = rnd.nextInt(Math.max(chain.writableBytes(), 1));
                q.pushUsed(chain.head(), written);
                q.publishUsed();
                q.needsNotification();
                if (rnd.nextBoolean()) {
                    q.enableNotification();
                } else {
                    q.disableNotification();
                }
                long e = SPLIT_USED + 4 + 8L * (used & (SPLIT_N - 1));
                assertEquals(chain.head(), drvMem.getI32(e));
                assertEquals(written, drvMem.getI32(e + 4));
                assertEquals((used + 1) & 0xffff, drvMem.getU16(SPLIT_USED + 2));
            }
            if (it % 1000 == 0) {
                healthySplit.exercise();
                healthyPacked.exercise();
            }
            if (it % 50_000 == 0) {
                checkCanaries();
            }
        }
        checkCanaries();
        assertTrue(stats[ChainOracle.VALID] > ITERATIONS / 4, () -> java.util.Arrays.toString(stats));
        assertTrue(stats[ChainOracle.INVALID] > ITERATIONS / 4, () -> java.util.Arrays.toString(stats));
    }

    // ---------------------------------------------------------------- packed

    private DeviceQueue newPacked() {
        DeviceQueue q = DeviceQueue.packed();
        q.setSize(PACKED_N);
        q.setMemory(devMem);
        q.setRingAddresses(PACKED_DESC, PACKED_DRIVER_EVENT, PACKED_DEVICE_EVENT);
        return q;
    }

    private static int availBits(boolean wrap) {
        return wrap ? 0x80 : 0x8000;
    }

    /** Writes one packed chain at the device's position, the head's flags last, then a malicious variant. */
    private String writePacked(int pos, boolean wrap, boolean indirectOk) {
        randomElements();
        String what = "packed";
        int variant = rnd.nextInt(2) == 0 ? -1 : rnd.nextInt(14);
        boolean useIndirect = indirectOk && rnd.nextInt(3) == 0;
        int id = rnd.nextInt(PACKED_N);
        int headFlags;
        int slots;
        long table = TABLES + rnd.nextInt(16) * 1024L;
        if (variant == 0) { // longer than the queue: NEXT on every slot
            slots = PACKED_N;
            for (int i = 0; i < slots; i++) {
                validElement(i, false);
            }
            elements = slots;
            what += "/too-long";
            useIndirect = false;
        } else if (variant == 1 && indirectOk) {
            int kind = rnd.nextInt(3);
            int entries = kind == 2 ? 1025 : 1024;
            for (int i = 0; i < entries; i++) {
                int l = kind == 2 ? 1 : 1 << 21;
                if (kind == 1 && i == entries - 1) {
                    l = (1 << 21) - 1;
                }
                putDesc(drvMem, BIG_TABLE + 16L * i, DATA, l, 0, 0);
            }
            long d = PACKED_DESC + 16L * pos;
            drvMem.putI64(d, BIG_TABLE);
            drvMem.putI32(d + 8, entries * 16);
            drvMem.putU16(d + 12, id);
            drvMem.putU16(d + 14, 4 | availBits(wrap));
            return what + "/big-table-" + kind;
        }
        if (useIndirect) {
            for (int e = 0; e < elements; e++) {
                // packed entry: id (ignored) at 12, flags at 14; NEXT is ignored inside a packed table
                putDesc(drvMem, table + 16L * e, addr[e], len[e], rnd.nextInt(65536), (wr[e] ? 2 : 0) | rnd.nextInt(2));
            }
            slots = 1;
            long d = PACKED_DESC + 16L * pos;
            drvMem.putI64(d, table);
            drvMem.putI32(d + 8, elements * 16);
            drvMem.putU16(d + 12, id);
            headFlags = 4 | availBits(wrap);
        } else {
            slots = elements;
            int p = pos;
            boolean w = wrap;
            headFlags = 0;
            for (int e = 0; e < slots; e++) {
                int f = (wr[e] ? 2 : 0) | (e < slots - 1 || variant == 0 ? 1 : 0) | availBits(w);
                long d = PACKED_DESC + 16L * p;
                drvMem.putI64(d, addr[e]);
                drvMem.putI32(d + 8, len[e]);
                drvMem.putU16(d + 12, e == slots - 1 ? id : rnd.nextInt(65536)); // id counts only in the last
                if (e == 0) {
                    headFlags = f;
                } else {
                    drvMem.putU16(d + 14, f);
                }
                if (++p == PACKED_N) {
                    p = 0;
                    w = !w;
                }
            }
        }
        long head = PACKED_DESC + 16L * pos;
        switch (variant) {
            case -1: case 0: case 1:
                break;
            case 2: { // buffer id out of range, in the last descriptor
                int lastSlot = (pos + slots - 1) % PACKED_N;
                drvMem.putU16(PACKED_DESC + 16L * lastSlot + 12, PACKED_N + rnd.nextInt(65536 - PACKED_N));
                what += "/id";
                break;
            }
            case 3: // nested indirect / WRITE or NEXT on the indirect descriptor / bad table length or place
                if (useIndirect) {
                    switch (rnd.nextInt(6)) {
                        case 0: drvMem.putU16(table + 16L * rnd.nextInt(elements) + 14, 4); break;
                        case 1: headFlags |= 2; break;
                        case 2: headFlags |= 1; break;
                        case 3: drvMem.putI32(head + 8, new int[] {0, 8, 17, elements * 16 + 8}[rnd.nextInt(4)]); break;
                        case 4: drvMem.putI64(head, C + C_SIZE - 16L * elements + 16); break;
                        default: drvMem.putI64(head, B - 16); break;
                    }
                    what += "/indirect";
                }
                break;
            case 4: // an INDIRECT descriptor after a NEXT descriptor
                if (!useIndirect && slots > 1 && indirectOk) {
                    long d = PACKED_DESC + 16L * ((pos + 1) % PACKED_N);
                    drvMem.putI64(d, table);
                    drvMem.putI32(d + 8, 32);
                    drvMem.putU16(d + 14, drvMem.getU16(d + 14) & ~1 | 4);
                    what += "/indirect-in-chain";
                }
                break;
            case 5: // readable after writable
                if (useIndirect) {
                    long e = table + 16L * rnd.nextInt(elements);
                    drvMem.putU16(e + 14, drvMem.getU16(e + 14) ^ 2);
                } else if (slots > 1) {
                    long d = PACKED_DESC + 16L * ((pos + 1 + rnd.nextInt(slots - 1)) % PACKED_N);
                    drvMem.putU16(d + 14, drvMem.getU16(d + 14) ^ 2);
                } else {
                    headFlags ^= 2;
                }
                what += "/rw-order";
                break;
            case 6: { // an element leaves memory
                int e = rnd.nextInt(elements);
                badElement(e);
                long d = useIndirect ? table + 16L * e : PACKED_DESC + 16L * ((pos + e) % PACKED_N);
                if (useIndirect || e < slots) {
                    drvMem.putI64(d, addr[e]);
                    drvMem.putI32(d + 8, len[e]);
                }
                what += "/bad-address";
                break;
            }
            case 7: // not available: wrong wrap bits on the head
                headFlags &= ~0x8080;
                headFlags |= rnd.nextBoolean() ? availBits(!wrap) : rnd.nextBoolean() ? 0x8080 : 0;
                what += "/not-available";
                break;
            default: { // fuzz
                int times = 1 + rnd.nextInt(3);
                for (int t = 0; t < times; t++) {
                    int where = rnd.nextInt(3);
                    if (where == 0 && useIndirect) {
                        fuzzDescriptor(table + 16L * rnd.nextInt(elements));
                    } else if (where == 1) {
                        fuzzDescriptor(PACKED_DESC + 16L * rnd.nextInt(PACKED_N));
                    } else {
                        fuzzDescriptor(PACKED_DESC + 16L * ((pos + rnd.nextInt(slots)) % PACKED_N));
                    }
                }
                if (rnd.nextInt(3) == 0) {
                    headFlags ^= 1 << rnd.nextInt(16);
                }
                what += "/fuzz";
            }
        }
        drvMem.putU16(head + 14, headFlags);
        return what;
    }

    @Test
    void packedQueueSurvivesHostileDrivers() {
        rnd = new Random(0x5eed_0002L);
        DeviceQueue q = newPacked();
        long features = INDIRECT | EVENT_IDX;
        restart(q, features);
        for (int it = 0; it < ITERATIONS; it++) {
            if (q.isBroken()) {
                features = (rnd.nextInt(10) == 0 ? 0 : INDIRECT) | (rnd.nextBoolean() ? EVENT_IDX : 0);
                restart(q, features);
            }
            int lai = q.lastAvailIndex();
            int pos = lai & 0x7fff;
            boolean wrap = (lai & 0x8000) != 0;
            boolean indirectOk = (features & INDIRECT) != 0;
            String what = writePacked(pos, wrap, indirectOk || rnd.nextInt(20) == 0);
            int expected = oracle.packed(PACKED_DESC, PACKED_N, indirectOk, pos, wrap);
            checkPop(q, expected, what + " #" + it);
            if (expected == ChainOracle.VALID) {
                int used = q.usedIndex();
                int written = rnd.nextInt(Math.max(chain.writableBytes(), 1));
                q.pushUsed(chain.head(), written);
                q.publishUsed();
                q.needsNotification();
                if (rnd.nextBoolean()) {
                    q.enableNotification();
                } else {
                    q.disableNotification();
                }
                long d = PACKED_DESC + 16L * (used & 0x7fff);
                boolean uw = (used & 0x8000) != 0;
                assertEquals(chain.head(), drvMem.getU16(d + 12));
                assertEquals(written, drvMem.getI32(d + 8));
                assertEquals((uw ? 0x8080 : 0) | (written != 0 ? 2 : 0), drvMem.getU16(d + 14));
                assertEquals(q.lastAvailIndex(), q.usedIndex());
            }
            if (it % 1000 == 0) {
                healthySplit.exercise();
                healthyPacked.exercise();
            }
            if (it % 50_000 == 0) {
                checkCanaries();
            }
        }
        checkCanaries();
        assertTrue(stats[ChainOracle.VALID] > ITERATIONS / 4, () -> java.util.Arrays.toString(stats));
        assertTrue(stats[ChainOracle.INVALID] > ITERATIONS / 4, () -> java.util.Arrays.toString(stats));
    }
}
