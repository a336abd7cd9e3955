package vnet.virtqueue;

/**
 * The reserved feature bits (§6) that change how a virtqueue behaves. Queues take the negotiated feature word
 * ({@code 1L << bit} set for each feature) and look only at these.
 */
public final class VirtqueueFeatures {
    /** VIRTIO_F_INDIRECT_DESC (28): indirect descriptor tables allowed. */
    public static final int INDIRECT_DESC = 28;
    /** VIRTIO_F_EVENT_IDX / VIRTIO_F_RING_EVENT_IDX (29): used_event/avail_event, packed DESC event mode. */
    public static final int EVENT_IDX = 29;
    /** VIRTIO_F_VERSION_1 (32). */
    public static final int VERSION_1 = 32;
    /** VIRTIO_F_RING_PACKED (34): packed virtqueue layout. */
    public static final int RING_PACKED = 34;
    /** VIRTIO_F_IN_ORDER (35). */
    public static final int IN_ORDER = 35;

    private VirtqueueFeatures() {
    }

    /** Whether {@code bit} is set in {@code features}. */
    public static boolean has(long features, int bit) {
        return (features & (1L << bit)) != 0;
    }
}
