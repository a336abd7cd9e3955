package vnet.peer;

import vnet.transport.shm.inproc.InprocPort;

/**
 * Finds the in-framework port a {@code peer=<link>:<port>} host peer attaches to. In OSGi the {@code vnet.peer}
 * component gives one that tracks the {@link InprocPort} services; plain Java callers of
 * {@link HostPeer#start(PeerOptions, int, InprocPortResolver)} give their own (e.g. over an {@code InprocTransport}).
 * The host peer asks again whenever the port is not there or went away: every 250 ms, and at once after
 * {@link HostPeer#portsChanged()}.
 */
@FunctionalInterface
public interface InprocPortResolver {
    /**
     * The open inproc port of that switch or link and name, or null if there is none now. Called from the host peer's
     * RX thread; must not block for long.
     */
    InprocPort find(SwitchPort port);
}
