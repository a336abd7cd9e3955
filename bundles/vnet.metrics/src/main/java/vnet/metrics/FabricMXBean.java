package vnet.metrics;

/** A p2p link or switch, {@code vnet:type=link,name=<name>} or {@code vnet:type=switch,name=<name>}. */
public interface FabricMXBean {
    String getName();

    /** p2p or switch. */
    String getKind();

    int getPorts();

    /** Ports whose device a driver runs now. */
    int getPortsUp();

    long getPollMicros();

    int getMaxQueueSize();

    /** Learned MAC addresses (0 on a p2p link). */
    int getMacTableEntries();
}
