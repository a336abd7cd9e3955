package vnet.virtqueue;

import java.util.List;

/**
 * An independent model of which available chains are acceptable, for the hostile-driver test: it reads the rings
 * through the driver's mapping with the checked {@link GuestMemory} accessors, walks chains with explicit
 * visited sets instead of counters, and checks buffers against the region list directly. It classifies the next
 * available chain as {@link #NOTHING}, {@link #VALID} (with totals and segments) or {@link #INVALID}.
 */
final class ChainOracle {
    static final int NOTHING = 0;
    static final int VALID = 1;
    static final int INVALID = 2;
    static final int MAX_SEGMENTS = 4096;

    private final GuestMemory mem;
    private final List<MemoryRegion> regions;
    private final boolean[] visited = new boolean[65536];
    private final int[] visitedList = new int[65536];
    private int visitedCount;

    int head;
    long readable;
    long writable;
    boolean sawWritable;
    String why;
    final long[] segAddr = new long[MAX_SEGMENTS];
    final long[] segLen = new long[MAX_SEGMENTS];
    int segments;

    ChainOracle(GuestMemory mem) {
        this.mem = mem;
        this.regions = mem.regions();
    }

    private void clearVisited() {
        for (int i = 0; i < visitedCount; i++) {
            visited[visitedList[i]] = false;
        }
        visitedCount = 0;
    }

    private boolean visit(int i) {
        if (visited[i]) {
            return false;
        }
        visited[i] = true;
        visitedList[visitedCount++] = i;
        return true;
    }

    private boolean inOneRegion(long addr, long len) {
        for (MemoryRegion r : regions) {
            if (r.contains(addr, len)) {
                return true;
            }
        }
        return false;
    }

    private boolean covered(long addr, long len) {
        if (addr < 0) {
            return false;
        }
        long pos = addr;
        long left = len;
        while (left > 0) {
            MemoryRegion hit = null;
            for (MemoryRegion r : regions) {
                if (pos >= r.guestPhysicalAddress() && pos < r.guestPhysicalEnd()) {
                    hit = r;
                }
            }
            if (hit == null) {
                return false;
            }
            long n = Math.min(left, hit.guestPhysicalEnd() - pos);
            left -= n;
            pos += n;
        }
        return true;
    }

    private int invalid(String reason) {
        why = reason;
        return INVALID;
    }

    private void start() {
        readable = 0;
        writable = 0;
        sawWritable = false;
        segments = 0;
        why = null;
        clearVisited();
    }

    /** Applies one buffer element; null if fine. */
    private String element(long addr, int len32, boolean w) {
        long len = len32 & 0xffffffffL;
        if (!w && sawWritable) {
            return "readable after writable";
        }
        if (w) {
            sawWritable = true;
            writable += len;
            if (writable > Integer.MAX_VALUE) {
                return "writable overflow";
            }
        } else {
            readable += len;
            if (readable > Integer.MAX_VALUE) {
                return "readable overflow";
            }
        }
        if (len > 0) {
            if (!covered(addr, len)) {
                return "outside memory";
            }
            if (segments < MAX_SEGMENTS) {
                segAddr[segments] = addr;
                segLen[segments] = len;
                segments++;
            }
        }
        return null;
    }

    /** Classifies the next chain of a split queue whose device has consumed up to {@code lastAvail}. */
    int split(long desc, long avail, int n, boolean indirectOk, int lastAvail) {
        start();
        int idx = mem.getU16(avail + 2);
        int pending = (idx - lastAvail) & 0xffff;
        if (pending == 0) {
            return NOTHING;
        }
        if (pending > n) {
            return invalid("avail jump");
        }
        head = mem.getU16(avail + 4 + 2L * (lastAvail % n));
        if (head >= n) {
            return invalid("head out of range");
        }
        long table = desc;
        int tableLen = n;
        int i = head;
        boolean inIndirect = false;
        int buffers = 0;
        int max = Math.max(n, 1024);
        while (true) {
            if (!visit(i)) {
                return invalid("loop");
            }
            long d = table + 16L * i;
            long addr = mem.getI64(d);
            int len = mem.getI32(d + 8);
            int flags = mem.getU16(d + 12);
            int next = mem.getU16(d + 14);
            if ((flags & 4) != 0) {
                if (inIndirect) {
                    return invalid("nested indirect");
                }
                if (!indirectOk) {
                    return invalid("indirect not negotiated");
                }
                if ((flags & 1) != 0) { // NEXT; WRITE on an indirect descriptor is ignored (VIRTIO 1.2 §2.7.5.3.2)
                    return invalid("indirect with NEXT");
                }
                long tl = len & 0xffffffffL;
                if (tl == 0 || tl % 16 != 0) {
                    return invalid("indirect length");
                }
                if (!inOneRegion(addr, tl)) {
                    return invalid("indirect table outside one region");
                }
                inIndirect = true;
                table = addr;
                tableLen = (int) Math.min(tl / 16, 65536);
                i = 0;
                clearVisited();
                continue;
            }
            if (++buffers > max) {
                return invalid("too long");
            }
            String err = element(addr, len, (flags & 2) != 0);
            if (err != null) {
                return invalid(err);
            }
            if ((flags & 1) == 0) {
                return VALID;
            }
            if (next >= tableLen) {
                return invalid("next out of range");
            }
            i = next;
        }
    }

    /** Classifies the next chain of a packed queue whose device is at {@code pos} with avail wrap {@code wrap}. */
    int packed(long ring, int n, boolean indirectOk, int pos, boolean wrap) {
        start();
        int f0 = mem.getU16(ring + 16L * pos + 14);
        boolean avail = (f0 & 0x80) != 0;
        boolean used = (f0 & 0x8000) != 0;
        if (avail != wrap || used == wrap) {
            return NOTHING;
        }
        int count = 0;
        int id;
        while (true) {
            count++;
            if (count > n) {
                return invalid("longer than queue");
            }
            long d = ring + 16L * pos;
            long addr = mem.getI64(d);
            int len = mem.getI32(d + 8);
            id = mem.getU16(d + 12);
            int flags = count == 1 ? f0 : mem.getU16(d + 14);
            pos = (pos + 1) % n;
            if ((flags & 4) != 0) {
                if (!indirectOk) {
                    return invalid("indirect not negotiated");
                }
                if (count != 1) {
                    return invalid("indirect in chain");
                }
                if ((flags & 1) != 0) { // NEXT; WRITE on an indirect descriptor is ignored (VIRTIO 1.2 §2.7.5.3.2)
                    return invalid("indirect with NEXT");
                }
                long tl = len & 0xffffffffL;
                if (tl == 0 || tl % 16 != 0) {
                    return invalid("indirect length");
                }
                if (tl / 16 > Math.max(n, 1024)) {
                    return invalid("indirect too long");
                }
                if (!inOneRegion(addr, tl)) {
                    return invalid("indirect outside one region");
                }
                for (long e = addr; e < addr + tl; e += 16) {
                    int ef = mem.getU16(e + 14);
                    if ((ef & 4) != 0) {
                        return invalid("nested indirect");
                    }
                    String err = element(mem.getI64(e), mem.getI32(e + 8), (ef & 2) != 0);
                    if (err != null) {
                        return invalid(err);
                    }
                }
                break;
            }
            String err = element(addr, len, (flags & 2) != 0);
            if (err != null) {
                return invalid(err);
            }
            if ((flags & 1) == 0) {
                break;
            }
        }
        if (id >= n) {
            return invalid("buffer id out of range");
        }
        head = id;
        return VALID;
    }
}
