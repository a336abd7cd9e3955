package vnet.transport.shm;

import java.nio.file.Path;

/**
 * What a link or switch asks a {@link Transport} for.
 *
 * @param link     the p2p link or switch the port belongs to (null when it belongs to none)
 * @param name     the port's name, unique within its link or switch
 * @param settings what the client may do (ds-max, mac, queue size, trusted dataspaces, poll mode)
 * @param socket   where a socket transport listens or connects; null where the transport has none
 * @param client   true if vnet connects to a listening front-end instead of listening itself
 */
public record PortSpec(String link, String name, PortSettings settings, Path socket, boolean client) {
}
