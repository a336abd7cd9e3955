package vnet.itest;

import java.io.IOException;

import vnet.transport.shm.DevicePort;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.Transport;
import vnet.transport.shm.vhost.VhostUserPort;

/**
 * A transport from another bundle (this one), type {@value #TYPE}: ports over vhost-user sockets too, but its
 * service lives and dies with the test bundle, not with vnet.transport.shm.
 */
final class ThirdPartyTransport implements Transport {
    static final String TYPE = "thirdparty";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public DevicePort open(PortSpec spec) throws IOException {
        return VhostUserPort.listen(spec.name(), spec.socket(), spec.settings());
    }
}
