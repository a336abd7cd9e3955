package vnet.peer.internal;

import java.io.IOException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import vnet.peer.HostPeer;
import vnet.peer.PeerOptions;
import vnet.peer.PeerStats;
import vnet.peer.PeerStatus;

/**
 * One host peer per factory configuration of PID {@value #PID}: adding a configuration creates its TAP interface and
 * attaches it, changing it re-creates it, deleting it deletes the interface. Each is a {@link PeerStatus} service.
 */
@Component(name = HostPeerComponent.PID, configurationPid = HostPeerComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = PeerStatus.class, immediate = true)
@Designate(ocd = HostPeerComponent.Config.class, factory = true)
public final class HostPeerComponent implements PeerStatus {
    /** The factory PID. */
    public static final String PID = "vnet.peer";

    /** A host peer's configuration. */
    @ObjectClassDefinition(pid = PID, name = "vnet host peer",
            description = "A TAP interface (vp0, vp1, ...) onto a guest's virtio-net NIC or a vnet port (QNX vdevpeer-net)")
    public @interface Config {
        /** The QNX options of one host peer. */
        @AttributeDefinition(name = "options", description = "peer=path or bind=path, then optionally mac=XXXXXXXXXXXX, "
                + "name=prefix, legacy, priority=level (QNX devnp-vdevpeer-net syntax, one host peer)")
        String options();

        /** The interface number, or -1 for the lowest free one. */
        @AttributeDefinition(name = "index", description = "the n of <name><n>; -1 takes the lowest free number")
        int index() default -1;
    }

    private final HostPeer peer;

    /** Parses the options and starts the host peer; a bad configuration fails activation with the parser's message. */
    @Activate
    public HostPeerComponent(Config config) throws IOException {
        this.peer = HostPeer.start(PeerOptions.parseOne(config.options()), config.index());
    }

    /** The running host peer. */
    public HostPeer peer() {
        return peer;
    }

    @Override
    public PeerOptions options() {
        return peer.options();
    }

    @Override
    public String interfaceName() {
        return peer.interfaceName();
    }

    @Override
    public boolean isConnected() {
        return peer.isConnected();
    }

    @Override
    public PeerStats stats() {
        return peer.stats();
    }

    @Override
    public int txThreadId() {
        return peer.txThreadId();
    }

    @Override
    public String toString() {
        return peer.toString();
    }

    /** Deletes the TAP interface. */
    @Deactivate
    public void deactivate() {
        peer.close();
    }
}
