package vnet.switching;

/**
 * Counters of one port, seen from the port's client as in virtio: {@code tx} is what the client transmitted into
 * the link or switch, {@code rx} what was delivered into its receive queue. Drops are counted by reason on the
 * port where they happen: ingress reasons (VLAN, spoofed source, monitor, no peer, MTU) on the sending port, egress
 * reasons (no RX buffer, too big, offload, queue error) on the receiving one.
 *
 * @param txFrames         frames the client transmitted
 * @param txBytes          their Ethernet bytes (without the virtio-net header)
 * @param rxFrames         frames delivered to the client
 * @param rxBytes          their Ethernet bytes
 * @param dropsNoRxBuffer  frames for this client dropped: its receive queue had no (or too few) buffers
 * @param dropsTooBig      frames for this client dropped: larger than its buffers allow
 * @param dropsVlan        frames from this client dropped: tagged on an access port, untagged or of a non-member
 *                         VLAN on a trunk
 * @param dropsSpoofed     frames from this client dropped: multicast source, or a source other than the port's
 *                         {@code mac=}
 * @param dropsQueueError  frames for this client dropped because its receive queue is broken (invalid buffers)
 * @param dropsOffload     frames for this client dropped: an offload (GSO, checksum) its driver cannot take
 * @param dropsMonitor     frames a monitor port's client tried to transmit (monitor ports may not)
 * @param dropsNoPeer      frames from this client dropped on a p2p link whose other side was not running
 * @param dropsMacLimit    frames from this client dropped: a new source address beyond its {@code max-macs}
 * @param dropsFloodLimit  flooded frames from this client dropped beyond its {@code flood-limit}
 * @param dropsMtu         frames from this client dropped: longer than the port's {@code mtu=} (not GSO)
 */
public record PortStats(long txFrames, long txBytes, long rxFrames, long rxBytes, long dropsNoRxBuffer,
                        long dropsTooBig, long dropsVlan, long dropsSpoofed, long dropsQueueError, long dropsOffload,
                        long dropsMonitor, long dropsNoPeer, long dropsMacLimit, long dropsFloodLimit, long dropsMtu) {

    /** Counters without the port-security and MTU drops (they are 0). */
    public PortStats(long txFrames, long txBytes, long rxFrames, long rxBytes, long dropsNoRxBuffer, long dropsTooBig,
            long dropsVlan, long dropsSpoofed, long dropsQueueError, long dropsOffload, long dropsMonitor, long dropsNoPeer) {
        this(txFrames, txBytes, rxFrames, rxBytes, dropsNoRxBuffer, dropsTooBig, dropsVlan, dropsSpoofed, dropsQueueError,
                dropsOffload, dropsMonitor, dropsNoPeer, 0, 0, 0);
    }

    /** All drops, whatever the reason. */
    public long drops() {
        return dropsNoRxBuffer + dropsTooBig + dropsVlan + dropsSpoofed + dropsQueueError + dropsOffload
                + dropsMonitor + dropsNoPeer + dropsMacLimit + dropsFloodLimit + dropsMtu;
    }
}
