package vnet.transport.shm;

import java.io.IOException;

/**
 * A way to make vnet ports reachable, registered as an OSGi service with the property
 * {@value #TYPE_PROPERTY} naming its type ({@code vhost-user}, {@code inproc}, or a third party's). A port
 * configuration names the type it wants and binds to that service dynamically: when the transport's bundle
 * stops, its ports go down without touching other ports.
 */
public interface Transport {
    /** Service property: the transport type a port configuration asks for. */
    String TYPE_PROPERTY = "vnet.transport";

    /** This transport's type, equal to its {@value #TYPE_PROPERTY} service property. */
    String type();

    /**
     * Opens a port. It is live (its {@link DevicePort#device()} non-null) once a driver runs it.
     *
     * @throws IOException              if the port cannot be reached (e.g. its socket cannot be bound)
     * @throws IllegalArgumentException if the spec is not valid for this transport
     */
    DevicePort open(PortSpec spec) throws IOException;
}
