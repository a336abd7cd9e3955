package vnet.transport.shm;

import java.util.List;

import vnet.virtqueue.GuestMemory;

/**
 * A virtio-net device as the data path may use it right now: negotiated features, guest memory and the
 * queue pairs that run. Immutable as a whole; the control plane replaces it (after
 * {@link DataPath#quiesce()}) instead of changing it under the worker.
 *
 * @param features   the negotiated virtio feature bits
 * @param headerSize the virtio_net_hdr size both sides use (10, 12 or 20 bytes)
 */
public record DeviceSnapshot(long features, int headerSize, GuestMemory memory, List<QueuePair> pairs) {
}
