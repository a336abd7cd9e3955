package vnet.transport.vxlan.internal;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import vnet.transport.shm.DevicePort;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.Transport;
import vnet.transport.vxlan.VxlanOptions;

/**
 * The {@code vxlan} transport: a port whose far side is a VXLAN tunnel ({@link VxlanPort}). Its options
 * ({@code vni}, {@code local}, {@code remote}, {@code dstport}) come in the port's option string and are checked
 * here, before anything opens.
 */
@Component(service = Transport.class, property = Transport.TYPE_PROPERTY + "=" + VxlanOptions.TYPE)
public final class VxlanTransport implements Transport {
    /** Open ports, closed when the bundle stops (their configurations then wait for the transport to return). */
    private final Set<VxlanPort> ports = ConcurrentHashMap.newKeySet();

    @Deactivate
    void deactivate() {
        for (VxlanPort p : ports) {
            p.close();
        }
    }

    @Override
    public String type() {
        return VxlanOptions.TYPE;
    }

    @Override
    public Set<String> optionNames() {
        return VxlanOptions.KEYS;
    }

    @Override
    public void checkOptions(Map<String, String> options, long mac) {
        VxlanOptions.parse(options, mac);
    }

    @Override
    public DevicePort open(PortSpec spec) throws IOException {
        VxlanPort port = VxlanPort.open(spec, VxlanOptions.parse(spec.options(), spec.settings().mac()), ports::remove);
        ports.add(port);
        return port;
    }
}
