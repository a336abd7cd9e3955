package vnet.switching;

import java.util.List;

import vnet.linux.LinuxException;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;

/**
 * The L4Re virtio-net p2p server's job: exactly two ports, every frame from one port's transmit queues into the
 * other port's receive queues, copied once from guest memory to guest memory. Header sizes are translated, partial
 * checksums completed for a driver without GUEST_CSUM, and a frame the receiver has no room for is dropped and
 * counted, by {@link vnet.virtio.net.NetDevice}. One {@link ForwardingWorker} thread moves the frames, or with
 * {@code workers=2} one per direction: worker 0 takes the first port's transmitted frames and fills the second's
 * receive queues, worker 1 the reverse, so every virtqueue still has one user and no frame crosses between workers.
 */
public final class P2pLink extends FabricBase {

    /** A link with no port yet; ports come with {@link #attach}. Starts its worker. */
    public P2pLink(String name, FabricSettings settings) throws LinuxException {
        super(name, settings, 2);
        if (settings.workers() > 2) {
            throw new IllegalArgumentException("workers=" + settings.workers()
                    + " is more than a p2p link uses: it has two directions, give 1 or 2");
        }
        start();
    }

    /**
     * Links two ports and starts forwarding (the ports stay their owner's to close).
     *
     * @param pollIntervalMicros 0 to sleep until a driver kicks; else poll every that many microseconds with
     *                           driver kicks turned off (L4Re {@code --poll})
     */
    public P2pLink(String name, DevicePort a, DevicePort b, long pollIntervalMicros) throws LinuxException {
        this(name, FabricSettings.defaults().withPollMicros(pollIntervalMicros));
        attach(PortDefinition.of(a.name(), PortOptions.DEFAULTS), a);
        attach(PortDefinition.of(b.name(), PortOptions.DEFAULTS), b);
    }

    @Override
    public String kind() {
        return KIND_P2P;
    }

    @Override
    void checkAttach(PortDefinition definition, List<PortState> existing) {
        if (definition.monitor()) {
            throw new IllegalArgumentException("p2p link \"" + name + "\" has no monitor ports: port \""
                    + definition.name() + "\" cannot be one");
        }
        if (!definition.vlan().equals(VlanMode.DEFAULT)) {
            throw new IllegalArgumentException("p2p link \"" + name + "\" has no VLANs: port \"" + definition.name()
                    + "\" cannot be " + definition.vlan());
        }
        if (definition.options().maxMacs() > 0 || definition.options().floodLimit() > 0) {
            throw new IllegalArgumentException("p2p link \"" + name + "\" learns no addresses and floods nothing: port \""
                    + definition.name() + "\" cannot have max-macs or flood-limit");
        }
        if (existing.size() >= 2) {
            throw new IllegalArgumentException("p2p link \"" + name + "\" already has two ports ("
                    + existing.get(0).name() + ", " + existing.get(1).name() + "); cannot add \""
                    + definition.name() + "\"");
        }
    }

    @Override
    boolean crossesWorkers() {
        return false;
    }

    /** With two workers, worker i takes slot i's transmitted frames and fills the other slot's receive queues. */
    @Override
    int[] assign(int slot, List<PortState> existing) {
        return workers() == 1 ? new int[] {0, 0} : new int[] {slot, 1 - slot};
    }

    @Override
    Forwarder forwarder(int index, Handoff handoff) {
        return new Forward(index);
    }

    /** One direction (or both, with one worker): every frame to the other port. */
    private static final class Forward extends Forwarder {
        Forward(int index) {
            super(index, 2, null);
        }

        @Override
        int forward(int count) {
            int moved = 0;
            for (int s = 0; s < count; s++) {
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
            PortState dst = slots[1 - src.slot];
            if (dst == null || devices[dst.slot] == null) {
                src.dropsNoPeer++;
                return;
            }
            deliver(dst, pair, offset, length);
        }
    }
}
