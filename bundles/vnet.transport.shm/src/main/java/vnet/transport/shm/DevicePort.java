package vnet.transport.shm;

/**
 * A port as a link or switch sees it: the device side of one virtio-net device that some transport
 * (vhost-user, in-framework, a host peer) makes reachable. The worker reads {@link #device()} once per
 * round; the transport withdraws it and quiesces the worker before changing it.
 */
public interface DevicePort extends AutoCloseable {
    /** The port's name, for logs and statistics. */
    String name();

    /** The running device, or null while no driver runs it. */
    DeviceSnapshot device();

    /** Binds the port to the worker that forwards its frames ({@link DataPath#NONE} to unbind). */
    void setDataPath(DataPath dataPath);

    /**
     * Null while the memory behind {@link #device()} is intact; otherwise why not (e.g. a front-end cut a region's
     * file short). The worker asks after a memory-access fault, to find the port that owns the faulting memory.
     */
    default String memoryFault() {
        return null;
    }

    /**
     * Breaks the port after a fault in its memory: the driver is disconnected with {@code reason} and the port waits
     * for the next one. Never blocks (the worker calls it).
     */
    default void fail(String reason) {
    }

    /** Takes the port down: its driver is disconnected and its resources released. */
    @Override
    void close();
}
