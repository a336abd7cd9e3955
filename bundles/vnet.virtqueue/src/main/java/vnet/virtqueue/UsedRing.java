package vnet.virtqueue;

/**
 * Layout of the split virtqueue's used ring (§2.7.8, the Device Area), written by the device:
 * <pre>
 * le16 flags @0; le16 idx @2; {le32 id, le32 len} ring[N] @4+8i; le16 avail_event @4+8N   (size 6+8N, align 4)
 * </pre>
 */
public final class UsedRing {
    /** Offset of {@code flags}. */
    public static final int FLAGS = 0;
    /** Offset of {@code idx}. */
    public static final int IDX = 2;
    /** Offset of {@code ring[0]}. */
    public static final int RING = 4;
    /** Size of one used element {@code {le32 id; le32 len}}. */
    public static final int ELEM_SIZE = 8;
    /** Offset of {@code id} inside a used element. */
    public static final int ELEM_ID = 0;
    /** Offset of {@code len} inside a used element. */
    public static final int ELEM_LEN = 4;
    /** Alignment of the used ring. */
    public static final int ALIGN = 4;
    /** VIRTQ_USED_F_NO_NOTIFY: the device does not want available buffer notifications (kicks). */
    public static final int F_NO_NOTIFY = 1;

    private UsedRing() {
    }

    /** Offset of {@code ring[i]}. */
    public static long ringOffset(int i) {
        return RING + (long) ELEM_SIZE * i;
    }

    /** Offset of {@code avail_event} (only meaningful with VIRTIO_F_EVENT_IDX). */
    public static long availEventOffset(int queueSize) {
        return RING + (long) ELEM_SIZE * queueSize;
    }

    /** Size in bytes, including {@code avail_event}: 6 + 8N. */
    public static long sizeOf(int queueSize) {
        return 6 + (long) ELEM_SIZE * queueSize;
    }
}
