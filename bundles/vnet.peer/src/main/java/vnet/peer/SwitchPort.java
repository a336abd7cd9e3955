package vnet.peer;

import java.util.Objects;

/**
 * A port of a vnet switch or p2p link, by name: what {@code peer=<link>:<port>} names. The host peer attaches to it
 * in-process, as the driver of the port's in-framework ({@code inproc}) transport: the {@code InprocPort} service with
 * {@code vnet.link=<link>} and {@code vnet.port.name=<port>}.
 *
 * @param link the switch's or p2p link's name
 * @param port the port's name in it
 */
public record SwitchPort(String link, String port) {
    /** A vnet name: 1..64 letters, digits, '.', '_' or '-' (not "." or ".."), as vnet.switching accepts them. */
    static final String NAME_PATTERN = "[A-Za-z0-9_.-]{1,64}";

    /** Checks both names. */
    public SwitchPort {
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(port, "port");
        if (!isName(link) || !isName(port)) {
            throw new IllegalArgumentException("not a switch port: " + link + ":" + port);
        }
    }

    /** Whether {@code s} is a valid link, switch or port name. */
    static boolean isName(String s) {
        return s.matches(NAME_PATTERN) && !s.equals(".") && !s.equals("..");
    }

    /** {@code link:port}, as {@code peer=} takes it. */
    @Override
    public String toString() {
        return link + ":" + port;
    }
}
