package vnet.virtqueue;

/**
 * State and control plane shared by the split and packed device-side queues: configuration, activation,
 * broken state. Package-private; the data path lives in the subclasses.
 */
abstract class DeviceQueueBase implements DeviceQueue {
    /**
     * Most buffer descriptors one chain may hold, direct and indirect together (a descriptor pointing to an
     * indirect table not counted), for a queue of {@code size}: the spec allows N; the floor of 1024 accepts
     * drivers that put more elements than N in the indirect table of a small queue (QEMU's limit too).
     */
    static int maxChainLength(int size) {
        return Math.max(size, 1024);
    }

    int size;
    long features;
    boolean eventIdx;
    boolean indirectAllowed;
    GuestMemory memory = GuestMemory.EMPTY;
    long descGpa = GuestMemory.NO_ADDRESS;
    long driverGpa = GuestMemory.NO_ADDRESS;
    long deviceGpa = GuestMemory.NO_ADDRESS;
    boolean active;
    private boolean broken;
    private String reason;
    private java.util.function.Consumer<String> brokenListener;

    @Override
    public void setSize(int size) {
        if (active) {
            throw new IllegalStateException("queue is active");
        }
        RingLayout.checkSize(isPacked(), size);
        this.size = size;
        sizeChanged();
    }

    /** Called after the size changed: reallocate per-entry state. */
    abstract void sizeChanged();

    @Override
    public int size() {
        return size;
    }

    @Override
    public void setFeatures(long features) {
        this.features = features;
        this.eventIdx = VirtqueueFeatures.has(features, VirtqueueFeatures.EVENT_IDX);
        this.indirectAllowed = VirtqueueFeatures.has(features, VirtqueueFeatures.INDIRECT_DESC);
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public void setMemory(GuestMemory memory) {
        this.memory = java.util.Objects.requireNonNull(memory, "memory");
        if (active) {
            String err = translate();
            if (err != null) {
                markBroken(err);
            }
        }
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public void setRingAddresses(long descTable, long driverArea, long deviceArea) {
        this.descGpa = descTable;
        this.driverGpa = driverArea;
        this.deviceGpa = deviceArea;
    }

    @Override
    public long descTableAddress() {
        return descGpa;
    }

    @Override
    public long driverAreaAddress() {
        return driverGpa;
    }

    @Override
    public long deviceAreaAddress() {
        return deviceGpa;
    }

    /** Checks alignment and translates the ring addresses; returns null or the reason they are unusable. */
    abstract String translate();

    /** Called by {@link #activate()} after a successful translation. */
    abstract void activated();

    /** Resets the indexes and per-entry state. */
    abstract void resetIndexes();

    /** Translates one ring part; NO_ADDRESS if misaligned or outside one region. */
    final long translatePart(long gpa, long length, int align) {
        if (gpa < 0 || (gpa & (align - 1)) != 0) {
            return GuestMemory.NO_ADDRESS;
        }
        return memory.hostAddress(gpa, length);
    }

    @Override
    public boolean activate() {
        if (broken) {
            return false;
        }
        if (size == 0) {
            markBroken("queue size not set");
            return false;
        }
        String err = translate();
        if (err != null) {
            markBroken(err);
            return false;
        }
        activated();
        active = true;
        return true;
    }

    @Override
    public boolean isActive() {
        return active;
    }

    @Override
    public void deactivate() {
        active = false;
    }

    @Override
    public void reset() {
        active = false;
        broken = false;
        reason = null;
        resetIndexes();
    }

    @Override
    public void onBroken(java.util.function.Consumer<String> listener) {
        brokenListener = listener;
    }

    @Override
    public boolean isBroken() {
        return broken;
    }

    @Override
    public String brokenReason() {
        return reason;
    }

    @Override
    public void markBroken(String why) {
        if (!broken) {
            broken = true;
            reason = why;
            if (brokenListener != null) {
                brokenListener.accept(why);
            }
        }
        active = false;
    }

    /** Marks the queue broken and returns false, for the data path's error exits. */
    final boolean fail(String why) {
        markBroken(why);
        return false;
    }

    /**
     * For {@code pushUsed}: whether {@code id} may be written, i.e. the queue is active and the id below the queue
     * size; an invalid id marks the queue broken.
     */
    final boolean canPushUsed(int id) {
        if (!active) {
            return false;
        }
        if (id < 0 || id >= size) {
            markBroken("device pushed invalid id " + id);
            return false;
        }
        return true;
    }
}
