package vnet.virtqueue;

/**
 * The driver side of one virtqueue, split ({@link SplitVirtqueueDriver}) or packed ({@link PackedVirtqueueDriver}):
 * what a guest's virtio driver does, for tests, a Java vhost-user front-end and benchmarks.
 *
 * <p>The driver owns the ring memory described by a {@link RingLayout} and zeroes it on construction and on
 * {@link #reset()}. It hands out buffer ids: split uses the head descriptor index, packed a free buffer id;
 * the caller maps ids to its own context. One thread per queue; nothing allocates.
 *
 * <p>Add buffers with {@link #add}/{@link #addIndirect}, then {@link #shouldKick()} (which publishes them) and kick
 * the device if true. Harvest completions with {@link #pollUsed()} and {@link #usedLength()}. The device's used
 * entries are checked too: a bad id marks the queue broken.
 */
public interface DriverQueue {
    /** Returned when nothing could be added or nothing was used. */
    int NONE = -1;

    /** A driver over {@code layout} in {@code memory} with the negotiated {@code features}. */
    static DriverQueue create(GuestMemory memory, RingLayout layout, long features) {
        return layout.isPacked() ? new PackedVirtqueueDriver(memory, layout, features)
            : new SplitVirtqueueDriver(memory, layout, features);
    }

    /** Whether this is a packed virtqueue. */
    boolean isPacked();

    /** The ring layout. */
    RingLayout layout();

    /** Queue size N. */
    int size();

    /** The guest memory the rings live in. */
    GuestMemory memory();

    /** The negotiated feature bits. */
    long features();

    /** Zeroes the ring memory and starts over: all descriptors free, indexes 0, wrap counters 1. */
    void reset();

    /** Ring descriptors currently free. */
    int freeDescriptors();

    /** Buffers added and not yet harvested by {@link #pollUsed()}. */
    int inFlight();

    /**
     * Adds a buffer of {@code readable} device-readable then {@code writable} device-writable elements, as a
     * chain of direct descriptors ({@code addresses[i]}, {@code lengths[i]} for i in 0..readable+writable-1).
     * Not visible to the device until {@link #publish()} / {@link #shouldKick()}.
     *
     * @return the buffer id, or {@link #NONE} if not enough descriptors are free
     * @throws IllegalArgumentException if there are no elements or more than the queue size
     */
    int add(long[] addresses, int[] lengths, int readable, int writable);

    /**
     * Adds a buffer through an indirect table (one ring descriptor); the table lives in the layout's indirect area.
     *
     * @return the buffer id, or {@link #NONE} if no descriptor is free
     * @throws IllegalStateException if the layout has no indirect tables or INDIRECT_DESC is not negotiated
     * @throws IllegalArgumentException if there are no elements or more than the table holds
     */
    int addIndirect(long[] addresses, int[] lengths, int readable, int writable);

    /** Adds a one-element buffer; returns its id or {@link #NONE}. */
    int add(long address, int length, boolean writable);

    /** Makes the buffers added so far visible to the device (release ordering). */
    void publish();

    /**
     * Publishes, then decides whether the device wants a kick for the buffers added since the last call
     * (VIRTQ_USED_F_NO_NOTIFY, or {@code avail_event} with EVENT_IDX; packed: device event suppression), after the
     * full fence the spec requires.
     */
    boolean shouldKick();

    /** Whether the device has used a buffer not yet harvested (acquire load). */
    boolean hasUsed();

    /**
     * Harvests the next used buffer and frees its descriptors.
     *
     * @return its id, or {@link #NONE} if none (or the queue is broken); the length is {@link #usedLength()}
     */
    int pollUsed();

    /** Bytes the device wrote into the buffer last returned by {@link #pollUsed()}. */
    int usedLength();

    /**
     * Asks for used buffer notifications (clears VIRTQ_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX writes
     * {@code used_event}; packed: driver event suppression ENABLE/DESC).
     *
     * @return true if used buffers are already pending, so the caller should poll before sleeping
     */
    boolean enableInterrupts();

    /** Tells the device not to notify (VIRTQ_AVAIL_F_NO_INTERRUPT; packed DISABLE); a hint only with EVENT_IDX. */
    void disableInterrupts();

    /**
     * Next available position: split: the 16-bit shadow avail {@code idx}; packed: ring offset in bits 0-14 and
     * the driver wrap counter in bit 15 (what a device's {@link DeviceQueue#lastAvailIndex()} converges to).
     */
    int availIndex();

    /** Whether the device returned something invalid (unknown id) and the queue stopped. */
    boolean isBroken();

    /** Why the queue is broken, or null. */
    String brokenReason();
}
