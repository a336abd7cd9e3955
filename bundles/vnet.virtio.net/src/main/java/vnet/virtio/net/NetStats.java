package vnet.virtio.net;

/**
 * Counters of one virtio-net queue pair, device side: frames and bytes each way and drops by reason.
 *
 * <p>The data-path thread increments the plain {@code long} fields of the live instance ({@link NetDevice#stats()});
 * other threads may read it at any time and see values that are recent but not necessarily consistent with each
 * other, or take a {@link #copyTo(NetStats) copy}. "TX" is what the driver transmitted (the device took it from the
 * transmit queue), "RX" what the device delivered into the receive queue.
 */
public final class NetStats {

    long txFrames;
    long txBytes;
    long txDropsMalformed;
    long txDropsTooBig;
    long txDropsDisabled;
    long rxFrames;
    long rxBytes;
    long rxBuffers;
    long rxDropsNoBuffer;
    long rxDropsTooBig;
    long rxDropsOffload;
    long rxDropsBadBuffer;
    long rxChecksumsCompleted;

    /** Creates zeroed counters. */
    public NetStats() {
    }

    /** @return frames taken from the transmit queue and handed on */
    public long txFrames() {
        return txFrames;
    }

    /** @return Ethernet bytes (without virtio-net header) of {@link #txFrames()} */
    public long txBytes() {
        return txBytes;
    }

    /** @return transmit chains dropped because they were shorter than the header or an Ethernet header */
    public long txDropsMalformed() {
        return txDropsMalformed;
    }

    /** @return transmit frames dropped because they exceeded the frame buffer */
    public long txDropsTooBig() {
        return txDropsTooBig;
    }

    /** @return frames written into the receive queue */
    public long rxFrames() {
        return rxFrames;
    }

    /** @return Ethernet bytes (without virtio-net header) of {@link #rxFrames()} */
    public long rxBytes() {
        return rxBytes;
    }

    /** @return receive buffers used ({@code num_buffers} summed; equals rxFrames without MRG_RXBUF) */
    public long rxBuffers() {
        return rxBuffers;
    }

    /** @return frames dropped because the receive queue had no (or not enough) buffers, or was not running */
    public long rxDropsNoBuffer() {
        return rxDropsNoBuffer;
    }

    /** @return frames dropped because they did not fit a buffer (non-mergeable) or exceeded the maximum length */
    public long rxDropsTooBig() {
        return rxDropsTooBig;
    }

    /** @return frames dropped because they carry an offload (GSO type) the driver did not negotiate */
    public long rxDropsOffload() {
        return rxDropsOffload;
    }

    /** @return frames dropped because the driver posted an invalid buffer (the queue is then broken) */
    public long rxDropsBadBuffer() {
        return rxDropsBadBuffer;
    }

    /** @return NEEDS_CSUM frames whose checksum the device completed for a driver without GUEST_CSUM */
    public long rxChecksumsCompleted() {
        return rxChecksumsCompleted;
    }

    /** @return all receive drops */
    public long rxDrops() {
        return rxDropsNoBuffer + rxDropsTooBig + rxDropsOffload + rxDropsBadBuffer;
    }

    /** @return transmit frames taken and discarded while the front-end had the ring disabled (vhost-user) */
    public long txDropsDisabled() {
        return txDropsDisabled;
    }

    /** @return all transmit drops */
    public long txDrops() {
        return txDropsMalformed + txDropsTooBig + txDropsDisabled;
    }

    /**
     * Copies every counter into {@code target}.
     *
     * @param target the snapshot to fill
     * @return {@code target}
     */
    public NetStats copyTo(NetStats target) {
        target.txFrames = txFrames;
        target.txBytes = txBytes;
        target.txDropsMalformed = txDropsMalformed;
        target.txDropsTooBig = txDropsTooBig;
        target.txDropsDisabled = txDropsDisabled;
        target.rxFrames = rxFrames;
        target.rxBytes = rxBytes;
        target.rxBuffers = rxBuffers;
        target.rxDropsNoBuffer = rxDropsNoBuffer;
        target.rxDropsTooBig = rxDropsTooBig;
        target.rxDropsOffload = rxDropsOffload;
        target.rxDropsBadBuffer = rxDropsBadBuffer;
        target.rxChecksumsCompleted = rxChecksumsCompleted;
        return target;
    }

    /** Sets every counter to 0 (control plane). */
    public void reset() {
        copyFromZero();
    }

    private void copyFromZero() {
        new NetStats().copyTo(this);
    }

    /** @return the counters, for logs and the shell */
    @Override
    public String toString() {
        return "tx " + txFrames + " frames " + txBytes + " bytes, drops malformed " + txDropsMalformed + " too-big "
                + txDropsTooBig + " disabled " + txDropsDisabled + "; rx " + rxFrames + " frames " + rxBytes + " bytes " + rxBuffers
                + " buffers, drops no-buffer " + rxDropsNoBuffer + " too-big " + rxDropsTooBig + " offload "
                + rxDropsOffload + " bad-buffer " + rxDropsBadBuffer + ", checksums completed "
                + rxChecksumsCompleted;
    }
}
