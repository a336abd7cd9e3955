package vnet.switching;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A running p2p link or switch, as the shell and other observers see it. Each one configured through ConfigAdmin is
 * registered as a service of this interface with the properties {@value #NAME_PROPERTY} and {@value #KIND_PROPERTY}.
 * Reads are safe from any thread and never stop the data path for longer than one forwarding round.
 */
public interface Fabric {
    /** Service property: the link's or switch's name (the {@code name} of its configuration). */
    String NAME_PROPERTY = "vnet.fabric.name";
    /** Service property: {@value #KIND_P2P} or {@value #KIND_SWITCH}. */
    String KIND_PROPERTY = "vnet.fabric.kind";
    String KIND_P2P = "p2p";
    String KIND_SWITCH = "switch";

    /** The name, unique among links and switches. */
    String name();

    /** {@value #KIND_P2P} or {@value #KIND_SWITCH}. */
    String kind();

    /** Poll interval in microseconds, 0 in notification mode (L4Re {@code --poll}). */
    long pollMicros();

    /** Whether the worker busy-polls (a dedicated core; configuration {@code busy.poll}). */
    default boolean busyPoll() {
        return false;
    }

    /** Largest virtqueue size a port accepts (L4Re {@code --size}). */
    int maxQueueSize();

    /** Data-path threads moving the frames (configuration {@code workers}). */
    default int workers() {
        return 1;
    }

    /** The ports, in the order they were added. */
    List<FabricPort> ports();

    /**
     * One port.
     *
     * @throws IllegalArgumentException {@code no port "<name>" on <kind> "<fabric>"}
     */
    FabricPort port(String name);

    /** One port's counters (see {@link #port(String)} for the error). */
    PortStats stats(String port);

    /** The running queue pairs of a port: negotiated features, ring indexes, per-queue counters; empty while down. */
    List<QueueState> queues(String port);

    /** A copy of the learned addresses (a switch; always empty for a p2p link). */
    List<MacEntry> macTable();

    /**
     * Starts writing every frame the port sends and receives to a pcap file (libpcap format, Ethernet link type,
     * microsecond timestamps) that tcpdump, tshark and Wireshark read. A capture already running for the port is
     * stopped first.
     *
     * @throws IOException if the file cannot be created
     */
    void startCapture(String port, Path file) throws IOException;

    /** Stops the port's capture, if any, and closes its file once every captured frame is written. */
    void stopCapture(String port);
}
