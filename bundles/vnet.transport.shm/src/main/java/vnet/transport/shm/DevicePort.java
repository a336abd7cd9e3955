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

    /** Takes the port down: its driver is disconnected and its resources released. */
    @Override
    void close();
}
