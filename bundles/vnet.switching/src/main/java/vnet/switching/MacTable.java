package vnet.switching;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The switch's forwarding database: (MAC, VLAN) to port slot, with aging and a bounded number of entries. An
 * open-addressing hash table with linear probing over preallocated arrays (a key is the 48-bit MAC with the VLAN id
 * above it; 0 marks a free slot, as VLAN 0 is never learned), deleted by backward shifting so no tombstones build
 * up. Owned by the worker thread: nothing here locks or allocates, except {@link #snapshot}.
 */
final class MacTable {
    private final long[] keys;
    private final int[] ports;
    private final long[] seen;
    private final int mask;
    private final int shift;
    private final int maxEntries;
    private final long agingNanos;
    private int size;
    /** Entries per port, for per-port limits ({@code max-macs}). */
    private final int[] perPort;
    private int sweepCursor;
    /** Addresses not learned because the table was full. */
    long learnFailures;
    /** Addresses seen on another port than the one they were learned on. */
    long moves;
    /**
     * Whether the last {@link #learn} added or moved an entry, or refreshed one unseen for a quarter of the aging
     * time: what a switch with several workers tells the other replicas (so theirs age no earlier than this one).
     */
    boolean news;
    /**
     * Changes to which entries exist and where they point (added, moved, removed) so far. While it and the clock stay
     * the same, a {@link #lookup} or {@link #learn} of the same address gives the same answer again: the last of each
     * is remembered and answered without a probe (the frames of a burst mostly share their addresses, one flow).
     */
    private int version;
    /** The last address {@link #learn} left in the table (key 0: none, VLAN 0 is never a key), and its answer's state. */
    private long learnedKey;
    private int learnedPort;
    private long learnedNow;
    private int learnedVersion;
    /** The last {@link #lookup}: its key (0: none), answer, clock and version. */
    private long foundKey;
    private int found;
    private long foundNow;
    private int foundVersion;

    /**
     * @param maxEntries most entries (the table has twice as many slots, rounded up to a power of 2)
     * @param agingNanos how long an entry lives without being seen
     */
    MacTable(int maxEntries, long agingNanos) {
        this(maxEntries, agingNanos, 256);
    }

    /** @param maxPorts ports are numbered below it */
    MacTable(int maxEntries, long agingNanos, int maxPorts) {
        this.perPort = new int[maxPorts];
        if (maxEntries < 1) {
            throw new IllegalArgumentException("MAC table size " + maxEntries);
        }
        int capacity = Integer.highestOneBit(Math.max(2, maxEntries) * 2 - 1) << 1;
        this.keys = new long[capacity];
        this.ports = new int[capacity];
        this.seen = new long[capacity];
        this.mask = capacity - 1;
        this.shift = 64 - Integer.numberOfTrailingZeros(capacity);
        this.maxEntries = maxEntries;
        this.agingNanos = agingNanos;
    }

    static long key(long mac, int vlan) {
        return (long) vlan << 48 | mac;
    }

    private int home(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }

    private int find(long key) {
        for (int i = home(key); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                return i;
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    int size() {
        return size;
    }

    /** The port slot {@code mac} was learned on in {@code vlan}, or -1 (unknown or aged out). */
    int lookup(long mac, int vlan, long now) {
        long key = key(mac, vlan);
        if (key == foundKey && now == foundNow && version == foundVersion) {
            return found;
        }
        int r = find(key);
        if (r >= 0) {
            if (now - seen[r] > agingNanos) {
                removeAt(r);
                r = -1;
            } else {
                r = ports[r];
            }
        }
        foundKey = key;
        found = r;
        foundNow = now;
        foundVersion = version;
        return r;
    }

    /** Records that {@code mac} was seen on {@code port} in {@code vlan}; a station that moved is re-learned. */
    void learn(long mac, int vlan, int port, long now) {
        learn(mac, vlan, port, now, 0);
    }

    /**
     * Learns like {@link #learn(long, int, int, long)}, but refuses an address that would be the {@code portLimit}+1-th
     * on {@code port} (0: no limit): returns false then (the caller drops the frame).
     */
    boolean learn(long mac, int vlan, int port, long now, int portLimit) {
        if (key(mac, vlan) == learnedKey && port == learnedPort && now == learnedNow && version == learnedVersion) {
            news = false; // the entry is there, on this port, seen now: what put would find
            return true;
        }
        return put(mac, vlan, port, now, portLimit, true);
    }

    /** What another worker's replica learned (see {@link #news}): not counted as this table's moves or failures. */
    void learnRemote(long mac, int vlan, int port, long now) {
        put(mac, vlan, port, now, 0, false);
    }

    private boolean put(long mac, int vlan, int port, long now, int portLimit, boolean local) {
        news = false;
        long key = key(mac, vlan);
        int i = home(key);
        while (true) {
            long k = keys[i];
            if (k == key) {
                if (ports[i] != port) {
                    if (portLimit > 0 && perPort[port] >= portLimit) {
                        return false;
                    }
                    perPort[ports[i]]--;
                    perPort[port]++;
                    ports[i] = port;
                    version++;
                    if (local) {
                        moves++;
                    }
                    news = true;
                } else {
                    news = now - seen[i] > agingNanos >> 2;
                }
                seen[i] = now;
                remember(local, key, port, now);
                return true;
            }
            if (k == 0) {
                break;
            }
            i = (i + 1) & mask;
        }
        if (portLimit > 0 && perPort[port] >= portLimit) {
            return false;
        }
        if (size >= maxEntries) {
            if (local) {
                learnFailures++;
            }
            return true;
        }
        news = true;
        version++;
        keys[i] = key;
        ports[i] = port;
        seen[i] = now;
        perPort[port]++;
        size++;
        remember(local, key, port, now);
        return true;
    }

    /** Remembers a local learn that left {@code key} on {@code port} (not one the full table refused: counted each time). */
    private void remember(boolean local, long key, int port, long now) {
        if (local) {
            learnedKey = key;
            learnedPort = port;
            learnedNow = now;
            learnedVersion = version;
        }
    }

    /** Addresses learned on {@code port} now. */
    int count(int port) {
        return perPort[port];
    }

    /** Removes up to {@code budget} slots' worth of aged entries, continuing where the last call stopped. */
    void age(long now, int budget) {
        for (int n = 0; n < budget && size > 0; n++) {
            int i = sweepCursor;
            if (keys[i] != 0 && now - seen[i] > agingNanos) {
                removeAt(i); // something may have shifted into i: look at it again next time
            } else {
                sweepCursor = (i + 1) & mask;
            }
        }
    }

    /** Forgets every address learned on {@code port} (the port was removed). */
    void flushPort(int port) {
        for (int i = 0; i <= mask; ) {
            if (keys[i] != 0 && ports[i] == port) {
                removeAt(i);
            } else {
                i++;
            }
        }
    }

    /** Forgets everything. */
    void clear() {
        java.util.Arrays.fill(keys, 0);
        java.util.Arrays.fill(perPort, 0);
        size = 0;
        version++;
    }

    private void removeAt(int hole) {
        version++;
        perPort[ports[hole]]--;
        int i = hole;
        int j = hole;
        while (true) {
            j = (j + 1) & mask;
            long k = keys[j];
            if (k == 0) {
                break;
            }
            int h = home(k);
            // k may fill the hole unless its home lies cyclically in (i, j]
            boolean stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!stays) {
                keys[i] = k;
                ports[i] = ports[j];
                seen[i] = seen[j];
                i = j;
            }
        }
        keys[i] = 0;
        size--;
    }

    /** The live entries whose port {@code portName} names (null: leave out); allocates: control plane, worker thread. */
    List<MacEntry> snapshot(long now, IntFunction<String> portName) {
        List<MacEntry> list = new ArrayList<>(size);
        for (int i = 0; i <= mask; i++) {
            long k = keys[i];
            if (k != 0 && now - seen[i] <= agingNanos) {
                String name = portName.apply(ports[i]);
                if (name != null) {
                    list.add(new MacEntry(k & MacAddress.BROADCAST, (int) (k >>> 48), name,
                            (now - seen[i]) / 1_000_000));
                }
            }
        }
        return list;
    }
}
