package vnet.switching;

/**
 * A port of a link or switch, as the shell lists it.
 *
 * @param name      the port's name, unique in its link or switch
 * @param options   its create() options ({@code ds-max}, {@code mac})
 * @param vlan      its VLAN mode (switch ports; {@link VlanMode#DEFAULT} on p2p links)
 * @param monitor   whether it receives a copy of all traffic and may not transmit
 * @param endpoint  how its client reaches it, e.g. {@code vhost-user server /tmp/vnet/s/a.sock}
 * @param running   whether a driver runs its device and the data path forwards with it: a frame sent from now
 *                  on is taken
 * @param capturing whether a pcap capture of its traffic is being written
 * @param stats     its counters
 */
public record FabricPort(String name, PortOptions options, VlanMode vlan, boolean monitor, String endpoint,
                         boolean running, boolean capturing, PortStats stats) {
}
