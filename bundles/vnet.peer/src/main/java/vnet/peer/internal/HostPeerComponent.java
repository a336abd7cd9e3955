package vnet.peer.internal;

import java.io.IOException;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.util.tracker.ServiceTracker;

import vnet.peer.HostPeer;
import vnet.peer.PeerOptions;
import vnet.peer.PeerStats;
import vnet.peer.PeerStatus;
import vnet.peer.SwitchPort;
import vnet.transport.shm.inproc.InprocPort;

/**
 * One host peer per factory configuration of PID {@value #PID}: adding a configuration creates its TAP interface and
 * attaches it, changing it re-creates it, deleting it deletes the interface. Each is a {@link PeerStatus} service.
 * A {@code peer=<link>:<port>} host peer tracks the {@link InprocPort} service with {@code vnet.link=<link>} and
 * {@code vnet.port.name=<port>}: it attaches once the port is there, and again each time the port comes back.
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
        @AttributeDefinition(name = "options", description = "peer=path, peer=<switch or link>:<port> (an inproc port) "
                + "or bind=path, then optionally mac=XXXXXXXXXXXX, name=prefix, legacy, priority=level "
                + "(QNX devnp-vdevpeer-net syntax, one host peer)")
        String options();

        /** The interface number, or -1 for the lowest free one. */
        @AttributeDefinition(name = "index", description = "the n of <name><n>; -1 takes the lowest free number")
        int index() default -1;
    }

    private final HostPeer peer;
    private final PortTracker ports;
    /** The peer once started, for the tracker's events (which may come before). */
    private volatile HostPeer started;

    /**
     * Parses the options and starts the host peer; a bad configuration fails activation with the parser's message.
     * Outside a framework (no bundle context) {@code peer=<link>:<port>} is refused.
     */
    @Activate
    public HostPeerComponent(Config config, BundleContext context) throws IOException {
        PeerOptions options = PeerOptions.parseOne(config.options());
        if (options.isSwitchPort() && context != null) {
            ports = new PortTracker(context, options.peerPort());
            ports.open();
            try {
                peer = HostPeer.start(options, config.index(), port -> ports.find());
            } catch (IOException | RuntimeException e) {
                ports.close();
                throw e;
            }
        } else {
            ports = null;
            peer = HostPeer.start(options, config.index());
        }
        started = peer;
    }

    /** A host peer outside a framework: {@code peer=<link>:<port>} is refused (there is no InprocPort to find). */
    public HostPeerComponent(Config config) throws IOException {
        this(config, null);
    }

    /** {@code (&(objectClass=vnet.transport.shm.inproc.InprocPort)(vnet.link=<link>)(vnet.port.name=<port>))}. */
    static String filterString(SwitchPort port) {
        // names are letters, digits, '.', '_', '-': nothing to escape in a filter
        return "(&(objectClass=" + InprocPort.class.getName() + ")(" + InprocPort.LINK_PROPERTY + "=" + port.link()
                + ")(" + InprocPort.NAME_PROPERTY + "=" + port.port() + "))";
    }

    private static org.osgi.framework.Filter filter(BundleContext context, SwitchPort port) {
        try {
            return context.createFilter(filterString(port));
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException("peer=" + port + ": " + e.getMessage(), e);
        }
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

    /** Deletes the TAP interface (detaching from an inproc port first), then stops tracking ports. */
    @Deactivate
    public void deactivate() {
        peer.close();
        if (ports != null) {
            ports.close();
        }
    }

    /** Tracks the host peer's inproc port and tells the peer when it comes or goes, so that it attaches at once. */
    private final class PortTracker extends ServiceTracker<InprocPort, InprocPort> {
        /** The port last added (the tracker's own table gets it only after {@link #addingService} returns). */
        private volatile InprocPort current;

        PortTracker(BundleContext context, SwitchPort port) {
            super(context, filter(context, port), null);
        }

        /** The port's service (this bundle's view of it), or null. */
        InprocPort find() {
            InprocPort p = current;
            return p != null ? p : getService();
        }

        @Override
        public InprocPort addingService(ServiceReference<InprocPort> reference) {
            InprocPort p = super.addingService(reference);
            current = p;
            changed();
            return p;
        }

        @Override
        public void modifiedService(ServiceReference<InprocPort> reference, InprocPort service) {
            changed();
        }

        @Override
        public void removedService(ServiceReference<InprocPort> reference, InprocPort service) {
            if (current == service) {
                current = null;
            }
            super.removedService(reference, service); // our endpoint closed with the port already
            changed();
        }

        private void changed() {
            HostPeer p = started;
            if (p != null) {
                p.portsChanged();
            }
        }
    }
}
