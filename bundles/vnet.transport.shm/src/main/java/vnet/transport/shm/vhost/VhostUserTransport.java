package vnet.transport.shm.vhost;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.Transport;

/**
 * The {@code vhost-user} {@link Transport} service: a port spec becomes a {@link VhostUserPort} that listens at the
 * spec's socket (or, for a client spec, connects to a front-end listening there and keeps reconnecting). When this
 * component goes away (its bundle stops), every port it opened and its owner did not close yet is closed.
 */
@Component(service = Transport.class, property = Transport.TYPE_PROPERTY + "=" + VhostUserTransport.TYPE)
public final class VhostUserTransport implements Transport {
    private static final Logger LOG = System.getLogger(VhostUserTransport.class.getName());

    /** The transport type. */
    public static final String TYPE = "vhost-user";
    /** How long a client-mode port waits between connection attempts. */
    public static final Duration RECONNECT_DELAY = Duration.ofMillis(500);

    private final List<OpenPort> open = new ArrayList<>();
    private boolean closed;

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public DevicePort open(PortSpec spec) throws IOException {
        Objects.requireNonNull(spec, "spec");
        if (spec.socket() == null) {
            throw new IllegalArgumentException("vhost-user port \"" + spec.name() + "\" needs a socket path");
        }
        synchronized (this) {
            if (closed) {
                throw new IOException("the vhost-user transport is stopping");
            }
        }
        VhostUserPort port = spec.client()
                ? VhostUserPort.connect(spec.name(), spec.socket(), spec.settings(), RECONNECT_DELAY)
                : VhostUserPort.listen(spec.name(), spec.socket(), spec.settings());
        OpenPort p = new OpenPort(port);
        synchronized (this) {
            if (closed) {
                port.close();
                throw new IOException("the vhost-user transport is stopping");
            }
            open.add(p);
        }
        return p;
    }

    /** Closes the ports whose owners did not. */
    @Deactivate
    void deactivate() {
        List<OpenPort> left;
        synchronized (this) {
            closed = true;
            left = List.copyOf(open);
            open.clear();
        }
        for (OpenPort p : left) {
            LOG.log(Level.INFO, "vhost-user transport stopping: closing port {0}", p.name());
            p.port.close();
        }
    }

    private synchronized void forget(OpenPort p) {
        open.remove(p);
    }

    /** A port this transport keeps track of until it is closed. */
    private final class OpenPort implements DevicePort {
        final VhostUserPort port;

        OpenPort(VhostUserPort port) {
            this.port = port;
        }

        @Override
        public String name() {
            return port.name();
        }

        @Override
        public DeviceSnapshot device() {
            return port.device();
        }

        @Override
        public void setDataPath(DataPath dataPath) {
            port.setDataPath(dataPath);
        }

        @Override
        public String memoryFault() {
            return port.memoryFault();
        }

        @Override
        public void fail(String reason) {
            port.fail(reason);
        }

        @Override
        public void close() {
            forget(this);
            port.close();
        }

        @Override
        public String toString() {
            return "vhost-user " + port.mode().name().toLowerCase() + " " + port.socketPath();
        }
    }
}
