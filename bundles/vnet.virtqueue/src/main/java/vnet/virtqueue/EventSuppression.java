package vnet.virtqueue;

/**
 * Layout of a packed virtqueue's event suppression structure (§2.8.14, {@code struct pvirtq_event_suppress}),
 * 4 bytes, alignment 4. The Driver Area holds the driver's (read by the device, controls used buffer
 * notifications); the Device Area holds the device's (read by the driver, controls kicks).
 * <pre>
 * le16 off_wrap @0 (bits 0-14 descriptor offset, bit 15 wrap counter); le16 flags @2 (bits 0-1)
 * </pre>
 */
public final class EventSuppression {
    /** Offset of {@code off_wrap}. */
    public static final int OFF_WRAP = 0;
    /** Offset of {@code flags}. */
    public static final int FLAGS = 2;
    /** Size in bytes. */
    public static final int SIZE = 4;
    /** Alignment. */
    public static final int ALIGN = 4;
    /** RING_EVENT_FLAGS_ENABLE: notifications wanted. */
    public static final int FLAGS_ENABLE = 0;
    /** RING_EVENT_FLAGS_DISABLE: no notifications. */
    public static final int FLAGS_DISABLE = 1;
    /** RING_EVENT_FLAGS_DESC: notify when the descriptor at off_wrap is made available/used (EVENT_IDX only). */
    public static final int FLAGS_DESC = 2;
    /** Bit of the wrap counter in {@code off_wrap}. */
    public static final int WRAP_BIT = 15;

    private EventSuppression() {
    }
}
