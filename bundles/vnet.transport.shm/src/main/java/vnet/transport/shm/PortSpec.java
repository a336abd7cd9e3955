package vnet.transport.shm;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a link or switch asks a {@link Transport} for.
 *
 * @param link     the p2p link or switch the port belongs to (null when it belongs to none)
 * @param name     the port's name, unique within its link or switch
 * @param settings what the client may do (ds-max, mac, queue size, trusted dataspaces, poll mode)
 * @param socket   where a socket transport listens or connects; null where the transport has none
 * @param client   true if vnet connects to a listening front-end instead of listening itself
 * @param options  the transport's own options from the port's option string (keys of
 *                 {@link Transport#optionNames()}), already accepted by {@link Transport#checkOptions}; empty for
 *                 transports that take none
 */
public record PortSpec(String link, String name, PortSettings settings, Path socket, boolean client,
                       Map<String, String> options) {
    public PortSpec {
        options = options == null ? Map.of() : Map.copyOf(options);
    }

    /** A spec without transport options. */
    public PortSpec(String link, String name, PortSettings settings, Path socket, boolean client) {
        this(link, name, settings, socket, client, Map.of());
    }
}
