package vnet.example.responder;

import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import vnet.transport.shm.inproc.Endpoint;
import vnet.transport.shm.inproc.InprocPort;

/**
 * Attaches to the in-framework port named {@code responder} (any link or switch; see {@link Config#port_target()})
 * as soon as it exists, and answers ARP and ping for {@link Config#ip()}, so that a guest on the same switch can
 * ping this bundle. Stopping the bundle detaches it; starting it again reattaches.
 */
@Component(configurationPid = "vnet.example.responder", configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ResponderComponent.Config.class)
public final class ResponderComponent {

    @ObjectClassDefinition(name = "vnet example responder", description = "Answers ARP and ping on an inproc port")
    public @interface Config {
        @AttributeDefinition(description = "the IPv4 address to answer for")
        String ip() default "192.0.2.100";

        @AttributeDefinition(description = "the MAC address to answer with, when the port has no mac= option")
        String mac() default "02:00:00:00:00:64";

        @AttributeDefinition(description = "which inproc port to attach to (an OSGi filter)")
        String port_target() default "(vnet.port.name=responder)";
    }

    @Reference(name = "port", target = "(vnet.port.name=responder)")
    private InprocPort port;

    private Endpoint endpoint;
    private Thread thread;
    private volatile boolean running;

    @Activate
    void activate(Config config) throws java.io.IOException {
        byte[] ip = PingResponder.parseIp(config.ip());
        byte[] mac = port.mac() >= 0 ? PingResponder.macBytes(port.mac()) : PingResponder.parseMac(config.mac());
        PingResponder responder = new PingResponder(mac, ip);
        endpoint = port.attach();
        running = true;
        Endpoint e = endpoint;
        thread = new Thread(() -> serve(e, responder), "vnet-responder-" + port.name());
        thread.setDaemon(true);
        thread.start();
        System.out.println("vnet.example.responder: attached to port " + port.name() + ", answering ARP and ping for "
                + config.ip() + " as " + PingResponder.format(mac));
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(5000);
        }
        if (endpoint != null) {
            System.out.println("vnet.example.responder: detached from port " + endpoint.portName() + " (answered "
                    + endpoint.txFrames() + " frames)");
            endpoint.close();
        }
    }

    private void serve(Endpoint e, PingResponder responder) {
        byte[] in = new byte[e.maxFrameLength()];
        byte[] out = new byte[e.maxFrameLength()];
        try {
            while (running && e.isOpen()) {
                if (!e.await(200, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                int n;
                while ((n = e.receive(in, 0)) != Endpoint.NONE) {
                    int m = responder.answer(in, n, out);
                    if (m > 0) {
                        e.send(out, 0, m);
                    }
                }
            }
        } catch (InterruptedException stop) {
            Thread.currentThread().interrupt();
        }
    }
}
