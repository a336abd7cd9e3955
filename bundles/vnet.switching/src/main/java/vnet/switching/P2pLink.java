package vnet.switching;

import java.util.List;

import vnet.linux.LinuxException;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.QueuePair;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DescriptorChain;

/**
 * The L4Re virtio-net p2p server's job: exactly two ports, every frame from one port's transmit queues
 * into the other port's receive queues, copied once from guest memory to guest memory. Header sizes are
 * translated and partial checksums completed by {@link NetDevice}; a frame the receiver has no buffer
 * for is dropped and counted there. One {@link ForwardingWorker} thread moves the frames.
 */
public final class P2pLink implements AutoCloseable {
    /** Frames taken from one transmit queue per round, so that one busy side cannot starve the other. */
    static final int TX_BURST = 64;

    private final String name;
    private final DevicePort[] ports;
    private final ForwardingWorker worker;
    private final DescriptorChain chain = new DescriptorChain();
    private final VirtioNetHeader header = new VirtioNetHeader();
    /** Frames dropped because the other side had no running device, per source side. */
    private final long[] dropsNoPeer = new long[2];

    /**
     * Links two ports and starts forwarding.
     *
     * @param pollIntervalMicros 0 to sleep until a driver kicks; else poll every that many microseconds with
     *                           driver kicks turned off (L4Re {@code --poll})
     */
    public P2pLink(String name, DevicePort a, DevicePort b, long pollIntervalMicros) throws LinuxException {
        if (pollIntervalMicros < 0) {
            throw new IllegalArgumentException("poll interval " + pollIntervalMicros + " us must not be negative");
        }
        this.name = name;
        this.ports = new DevicePort[] {a, b};
        this.worker = new ForwardingWorker(name, ports, this::forward, pollIntervalMicros);
        worker.start();
    }

    public String name() {
        return name;
    }

    /** The two ports, in the order given. */
    public List<DevicePort> ports() {
        return List.of(ports);
    }

    /** Frames from side {@code side} (0 or 1) dropped because the other side had no running device. */
    public long dropsNoPeer(int side) {
        return dropsNoPeer[side];
    }

    /** One round: each side's transmit queues, a bounded burst each, into the other side. */
    private int forward(DeviceSnapshot[] devices) {
        return forward(devices[0], devices[1], 0) + forward(devices[1], devices[0], 1);
    }

    private int forward(DeviceSnapshot src, DeviceSnapshot dst, int side) {
        if (src == null) {
            return 0;
        }
        int moved = 0;
        List<QueuePair> srcPairs = src.pairs();
        for (int i = 0; i < srcPairs.size(); i++) {
            QueuePair in = srcPairs.get(i);
            QueuePair out = dst == null ? null : dst.pairs().get(in.index() % dst.pairs().size());
            NetDevice from = in.net();
            int frames = 0;
            int length;
            while (frames < TX_BURST && (length = from.pollTx(chain, header)) != NetDevice.NONE) {
                if (out != null) {
                    out.net().deliverToRx(header, chain, from.headerSize(), length);
                } else {
                    dropsNoPeer[side]++;
                }
                from.completeTx(chain);
                frames++;
            }
            if (frames > 0) {
                if (from.flushTx()) {
                    in.callTx();
                }
                if (out != null && out.net().flushRx()) {
                    out.callRx();
                }
            }
            moved += frames;
        }
        return moved;
    }

    /** Stops forwarding; the ports stay as they are (their owners close them). */
    @Override
    public void close() {
        worker.close();
    }
}
