package vnet.transport.shm.inproc;

import java.io.IOException;

/**
 * An open port of the in-framework transport, registered as a service while the port exists, with the
 * properties {@value #NAME_PROPERTY} (the port's name) and, when known, {@value #LINK_PROPERTY} (its link
 * or switch). A bundle finds it like any service, e.g. a DS reference with the target
 * {@code (vnet.port.name=responder)}, and attaches. The service is bundle-scoped: when the bundle that
 * attached stops (or ungets the service), its endpoint is closed and the port is free again.
 */
public interface InprocPort {
    /** The transport type: the value of {@code vnet.transport} that selects this transport. */
    String TYPE = "inproc";
    /** Service property: the port's name. */
    String NAME_PROPERTY = "vnet.port.name";
    /** Service property: the link or switch the port belongs to (absent if unknown). */
    String LINK_PROPERTY = "vnet.link";

    /** The port's name. */
    String name();

    /** The MAC address configured for the port ({@code mac=} option) as 48 bits, or -1 if none. */
    long mac();

    /** Whether an endpoint is attached now. */
    boolean isAttached();

    /**
     * Attaches the caller as the port's driver: sets up guest memory and virtqueues and starts the device.
     *
     * @throws IOException if the port is in use, closed, or its memory cannot be set up
     */
    Endpoint attach() throws IOException;
}
