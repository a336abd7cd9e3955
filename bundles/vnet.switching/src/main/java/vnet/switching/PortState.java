package vnet.switching;

import vnet.transport.shm.DevicePort;
import vnet.virtio.net.NetDevice;

/**
 * One attached port as the data path keeps it: its slot, its policy (VLAN, MAC, monitor) and its counters. The
 * worker writes the counters as plain fields; other threads read recent values.
 */
final class PortState {
    final int slot;
    final PortDefinition definition;
    final DevicePort port;
    final long mac;
    final VlanMode vlan;
    final boolean trunk;
    final int accessVlan;
    final boolean monitor;
    /** Worker-owned: set and cleared by commands. */
    Capture capture;
    /** Worker-owned scratch: receive pairs to flush after the current burst (bit i = pair i, bit 63 = all). */
    long dirtyPairs;

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

    PortState(int slot, PortDefinition definition, DevicePort port) {
        this.slot = slot;
        this.definition = definition;
        this.port = port;
        this.mac = definition.options().mac();
        this.vlan = definition.vlan();
        this.trunk = vlan.isTrunk();
        this.accessVlan = vlan.accessVlan();
        this.monitor = definition.monitor();
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
        return new PortStats(txFrames, txBytes, rxFrames, rxBytes, dropsNoRxBuffer, dropsTooBig, dropsVlan,
                dropsSpoofed, dropsQueueError, dropsOffload, dropsMonitor, dropsNoPeer);
    }

    String name() {
        return definition.name();
    }
}
