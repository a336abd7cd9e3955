package vnet.switching;

import java.nio.file.Path;

import vnet.transport.shm.DevicePort;
import vnet.transport.shm.PortSettings;

/**
 * A {@link Fabric} that ports are attached to: what a port configuration uses, in two steps so that a port is
 * refused before its transport opens anything: {@link #checkAttach} then, once the transport opened the port,
 * {@link #attach}. Control plane; safe from any thread.
 */
public interface PortHost extends Fabric {
    /** Where ports of this fabric put their sockets by default: {@code <runtime.dir>/<name>}. */
    Path runtimeDir();

    /** The settings a transport must give a port with these options (queue size, trusted dataspaces, poll mode). */
    PortSettings portSettings(PortOptions options);

    /**
     * Refuses a port that cannot join, with a message naming the reason: a duplicate name, a third port on a p2p
     * link, a MAC address already used by another port, or a full switch.
     *
     * @throws IllegalArgumentException the reason
     */
    void checkAttach(PortDefinition definition);

    /**
     * Adds a port that its transport has opened; the data path forwards its frames from now on. The caller keeps
     * owning {@code port} and closes it after {@link #detach}.
     *
     * @throws IllegalArgumentException as {@link #checkAttach}
     */
    void attach(PortDefinition definition, DevicePort port);

    /**
     * Removes a port: the data path lets go of it (its learned addresses are flushed, its capture stopped) before
     * this returns. Unknown names are ignored.
     *
     * @return the port removed, or null
     */
    DevicePort detach(String name);
}
