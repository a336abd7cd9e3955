package vnet.metrics;

/**
 * A port's counters, {@code vnet:type=port,link=<link>,name=<port>}. As in virtio, from the port's client: tx is
 * what it transmitted into vnet, rx what vnet delivered to it; TxDrops* are frames from it that vnet dropped,
 * RxDrops* frames for it that could not be delivered.
 */
public interface PortMXBean {
    String getLink();

    String getName();

    /** Whether a driver runs the port's device now. */
    boolean isUp();

    long getTxFrames();

    long getTxBytes();

    long getRxFrames();

    long getRxBytes();

    long getTxDropsVlan();

    long getTxDropsSpoofed();

    long getTxDropsMonitor();

    long getTxDropsNoPeer();

    long getRxDropsNoRxBuffer();

    long getRxDropsTooBig();

    long getRxDropsOffload();

    long getRxDropsQueueError();
}
