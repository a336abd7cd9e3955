package vnet.switching;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.LinuxException;
import vnet.transport.shm.DeviceSnapshot;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.VirtioNetHeader;

/**
 * A learning Ethernet switch of N ports (the L4Re virtio-net switch's job). Per frame, on the one worker thread:
 * ingress VLAN check (access: untagged only, the port's VLAN; trunk: tagged with a member VLAN), source check
 * (no multicast source; the port's {@code mac=} if it has one), learning of (source MAC, VLAN) on the port, a copy
 * to every monitor port, then delivery: a known unicast destination gets it alone, anything else (broadcast,
 * multicast, unknown) is flooded to every port of the same VLAN but the source. Never back to the source.
 *
 * <p>Frames go guest to guest with one copy. A frame that must gain or lose its 802.1Q tag on the way (access to
 * trunk, trunk to access) is re-tagged once into a preallocated per-switch scratch buffer and delivered from there
 * to every port that wants that form. Each port's transmit queues give at most {@link Forwarder#TX_BURST} frames
 * per round, and the round starts at another port each time. Nothing on the data path locks or allocates.
 *
 * <p>With {@code workers=N} the ports are spread over N threads (both sides of a port on one, the least loaded when
 * it attaches); a frame for a port of another worker goes through a {@link Handoff} ring. Each worker has its own
 * replica of the MAC table: it learns from the frames of its own ports, so it alone enforces their
 * {@code max-macs}, and tells the others of each new, moved or long-unrefreshed address, so their replicas follow
 * within a round; until then they flood, which is always correct for a learning switch.
 */
public final class Switch extends FabricBase {
    public static final int DEFAULT_MAX_PORTS = 256;
    public static final int DEFAULT_MAC_AGING_SECONDS = 300;
    public static final int DEFAULT_MAC_TABLE_SIZE = 4096;
    /** Upper bounds of the switch options. */
    public static final int MAX_PORTS_LIMIT = 4096;
    public static final int MAC_TABLE_SIZE_LIMIT = 1 << 20;

    private static final int ETH_P_8021Q = 0x8100;
    private static final int TAG_LENGTH = 4;
    /**
     * Aged MAC table slots examined per sweep, one sweep per millisecond of the worker's clock: a million slots a
     * second keeps the largest table (2^21 slots) within two seconds of exact aging (a lookup checks the age anyway),
     * where a sweep every round walked 1024 slots per 64-frame burst (3 % of a 64-byte frame's time).
     */
    private static final int AGING_BUDGET = 1024;
    private static final long AGING_SWEEP_NANOS = 1_000_000;

    private final int maxPorts;
    private final int macAgingSeconds;
    private final int macTableSize;

    /**
     * A switch with no port yet; ports come with {@link #attach}. Starts its worker.
     *
     * @param maxPorts        most ports at once (1..4096)
     * @param macAgingSeconds how long a learned address lives unseen (at least 1)
     * @param macTableSize    most learned addresses (1..1048576)
     * @throws IllegalArgumentException naming the option: {@code max.ports=0 is out of range 1..4096},
     *                                  {@code mac.aging=0 is out of range 1..2147483647},
     *                                  {@code mac.table.size=0 is out of range 1..1048576}
     */
    public Switch(String name, FabricSettings settings, int maxPorts, int macAgingSeconds, int macTableSize)
            throws LinuxException {
        super(name, settings, checkOptions(maxPorts, macAgingSeconds, macTableSize));
        this.maxPorts = maxPorts;
        this.macAgingSeconds = macAgingSeconds;
        this.macTableSize = macTableSize;
        start();
    }

    /** A switch with the default limits: 256 ports, aging 300 s, 4096 addresses. */
    public Switch(String name, FabricSettings settings) throws LinuxException {
        this(name, settings, DEFAULT_MAX_PORTS, DEFAULT_MAC_AGING_SECONDS, DEFAULT_MAC_TABLE_SIZE);
    }

    private static int checkOptions(int maxPorts, int macAgingSeconds, int macTableSize) {
        checkRange("max.ports", maxPorts, 1, MAX_PORTS_LIMIT);
        checkRange("mac.aging", macAgingSeconds, 1, Integer.MAX_VALUE);
        checkRange("mac.table.size", macTableSize, 1, MAC_TABLE_SIZE_LIMIT);
        return maxPorts;
    }

    private static int checkRange(String option, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + "=" + value + " is out of range " + min + ".." + max);
        }
        return value;
    }

    @Override
    public String kind() {
        return KIND_SWITCH;
    }

    public int maxPorts() {
        return maxPorts;
    }

    public int macAgingSeconds() {
        return macAgingSeconds;
    }

    public int macTableSize() {
        return macTableSize;
    }

    @Override
    void checkAttach(PortDefinition definition, List<PortState> existing) {
        if (existing.size() >= maxPorts) {
            throw new IllegalArgumentException("switch \"" + name + "\" already has " + existing.size()
                    + " ports (max.ports=" + maxPorts + "); cannot add \"" + definition.name() + "\"");
        }
        long mac = definition.options().mac();
        if (mac != MacAddress.NONE) {
            for (PortState p : existing) {
                if (p.mac == mac) {
                    throw new IllegalArgumentException("mac=" + MacAddress.toString(mac) + " of port \""
                            + definition.name() + "\" is already used by port \"" + p.name() + "\" on switch \""
                            + name + "\"");
                }
            }
        }
    }

    @Override
    boolean crossesWorkers() {
        return true;
    }

    @Override
    Forwarder forwarder(int index, Handoff handoff) {
        return new Forward(index, handoff);
    }

    @Override
    public List<MacEntry> macTable() {
        List<MacEntry> list = new ArrayList<>();
        onEveryWorker(f -> {
            // Each address is learned by the worker of the port it was seen on: that replica is the one to show.
            list.addAll(((Forward) f).macs.snapshot(System.nanoTime(), s -> {
                PortState p = f.slots[s];
                return p == null || p.txWorker != f.index ? null : p.name();
            }));
        });
        return list;
    }

    /** Learned addresses the full table could not take, and stations seen moving ports (recent values). */
    public long macLearnFailures() {
        long n = 0;
        for (int i = 0; i < workers(); i++) {
            n += ((Forward) worker(i).forwarder()).macs.learnFailures;
        }
        return n;
    }

    public long macMoves() {
        long n = 0;
        for (int i = 0; i < workers(); i++) {
            n += ((Forward) worker(i).forwarder()).macs.moves;
        }
        return n;
    }

    // ---- data path ------------------------------------------------------------------------------------------------

    /** One worker's part of the switch: its ports' frames, its MAC table replica, its re-tagging scratch. */
    private final class Forward extends Forwarder {
        final MacTable macs = new MacTable(macTableSize, TimeUnit.SECONDS.toNanos(macAgingSeconds), maxPorts);
        private final FrameBuffer scratch = new FrameBuffer(FrameBuffer.DEFAULT_CAPACITY + TAG_LENGTH);
        private final VirtioNetHeader scratchHeader = new VirtioNetHeader();
        private boolean scratchValid;
        private int scratchLength;
        private final int[] monitors = new int[maxPorts];
        private int monitorCount;
        /** One past the highest occupied slot (the flood range, over every worker's ports). */
        private int slotCount;
        private int nextFirst;
        private long now;
        private long lastSweep;

        Forward(int index, Handoff handoff) {
            super(index, maxPorts, handoff);
        }

        @Override
        void attached(PortState state) {
            collectMonitors();
        }

        @Override
        void faulted(PortState state) {
            // What was learned from a faulting port may come from garbage reads (a faulting load yields stale bytes).
            macs.flushPort(state.slot);
            if (handoff != null) {
                handoff.sendForget(index, state);
            }
        }

        @Override
        void forget(PortState state) {
            macs.flushPort(state.slot);
        }

        @Override
        void learned(long mac, int vlan, PortState port) {
            macs.learnRemote(mac, vlan, port.slot, System.nanoTime());
        }

        @Override
        void detached(PortState state) {
            macs.flushPort(state.slot);
            collectMonitors();
        }

        private void collectMonitors() {
            monitorCount = 0;
            slotCount = 0;
            for (PortState p : slots) {
                if (p != null) {
                    slotCount = p.slot + 1;
                    if (p.monitor) {
                        monitors[monitorCount++] = p.slot;
                    }
                }
            }
        }

        @Override
        int forward(int count) {
            now = worker.clock();
            if (now - lastSweep >= AGING_SWEEP_NANOS) {
                lastSweep = now;
                macs.age(now, AGING_BUDGET);
            }
            if (count == 0) {
                return 0;
            }
            int first = nextFirst < count ? nextFirst : 0;
            nextFirst = first + 1;
            int moved = 0;
            for (int k = 0; k < count; k++) {
                int s = first + k < count ? first + k : first + k - count;
                PortState src = slots[s];
                DeviceSnapshot d = devices[s];
                if (drains(src, d)) {
                    moved += drainTx(src, d);
                }
            }
            return moved;
        }

        @Override
        void onFrame(PortState src, int pair, int offset, int length) {
            if (src.monitor) {
                src.dropsMonitor++;
                return;
            }
            // The Ethernet header from the burst's decode: bytes 0..15 in network order.
            long be0 = Long.reverseBytes(frameHead(0));
            long be1 = Long.reverseBytes(frameHead(1));
            long dstMac = be0 >>> 16;
            long srcMac = (be0 & 0xFFFF) << 32 | be1 >>> 32;
            boolean tagged = (int) (be1 >>> 16 & 0xFFFF) == ETH_P_8021Q;
            int vlan;
            if (tagged) {
                vlan = length >= 18 ? (int) be1 & 0x0FFF : 0;
                if (!src.trunk || !src.vlan.admits(vlan)) {
                    src.dropsVlan++;
                    return;
                }
            } else {
                if (src.trunk) {
                    src.dropsVlan++;
                    return;
                }
                vlan = src.accessVlan;
            }
            if (MacAddress.isMulticast(srcMac) || (src.mac != MacAddress.NONE && srcMac != src.mac)) {
                src.dropsSpoofed++;
                return;
            }
            if (!macs.learn(srcMac, vlan, src.slot, now, src.maxMacs)) {
                src.dropsMacLimit++; // max-macs: a new address beyond the port's limit
                return;
            }
            if (macs.news && handoff != null) {
                handoff.sendLearn(index, srcMac, vlan, src);
            }
            scratchValid = false;
            for (int i = 0; i < monitorCount; i++) {
                deliver(slots[monitors[i]], pair, offset, length); // as it came in
            }
            if (!MacAddress.isMulticast(dstMac)) {
                int d = macs.lookup(dstMac, vlan, now);
                PortState dst = d < 0 ? null : slots[d];
                if (dst != null) {
                    if (dst != src && !dst.monitor) {
                        egress(dst, pair, offset, length, tagged, vlan);
                    }
                    return; // known: delivered, or filtered (the destination is behind the source port)
                }
            }
            if (src.floodLimit > 0 && !src.mayFlood(now)) {
                src.dropsFloodLimit++;
                return;
            }
            int count = slotCount;
            for (int d = 0; d < count; d++) {
                PortState dst = slots[d];
                if (dst != null && dst != src && !dst.monitor) {
                    egress(dst, pair, offset, length, tagged, vlan);
                }
            }
        }

        /** Delivers to one port of the frame's VLAN, in the form the port wants (tagged on trunks, untagged else). */
        private void egress(PortState dst, int pair, int offset, int length, boolean tagged, int vlan) {
            if (!dst.vlan.admits(vlan)) {
                return; // another VLAN: not this port's traffic
            }
            if (dst.trunk == tagged) {
                deliver(dst, pair, offset, length);
                return;
            }
            if (!scratchValid && !retag(offset, length, tagged, vlan)) {
                dst.dropsTooBig++;
                return;
            }
            boolean completes = completesChecksum(dst, pair, scratchHeader);
            deliver(dst, pair, scratchHeader, scratch.buffer(), scratchLength);
            if (completes) {
                scratchValid = false; // the checksum was completed in the scratch copy: rebuild it for the next port
            }
        }

        /** Copies the frame into the scratch buffer with its tag removed ({@code tagged}) or {@code vlan}'s inserted. */
        private boolean retag(int offset, int length, boolean tagged, int vlan) {
            UnsafeBuffer b = scratch.buffer();
            int delta = tagged ? -TAG_LENGTH : TAG_LENGTH;
            int out = length + delta;
            if (out > b.capacity() || (tagged && length < 18)) {
                return false;
            }
            chain.read(offset, b, 0, 12);
            if (tagged) {
                chain.read(offset + 16, b, 12, length - 16);
            } else {
                b.putShort(12, (short) ETH_P_8021Q, ByteOrder.BIG_ENDIAN);
                b.putShort(14, (short) vlan, ByteOrder.BIG_ENDIAN);
                chain.read(offset + 12, b, 16, length - 12);
            }
            VirtioNetHeader h = scratchHeader.copyFrom(header);
            if (h.needsCsum() && h.csumStart() >= 12) {
                h.csumStart(h.csumStart() + delta);
            }
            if (h.gsoType() != VirtioNetHeader.GSO_NONE && h.hdrLen() >= 12) {
                h.hdrLen(h.hdrLen() + delta);
            }
            scratchLength = out;
            scratchValid = true;
            return true;
        }
    }
}
