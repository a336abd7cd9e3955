package vnet.virtqueue;

/**
 * Layout of the split virtqueue's available ring (§2.7.6, the Driver Area), written by the driver:
 * <pre>
 * le16 flags @0; le16 idx @2; le16 ring[N] @4+2i; le16 used_event @4+2N   (size 6+2N, alignment 2)
 * </pre>
 */
public final class AvailRing {
    /** Offset of {@code flags}. */
    public static final int FLAGS = 0;
    /** Offset of {@code idx}. */
    public static final int IDX = 2;
    /** Offset of {@code ring[0]}. */
    public static final int RING = 4;
    /** Alignment of the available ring. */
    public static final int ALIGN = 2;
    /** VIRTQ_AVAIL_F_NO_INTERRUPT: the driver does not want used buffer notifications. */
    public static final int F_NO_INTERRUPT = 1;

    private AvailRing() {
    }

    /** Offset of {@code ring[i]}. */
    public static long ringOffset(int i) {
        return RING + 2L * i;
    }

    /** Offset of {@code used_event} (only meaningful with VIRTIO_F_EVENT_IDX). */
    public static long usedEventOffset(int queueSize) {
        return RING + 2L * queueSize;
    }

    /** Size in bytes, including {@code used_event}: 6 + 2N. */
    public static long sizeOf(int queueSize) {
        return 6 + 2L * queueSize;
    }
}
