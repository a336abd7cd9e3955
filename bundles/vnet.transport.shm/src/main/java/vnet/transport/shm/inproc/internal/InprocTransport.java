package vnet.transport.shm.inproc.internal;

import java.io.IOException;
import java.util.Hashtable;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceFactory;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import vnet.transport.shm.DevicePort;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.Transport;
import vnet.transport.shm.inproc.Endpoint;
import vnet.transport.shm.inproc.InprocPort;

/**
 * The {@code inproc} transport: {@link #open} makes an {@link InprocDevicePort} and registers it as a
 * bundle-scoped {@link InprocPort} service until the port closes. Without a bundle context (plain Java)
 * ports are found with {@link #port(String)}. The bundle declares the {@code InprocPort} service capability, so
 * that resolvers (Karaf features) accept bundles that require it.
 */
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>=\"vnet.transport.shm.inproc.InprocPort\"",
        uses = InprocPort.class)
@Component(service = Transport.class, property = Transport.TYPE_PROPERTY + "=" + InprocPort.TYPE)
public final class InprocTransport implements Transport {
    private final Set<InprocDevicePort> ports = ConcurrentHashMap.newKeySet();
    private final Map<InprocDevicePort, ServiceRegistration<?>> registrations = new ConcurrentHashMap<>();
    private volatile BundleContext context;

    @Activate
    void activate(BundleContext context) {
        this.context = context;
    }

    @Deactivate
    void deactivate() {
        for (InprocDevicePort p : ports) {
            p.close();
        }
        context = null;
    }

    @Override
    public String type() {
        return InprocPort.TYPE;
    }

    @Override
    public DevicePort open(PortSpec spec) throws IOException {
        String link = spec.link();
        InprocDevicePort[] self = new InprocDevicePort[1];
        InprocDevicePort port = new InprocDevicePort(spec.name(), link, spec.settings(), () -> unregister(self[0]));
        self[0] = port;
        ports.add(port);
        BundleContext ctx = context;
        if (ctx != null) {
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(InprocPort.NAME_PROPERTY, spec.name());
            props.put(Transport.TYPE_PROPERTY, InprocPort.TYPE);
            if (link != null) {
                props.put(InprocPort.LINK_PROPERTY, link);
            }
            registrations.put(port, ctx.registerService(InprocPort.class.getName(), new PerBundle(port), props));
        }
        return port;
    }

    /** An open port by name ({@code link/name} or just {@code name}), or null. */
    public InprocPort port(String name) {
        for (InprocDevicePort p : ports) {
            if (name.equals(p.name()) || name.equals(p.link() + "/" + p.name())) {
                return p;
            }
        }
        return null;
    }

    private void unregister(InprocDevicePort port) {
        ports.remove(port);
        ServiceRegistration<?> reg = registrations.remove(port);
        if (reg != null) {
            try {
                reg.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the bundle stopped first
            }
        }
    }

    /** One view of a port per using bundle: when the bundle ungets it (stops), its endpoint is closed. */
    private static final class PerBundle implements ServiceFactory<InprocPort> {
        private final InprocDevicePort port;

        PerBundle(InprocDevicePort port) {
            this.port = port;
        }

        @Override
        public InprocPort getService(Bundle bundle, ServiceRegistration<InprocPort> registration) {
            return new View(port);
        }

        @Override
        public void ungetService(Bundle bundle, ServiceRegistration<InprocPort> registration, InprocPort service) {
            ((View) service).closeEndpoint();
        }
    }

    private static final class View implements InprocPort {
        private final InprocDevicePort port;
        private Endpoint endpoint;

        View(InprocDevicePort port) {
            this.port = port;
        }

        @Override
        public String name() {
            return port.name();
        }

        @Override
        public long mac() {
            return port.mac();
        }

        @Override
        public boolean isAttached() {
            return port.isAttached();
        }

        @Override
        public synchronized Endpoint attach() throws IOException {
            Endpoint e = port.attach();
            endpoint = e;
            return e;
        }

        synchronized void closeEndpoint() {
            if (endpoint != null) {
                endpoint.close();
                endpoint = null;
            }
        }
    }
}
