package vnet.transport.vxlan.internal;

/**
 * What a VXLAN port did, both ways. "Encapsulated" frames came from the switch and left as datagrams (one per remote
 * they went to); "decapsulated" ones came as datagrams and went to the switch.
 *
 * @param encapsulated       frames from the switch sent into the tunnel
 * @param datagramsSent      datagrams sent (a flooded frame is one per remote)
 * @param datagramsReceived  datagrams received, good or not
 * @param decapsulated       frames handed to the switch
 * @param dropsUnknownSource datagrams from an address that is not one of {@code remote=}
 * @param dropsBadFlags      VXLAN headers without the I flag or with reserved bits set
 * @param dropsWrongVni      VXLAN headers of another VNI
 * @param dropsShort         datagrams too short for a VXLAN header and an Ethernet header
 * @param dropsTooBig        inner frames larger than the underlay MTU allows (either way; never fragmented)
 * @param dropsQueueFull     decapsulated frames for which the switch-bound queue had no room
 * @param dropsOffload       frames from the switch with a GSO header (not negotiated, so not expected)
 * @param sendErrors         datagrams the kernel refused (e.g. no route to the remote)
 * @param learnFailures      addresses the remote table had no room for (their frames are flooded)
 */
public record VxlanCounters(long encapsulated, long datagramsSent, long datagramsReceived, long decapsulated,
                            long dropsUnknownSource, long dropsBadFlags, long dropsWrongVni, long dropsShort,
                            long dropsTooBig, long dropsQueueFull, long dropsOffload, long sendErrors,
                            long learnFailures) {
}
