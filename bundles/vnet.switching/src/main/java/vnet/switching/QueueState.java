package vnet.switching;

import vnet.virtio.net.NetStats;

/**
 * The state of one running queue pair of a port, for diagnostics: what was negotiated, where the rings are, and the
 * pair's own counters.
 *
 * @param pair       the queue pair index (receive queue 2k, transmit queue 2k+1)
 * @param features   the negotiated virtio feature bits
 * @param headerSize the virtio_net_hdr size in use
 * @param rx         the receive ring
 * @param tx         the transmit ring
 * @param stats      a copy of the pair's counters (frames, bytes, drops by reason)
 */
public record QueueState(int pair, long features, int headerSize, Ring rx, Ring tx, NetStats stats) {

    /**
     * One ring, device side.
     *
     * @param size           queue size
     * @param packed         packed (else split) layout
     * @param lastAvailIndex next available position the device reads (split: 16-bit index; packed: offset and
     *                       wrap counter in bit 15)
     * @param usedIndex      next used position the device writes
     * @param brokenReason   why the ring stopped (invalid driver input), or null while it runs
     */
    public record Ring(int size, boolean packed, int lastAvailIndex, int usedIndex, String brokenReason) {
    }
}
