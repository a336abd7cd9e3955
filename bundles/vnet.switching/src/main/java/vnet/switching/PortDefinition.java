package vnet.switching;

import java.util.Objects;

/**
 * What a port is, apart from the transport that makes it reachable: what a {@code vnet.port} configuration says.
 *
 * @param name     unique in its link or switch
 * @param options  the client's create() options
 * @param vlan     the VLAN mode (switch ports)
 * @param monitor  a monitor port: receives a copy of all traffic, may not transmit (switch ports)
 * @param endpoint a description of how the client reaches the port, for listings
 */
public record PortDefinition(String name, PortOptions options, VlanMode vlan, boolean monitor, String endpoint) {
    public PortDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(vlan, "vlan");
        Objects.requireNonNull(endpoint, "endpoint");
    }

    /** An untagged, non-monitor port with these options. */
    public static PortDefinition of(String name, PortOptions options) {
        return new PortDefinition(name, options, VlanMode.DEFAULT, false, "");
    }
}
