package vnet.peer;

/**
 * Frame counters of one host peer. "To virtio" is the TX direction (the host stack transmits on the TAP interface,
 * the frame goes to the guest or vnet port); "to TAP" the other. Each counter has one writing thread; readers on other
 * threads see recent values.
 */
public final class PeerStats {
    volatile long tapFramesRead;
    volatile long toVirtio;
    volatile long toVirtioDropped;
    volatile long checksumsCompleted;
    volatile long virtioFramesTaken;
    volatile long toTap;
    volatile long toTapDropped;

    /** Frames the host stack transmitted on the TAP interface (read from it). */
    public long tapFramesRead() {
        return tapFramesRead;
    }

    /** Frames handed to the virtio side (the guest's receive queue, or the vnet port). */
    public long toVirtio() {
        return toVirtio;
    }

    /** Frames read from the TAP but not handed on: nobody connected, no room, an offload the far side refused. */
    public long toVirtioDropped() {
        return toVirtioDropped;
    }

    /** Partial checksums completed in software because the far side could not take them. */
    public long checksumsCompleted() {
        return checksumsCompleted;
    }

    /** Frames taken from the virtio side (the guest's transmit queue, or received from the vnet port). */
    public long virtioFramesTaken() {
        return virtioFramesTaken;
    }

    /** Frames written to the TAP interface (the host stack received them). */
    public long toTap() {
        return toTap;
    }

    /** Frames from the virtio side the TAP interface refused (down, deleted, malformed). */
    public long toTapDropped() {
        return toTapDropped;
    }

    @Override
    public String toString() {
        return "tap read " + tapFramesRead + ", to virtio " + toVirtio + " (dropped " + toVirtioDropped
                + ", checksums completed " + checksumsCompleted + "); virtio taken " + virtioFramesTaken + ", to tap "
                + toTap + " (dropped " + toTapDropped + ")";
    }
}
