package vnet.peer;

/**
 * What a running host peer tells about itself: every {@link HostPeer} is one, and each configured host peer (factory
 * PID {@code vnet.peer}) is registered as an OSGi service of this type, for shells and monitors.
 */
public interface PeerStatus {
    /** The options it runs with. */
    PeerOptions options();

    /** The TAP interface's name, e.g. {@code vp0}. */
    String interfaceName();

    /** Whether a guest is connected ({@code bind=}) or the vnet port is reached ({@code peer=}) and running. */
    boolean isConnected();

    /** The frame counters. */
    PeerStats stats();

    /** The TX thread's kernel thread id. */
    int txThreadId();
}
