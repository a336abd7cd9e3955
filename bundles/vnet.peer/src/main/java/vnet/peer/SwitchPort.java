package vnet.peer;

import java.util.Objects;

import vnet.transport.shm.Names;

/**
 * A port of a vnet switch or p2p link, by name: what {@code peer=<link>:<port>} names. The host peer attaches to it
 * in-process, as the driver of the port's in-framework ({@code inproc}) transport: the {@code InprocPort} service with
 * {@code vnet.link=<link>} and {@code vnet.port.name=<port>}.
 *
 * @param link the switch's or p2p link's name
 * @param port the port's name in it
 */
public record SwitchPort(String link, String port) {
    /** Checks both names. */
    public SwitchPort {
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(port, "port");
        if (!Names.isValid(link) || !Names.isValid(port)) {
            throw new IllegalArgumentException("not a switch port: " + link + ":" + port);
        }
    }

    /** {@code link:port}, as {@code peer=} takes it. */
    @Override
    public String toString() {
        return link + ":" + port;
    }
}
