package vnet.transport.vxlan.internal;

/**
 * Which remote tunnel endpoint a MAC address sits behind, learned from received frames (the Linux vxlan FDB's
 * job), so that known unicast goes to one remote instead of all; entries unseen for the aging time are ignored and
 * reused. The switch's MAC table stays the one place of L2 truth (it learns all these addresses on the tunnel port);
 * this only chooses among remotes. Open addressing in fixed arrays with a bounded probe: one thread, nothing
 * allocated; a table too full to learn an address counts it and the frame is flooded to every remote.
 */
final class VtepTable {
    /** Slots examined per look-up. */
    private static final int PROBES = 16;
    private static final long EMPTY = -1;

    private final long[] macs;
    private final int[] remotes;
    private final long[] seen;
    private final int mask;
    private final long agingNanos;
    long learnFailures;
    long moves;

    /** @param capacity slots, a power of two */
    VtepTable(int capacity, long agingNanos) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity " + capacity + " is not a power of two");
        }
        this.macs = new long[capacity];
        this.remotes = new int[capacity];
        this.seen = new long[capacity];
        this.mask = capacity - 1;
        this.agingNanos = agingNanos;
        java.util.Arrays.fill(macs, EMPTY);
    }

    /** {@code mac} (48 bits, unicast) was seen behind remote {@code remote} at {@code now}. */
    void learn(long mac, int remote, long now) {
        int start = slot(mac);
        int free = -1;
        for (int i = 0; i < PROBES; i++) {
            int s = (start + i) & mask;
            long m = macs[s];
            if (m == mac) {
                if (remotes[s] != remote) {
                    remotes[s] = remote;
                    moves++;
                }
                seen[s] = now;
                return;
            }
            if (m == EMPTY) {
                if (free < 0) {
                    free = s;
                }
                break; // the address is nowhere further: it would have been put here or before
            }
            if (free < 0 && now - seen[s] > agingNanos) {
                free = s;
            }
        }
        if (free < 0) {
            learnFailures++;
            return;
        }
        macs[free] = mac;
        remotes[free] = remote;
        seen[free] = now;
    }

    /** The remote {@code mac} sits behind, or -1 if unknown or aged. */
    int lookup(long mac, long now) {
        int start = slot(mac);
        for (int i = 0; i < PROBES; i++) {
            int s = (start + i) & mask;
            long m = macs[s];
            if (m == mac) {
                return now - seen[s] > agingNanos ? -1 : remotes[s];
            }
            if (m == EMPTY) {
                return -1;
            }
        }
        return -1;
    }

    private int slot(long mac) {
        long h = mac * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h >>> 40) & mask;
    }
}
