package vnet.virtqueue;

/**
 * The device side of one virtqueue, split ({@link SplitVirtqueue}) or packed ({@link PackedVirtqueue}), as a
 * virtio device model or a vhost-user back-end drives it.
 *
 * <h2>Control plane</h2>
 * {@link #setSize}, {@link #setFeatures}, {@link #setMemory}, {@link #setRingAddresses} and
 * {@link #setLastAvailIndex} configure the queue (vhost-user SET_VRING_NUM, SET_FEATURES, SET_MEM_TABLE,
 * SET_VRING_ADDR, SET_VRING_BASE); {@link #activate()} checks and translates the ring addresses, after which the
 * data path runs. {@link #lastAvailIndex()} is GET_VRING_BASE. These are not thread-safe against the data path:
 * change them only while the queue's worker is not using it (a new {@link GuestMemory} snapshot may be swapped in
 * between two data-path calls on the worker's thread).
 *
 * <h2>Data path</h2>
 * One thread: {@link #pop} chains, copy with the {@link DescriptorChain} helpers, {@link #pushUsed} each, then
 * {@link #publishUsed()} once per batch and signal the driver if {@link #needsNotification()}. Kick suppression:
 * {@link #disableNotification()} while polling, {@link #enableNotification()} before sleeping (and poll again if it
 * returns true). No data-path method allocates or throws because of what the driver wrote.
 *
 * <h2>Hostile drivers</h2>
 * Every index, address, length and flag read from guest memory is checked. A violation marks the queue
 * {@linkplain #isBroken() broken} (the spec's DEVICE_NEEDS_RESET for this queue) with a {@linkplain #brokenReason()
 * reason}; a broken queue pops nothing, publishes nothing and never touches guest memory again until
 * {@link #reset()}. Other queues over the same memory are unaffected.
 */
public interface DeviceQueue {
    /** A new, unconfigured split virtqueue (device side). */
    static DeviceQueue split() {
        return new SplitVirtqueue();
    }

    /** A new, unconfigured packed virtqueue (device side). */
    static DeviceQueue packed() {
        return new PackedVirtqueue();
    }

    /** Whether this is a packed virtqueue. */
    boolean isPacked();

    /**
     * Sets the queue size N (vhost-user SET_VRING_NUM): 1..32768, a power of 2 for split queues.
     *
     * @throws IllegalArgumentException on an invalid size
     * @throws IllegalStateException while the queue is active
     */
    void setSize(int size);

    /** The queue size N. */
    int size();

    /** Sets the negotiated feature bits; see {@link VirtqueueFeatures} (INDIRECT_DESC, EVENT_IDX). */
    void setFeatures(long features);

    /** The negotiated feature bits. */
    long features();

    /**
     * Sets the guest memory snapshot. If the queue is active, its ring addresses are translated again; if they no
     * longer map, the queue becomes broken.
     */
    void setMemory(GuestMemory memory);

    /** The current guest memory snapshot. */
    GuestMemory memory();

    /**
     * Sets the guest physical addresses of the three parts: descriptor area (split descriptor table / packed
     * descriptor ring), driver area (split available ring / packed driver event suppression) and device area (split
     * used ring / packed device event suppression). vhost-user gives user addresses: translate them first with
     * {@link GuestMemory#translateUserAddress(long)}.
     */
    void setRingAddresses(long descTable, long driverArea, long deviceArea);

    /** Guest physical address of the descriptor area. */
    long descTableAddress();

    /** Guest physical address of the driver area. */
    long driverAreaAddress();

    /** Guest physical address of the device area. */
    long deviceAreaAddress();

    /**
     * Checks that size and ring addresses are set, aligned and inside one region each, translates them, and starts
     * the data path. A split queue takes its used index from the used ring's {@code idx}.
     *
     * @return true if active; false if the configuration is invalid (the queue is then broken, with a reason)
     */
    boolean activate();

    /** Whether {@link #activate()} succeeded and the queue is neither deactivated nor broken. */
    boolean isActive();

    /** Stops the data path (vhost-user GET_VRING_BASE); configuration and indexes are kept. */
    void deactivate();

    /**
     * Back to the state after configuration: inactive, not broken, indexes 0 (packed wrap counters 1),
     * notifications enabled. Size, features, memory and ring addresses are kept.
     */
    void reset();

    /**
     * The next available position the device will read (vhost-user GET_VRING_BASE): split: a free-running 16-bit
     * index; packed: ring offset in bits 0-14 and the device's avail wrap counter in bit 15.
     */
    int lastAvailIndex();

    /**
     * Sets the next available position (vhost-user SET_VRING_BASE), encoded as in {@link #lastAvailIndex()}. For a
     * packed queue the used position and wrap counter are set to the same value, as QEMU and DPDK do.
     *
     * @throws IllegalArgumentException if a packed offset is not below the queue size
     */
    void setLastAvailIndex(int index);

    /**
     * Packed queues: sets the used position and wrap counter apart from the available one (vhost-user
     * SET_VRING_BASE bits 16..31, QEMU 7+), encoded as in {@link #usedIndex()}. Split queues read it from the ring.
     */
    default void setUsedIndex(int index) {
    }

    /**
     * Packed queues, once active: where the device stands according to the descriptor ring itself, encoded as in
     * {@link #lastAvailIndex()}, or -1 if the ring does not say. A front-end cannot know after the back-end crashed
     * (QEMU keeps its last value for packed rings), but the ring does: the device's used writes flip each
     * descriptor's USED bit, so the used bits read W up to the device's used position and not W from there on (W
     * its wrap counter). Split queues: -1 (their used index is in the used ring).
     */
    default int positionFromRing() {
        return -1;
    }

    /**
     * Data path: moves the available position back to a value {@link #lastAvailIndex()} returned earlier, giving
     * back chains popped since then but not pushed (e.g. not enough receive buffers for a frame).
     */
    void rewind(int savedLastAvailIndex);

    /**
     * The next used position the device will write: split: the 16-bit used index (including pushed but unpublished
     * elements); packed: ring offset in bits 0-14 and the used wrap counter in bit 15.
     */
    int usedIndex();

    /** Whether the driver has made at least one buffer available that was not popped yet (acquire load). */
    boolean hasAvailable();

    /**
     * Takes the next available buffer into {@code chain}, following NEXT links and indirect tables and checking
     * every descriptor.
     *
     * @return true if a chain was taken; false if none is available, the queue is inactive, or it is (or just
     *     became) broken; check {@link #isBroken()}. After false the chain's contents are meaningless.
     */
    boolean pop(DescriptorChain chain);

    /**
     * Reads ahead what the next {@code chains} {@link #pop pops} will read first (the available ring entries and the
     * descriptors they name), changing nothing: Java has no prefetch instruction, and these loads of memory the
     * driver just wrote are cache misses that overlap when issued together, where pop after pop would wait for each
     * in turn (DPDK prefetches them). Garbage is ignored here; the pops check it.
     *
     * @param chains how many chains a burst is about to take
     */
    default void prefetch(int chains) {
    }

    /**
     * Takes over for writing, ahead of the stores of a burst, the used-ring lines the next {@code entries}
     * {@link #pushUsed pushes} will write, for no more than the chains taken and available: stores into used elements
     * not pushed yet, which the driver does not read before {@link #publishUsed()} covers them, and which the pushes
     * then overwrite. Why: a store to a line the driver's CPU holds must first fetch it from there (a cross-core
     * miss), and the store queue drains in order; interleaved with the per-frame work the store queue fills and those
     * misses come one after another, while in a loop of their own a whole burst's misses are in flight together
     * (measured: README "Benchmarks"). {@link DescriptorChain#touchForWrite} does the same for receive buffers.
     *
     * @param entries how many chains are about to be pushed
     */
    default void prefetchUsedForWrite(int entries) {
    }

    /**
     * Returns buffer {@code id} (a {@link DescriptorChain#head()}) to the driver with {@code writtenLength} bytes
     * written into its writable part. Not visible to the driver until {@link #publishUsed()}.
     */
    void pushUsed(int id, int writtenLength);

    /**
     * Makes every pushed used element visible to the driver with release ordering (split: store used {@code idx};
     * packed: store the descriptors' flags, the batch's first last).
     */
    void publishUsed();

    /**
     * Whether the driver wants a used buffer notification for what was published since the last call
     * (VIRTQ_AVAIL_F_NO_INTERRUPT, or {@code used_event} with EVENT_IDX; packed: driver event suppression). Issues
     * the full fence the spec requires before reading the driver's suppression fields.
     */
    boolean needsNotification();

    /**
     * Asks the driver for available buffer notifications (kicks) again: clears VIRTQ_USED_F_NO_NOTIFY, or with
     * EVENT_IDX writes {@code avail_event} = next available index (packed: device event suppression ENABLE/DESC).
     *
     * @return true if buffers became available meanwhile, so the caller should poll before sleeping
     */
    boolean enableNotification();

    /** Tells the driver not to kick (VIRTQ_USED_F_NO_NOTIFY, packed: DISABLE); a hint only with EVENT_IDX. */
    void disableNotification();

    /** Whether the queue has seen invalid driver input (or was marked broken) and stopped processing. */
    boolean isBroken();

    /** Why the queue is broken, or null. */
    String brokenReason();

    /** Marks the queue broken (e.g. a device-level protocol violation found by the caller). */
    void markBroken(String reason);

    /**
     * Who hears of it, once, when the queue breaks (the transport: a log line, a counter, the front-end's error
     * eventfd). Called on the thread that found the fault; must not block.
     */
    default void onBroken(java.util.function.Consumer<String> listener) {
    }
}
