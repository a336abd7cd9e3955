package vnet.transport.shm;

import java.util.Set;

import vnet.virtio.net.Features;
import vnet.virtqueue.RingLayout;

/**
 * What a port lets its client do, from the L4Re p2p server's options: {@code ds-max} and {@code mac} per
 * port, and the server's maximum queue size ({@code --size}), trusted dataspaces ({@code --register-ds})
 * and poll mode ({@code --poll}, which turns guest kicks off).
 *
 * @param dsMax          most dataspaces (memory regions) the client may register, 1..80
 * @param mac            the port's MAC address (48 bits), or -1 for none
 * @param maxQueueSize   largest virtqueue size accepted, a power of 2 in 1..32768
 * @param trusted        identities of trusted dataspaces; empty means any
 * @param maxQueuePairs  queue pairs offered (vhost-user MQ)
 * @param features       virtio feature bits offered to the driver
 * @param pollMode       whether the worker polls, so drivers are asked not to kick
 * @param mtu            config space {@code mtu} (with VIRTIO_NET_F_MTU in {@code features}), or 0 for none
 */
public record PortSettings(int dsMax, long mac, int maxQueueSize, Set<FileIdentity> trusted, int maxQueuePairs,
                           long features, boolean pollMode, int mtu) {
    public static final int QUEUE_SIZE_DEFAULT = 256;
    public static final int QUEUE_SIZE_MAX = RingLayout.MAX_QUEUE_SIZE;

    /** What every vnet virtio-net port offers: VIRTIO 1.x, split or packed rings, mergeable RX buffers. */
    public static final long DEFAULT_FEATURES = Features.VERSION_1 | Features.MRG_RXBUF | Features.RING_INDIRECT_DESC
            | Features.RING_EVENT_IDX | Features.RING_PACKED;

    /**
     * The offloads a switch or p2p port offers unless {@code offloads=off}: checksums both ways, TCP segmentation
     * (v4, v6, ECN) both ways, UDP segmentation both ways. Where a receiver lacks one, the fabric does the work in
     * software (vnet.virtio.net GsoSegmenter, checksum completion in NetDevice).
     */
    public static final long OFFLOAD_FEATURES = Features.CSUM | Features.GUEST_CSUM
            | Features.HOST_TSO4 | Features.HOST_TSO6 | Features.HOST_ECN
            | Features.GUEST_TSO4 | Features.GUEST_TSO6 | Features.GUEST_ECN
            | Features.HOST_USO | Features.GUEST_USO4 | Features.GUEST_USO6;

    public PortSettings {
        if (!DataspaceRegistry.isValidDsMax(dsMax)) {
            throw new IllegalArgumentException("ds-max=" + dsMax + " is out of range "
                    + DataspaceRegistry.DS_MAX_MIN + ".." + DataspaceRegistry.DS_MAX_MAX);
        }
        if (!RingLayout.isPowerOfTwoSize(maxQueueSize)) {
            throw new IllegalArgumentException("size=" + maxQueueSize + " is not a power of 2 in 1.." + QUEUE_SIZE_MAX);
        }
        if (maxQueuePairs < 1 || maxQueuePairs > 128) {
            throw new IllegalArgumentException("queue pairs=" + maxQueuePairs + " is out of range 1..128");
        }
        if (mtu != 0 && (mtu < 68 || mtu > 65535)) {
            throw new IllegalArgumentException("mtu=" + mtu + " is out of range 68..65535");
        }
        trusted = Set.copyOf(trusted);
    }

    /** The defaults of the L4Re p2p server: ds-max=2, no MAC, size 256, any dataspace, one queue pair, notifications on. */
    public static PortSettings defaults() {
        return new PortSettings(DataspaceRegistry.DS_MAX_DEFAULT, -1, QUEUE_SIZE_DEFAULT, Set.of(), 1, DEFAULT_FEATURES, false, 0);
    }

    public PortSettings withDsMax(int value) {
        return new PortSettings(value, mac, maxQueueSize, trusted, maxQueuePairs, features, pollMode, mtu);
    }

    public PortSettings withMac(long value) {
        return new PortSettings(dsMax, value, maxQueueSize, trusted, maxQueuePairs, features, pollMode, mtu);
    }

    public PortSettings withMaxQueueSize(int value) {
        return new PortSettings(dsMax, mac, value, trusted, maxQueuePairs, features, pollMode, mtu);
    }

    public PortSettings withTrusted(Set<FileIdentity> value) {
        return new PortSettings(dsMax, mac, maxQueueSize, value, maxQueuePairs, features, pollMode, mtu);
    }

    public PortSettings withMaxQueuePairs(int value) {
        return new PortSettings(dsMax, mac, maxQueueSize, trusted, value, features, pollMode, mtu);
    }

    public PortSettings withFeatures(long value) {
        return new PortSettings(dsMax, mac, maxQueueSize, trusted, maxQueuePairs, value, pollMode, mtu);
    }

    public PortSettings withPollMode(boolean value) {
        return new PortSettings(dsMax, mac, maxQueueSize, trusted, maxQueuePairs, features, value, mtu);
    }

    public PortSettings withMtu(int value) {
        return new PortSettings(dsMax, mac, maxQueueSize, trusted, maxQueuePairs, features, pollMode, value);
    }
}
