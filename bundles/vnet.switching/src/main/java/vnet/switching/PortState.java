package vnet.switching;

import java.util.concurrent.TimeUnit;

import vnet.transport.shm.DevicePort;
import vnet.transport.shm.QueuePair;
import vnet.virtio.net.NetDevice;

/**
 * One attached port as the data path keeps it: its slot, the workers that serve its two sides, its policy (VLAN,
 * MAC, monitor) and its counters. Each counter has one writer, the worker of its side (transmit counters: the
 * transmit worker; receive counters: the receive worker; hand-off drops: each sending worker its own element), as
 * plain fields; other threads read recent values.
 */
final class PortState {
    private static final java.util.concurrent.atomic.AtomicInteger IDS = new java.util.concurrent.atomic.AtomicInteger();

    final int slot;
    /** Unique among the ports of this JVM: a hand-off record for a port that left its slot is recognized. */
    final int id = IDS.incrementAndGet();
    /** The worker that takes this port's transmitted frames. */
    final int txWorker;
    /** The worker that fills this port's receive queues (the only producer of each). */
    final int rxWorker;
    /** Per sending worker: frames for this port dropped because the hand-off ring to its receive worker was full. */
    final long[] handoffDrops;
    final PortDefinition definition;
    final DevicePort port;
    final long mac;
    final VlanMode vlan;
    final boolean trunk;
    final int accessVlan;
    final boolean monitor;
    /** Longest untagged frame the client may send ({@code mtu=} plus the Ethernet header), or MAX_VALUE. */
    final int txFrameLimit;
    /** Set and cleared by the control plane, which quiesces the workers before closing the one it replaced. */
    volatile Capture capture;
    /** Worker-owned scratch: receive pairs to flush after the current burst (bit i = pair i, bit 63 = all). */
    long dirtyPairs;
    /** Receive-worker scratch: the transmit burst whose frames this port's receive chains were taken ahead for. */
    long reservedBurst = -1;
    /** Receive-worker scratch: in that burst, this port's only receive pair (null with several: by flow hash). */
    QueuePair burstRxPair;

    long txFrames;
    long txBytes;
    long rxFrames;
    long rxBytes;
    long dropsNoRxBuffer;
    long dropsTooBig;
    long dropsVlan;
    long dropsSpoofed;
    long dropsQueueError;
    long dropsOffload;
    long dropsMonitor;
    long dropsNoPeer;
    long dropsMacLimit;
    long dropsFloodLimit;
    /** max-macs (0: none). */
    final int maxMacs;
    /** flood-limit in frames per second (0: none), as a token bucket of one second: tokens in nanoseconds. */
    final int floodLimit;
    private final long floodCostNanos;
    private long floodCredit = TimeUnit.SECONDS.toNanos(1);
    private long floodStamp = System.nanoTime();
    long dropsMtu;

    PortState(int slot, PortDefinition definition, DevicePort port, int txWorker, int rxWorker, int workers) {
        this.slot = slot;
        this.txWorker = txWorker;
        this.rxWorker = rxWorker;
        this.handoffDrops = new long[workers];
        this.definition = definition;
        this.port = port;
        this.mac = definition.options().mac();
        this.vlan = definition.vlan();
        this.trunk = vlan.isTrunk();
        this.accessVlan = vlan.accessVlan();
        this.monitor = definition.monitor();
        this.maxMacs = definition.options().maxMacs();
        this.floodLimit = definition.options().floodLimit();
        this.floodCostNanos = floodLimit > 0 ? TimeUnit.SECONDS.toNanos(1) / floodLimit : 0;
        int mtu = definition.options().mtu();
        this.txFrameLimit = mtu == PortOptions.NO_MTU ? Integer.MAX_VALUE : mtu + NetDevice.ETH_HEADER_LENGTH;
    }

    /** flood-limit: takes one flooded frame's worth from the bucket, if there is one (worker thread). */
    boolean mayFlood(long now) {
        long credit = Math.min(floodCredit + (now - floodStamp), TimeUnit.SECONDS.toNanos(1));
        floodStamp = now;
        if (credit < floodCostNanos) {
            floodCredit = credit;
            return false;
        }
        floodCredit = credit - floodCostNanos;
        return true;
    }

    /** Counts a negative {@link NetDevice#deliverToRx} result under its reason. */
    void countDrop(int result) {
        switch (result) {
            case NetDevice.DROP_NO_BUFFER -> dropsNoRxBuffer++;
            case NetDevice.DROP_TOO_BIG -> dropsTooBig++;
            case NetDevice.DROP_OFFLOAD -> dropsOffload++;
            default -> dropsQueueError++;
        }
    }

    PortStats stats() {
        long noRoom = dropsNoRxBuffer;
        for (long d : handoffDrops) {
            noRoom += d;
        }
        return new PortStats(txFrames, txBytes, rxFrames, rxBytes, noRoom, dropsTooBig, dropsVlan,
                dropsSpoofed, dropsQueueError, dropsOffload, dropsMonitor, dropsNoPeer, dropsMacLimit, dropsFloodLimit, dropsMtu);
    }

    String name() {
        return definition.name();
    }
}
