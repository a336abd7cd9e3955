package vnet.transport.shm;

import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * A way to make vnet ports reachable, registered as an OSGi service with the property
 * {@value #TYPE_PROPERTY} naming its type ({@code vhost-user}, {@code inproc}, or a third party's). A port
 * configuration names the type it wants and binds to that service dynamically: when the transport's bundle
 * stops, its ports go down without touching other ports.
 *
 * <p>A port's option string holds the link's own options ({@code ds-max}, {@code mac}) and, for a transport that
 * has some, the transport's: their keys are {@link #optionNames()}, and {@link #checkOptions} refuses bad values
 * before anything is opened, so a bad option is a one-line error that touches nothing.
 */
public interface Transport {
    /** Service property: the transport type a port configuration asks for. */
    String TYPE_PROPERTY = "vnet.transport";

    /** This transport's type, equal to its {@value #TYPE_PROPERTY} service property. */
    String type();

    /** The keys of the options this transport takes in a port's option string; none by default. */
    default Set<String> optionNames() {
        return Set.of();
    }

    /**
     * Checks a port's transport options (keys of {@link #optionNames()} only) and its MAC before anything is opened.
     *
     * @param options the transport's options, as given
     * @param mac     the port's {@code mac=} (48 bits), or -1 for none
     * @throws IllegalArgumentException with a one-line message naming the bad option
     */
    default void checkOptions(Map<String, String> options, long mac) {
    }

    /**
     * Opens a port. It is live (its {@link DevicePort#device()} non-null) once a driver runs it.
     *
     * @throws IOException              if the port cannot be reached (e.g. its socket cannot be bound)
     * @throws IllegalArgumentException if the spec is not valid for this transport
     */
    DevicePort open(PortSpec spec) throws IOException;
}
