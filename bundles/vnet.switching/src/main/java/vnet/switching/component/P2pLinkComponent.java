package vnet.switching.component;

import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import vnet.switching.Fabric;
import vnet.switching.P2pLink;
import vnet.transport.shm.PortSettings;

/**
 * A {@link P2pLink} per {@code vnet.p2p} factory configuration, registered as a {@link Fabric} service while it
 * runs. Its two ports come from {@code vnet.port} configurations naming it.
 */
@Component(configurationPid = P2pLinkComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = P2pLinkComponent.Config.class, factory = true)
public final class P2pLinkComponent {
    /** The factory PID. */
    public static final String PID = "vnet.p2p";

    /** The options of the L4Re virtio-net p2p server. */
    @ObjectClassDefinition(name = "vnet p2p link", description = "Two virtio-net ports, each one's transmitted frames "
            + "into the other's receive queue (the L4Re virtio-net p2p server).")
    public @interface Config {
        @AttributeDefinition(name = "Name", description = "Unique among links and switches; ports name it in 'link'.")
        String name();

        @AttributeDefinition(name = "Poll interval (us)", description = "0: notification mode. Else poll the queues "
                + "every that many microseconds with guest notifications off (L4Re --poll).", min = "0")
        long poll() default 0;

        @AttributeDefinition(name = "Busy poll", description = "Poll the queues without pause on the worker's "
                + "core, guest notifications off: for a dedicated core (no syscall, no sleep while frames flow). "
                + "Excludes poll.", required = false)
        boolean busy_poll() default false;

        @AttributeDefinition(name = "Maximum queue size", description = "A power of 2 in 1..32768 (L4Re --size).",
                min = "1", max = "32768")
        int size() default PortSettings.QUEUE_SIZE_DEFAULT;

        @AttributeDefinition(name = "Trusted dataspaces", description = "Paths of the only files clients may share as "
                + "memory (L4Re --register-ds); empty: any.", required = false)
        String[] register_ds() default {};

        @AttributeDefinition(name = "Workers", description = "Data-path threads: 1, or 2 for one per direction.", min = "1",
                max = "2", required = false)
        int workers() default 1;

        @AttributeDefinition(name = "CPUs", description = "Pin worker i to the i-th CPU of this list (e.g. 2,3 or 2-5); "
                + "empty: not pinned.", required = false)
        String cpus() default "";

        @AttributeDefinition(name = "Runtime folder", description = "Sockets go to <runtime.dir>/<name>/. Default: the "
                + "framework property vnet.runtime.dir, else /tmp/vnet.", required = false)
        String runtime_dir() default "";
    }

    private RunningFabric<P2pLink> running;

    @Activate
    void activate(BundleContext context, Map<String, Object> properties) {
        running = RunningFabric.start(context, properties, PID, Fabric.KIND_P2P, Config.class,
                c -> new RunningFabric.Common(c.name(), c.poll(), c.busy_poll(), c.size(), c.register_ds(), c.runtime_dir(),
                        c.workers(), c.cpus()),
                (c, settings) -> new P2pLink(c.name(), settings));
    }

    @Deactivate
    void deactivate() {
        if (running != null) {
            running.stop();
            running = null;
        }
    }
}
