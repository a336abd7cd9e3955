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
import vnet.switching.Switch;
import vnet.transport.shm.PortSettings;

/**
 * A learning {@link Switch} per {@code vnet.switch} factory configuration, registered as a {@link Fabric} service
 * while it runs. Its ports come from {@code vnet.port} configurations naming it.
 */
@Component(configurationPid = SwitchComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = SwitchComponent.Config.class, factory = true)
public final class SwitchComponent {
    /** The factory PID. */
    public static final String PID = "vnet.switch";

    /** The p2p server's options plus the switch's own. */
    @ObjectClassDefinition(name = "vnet switch", description = "A learning Ethernet switch of virtio-net ports with "
            + "VLANs, monitor ports and pcap captures.")
    public @interface Config {
        @AttributeDefinition(name = "Name", description = "Unique among links and switches; ports name it in 'link'.")
        String name();

        @AttributeDefinition(name = "Poll interval (us)", description = "0: notification mode. Else poll the queues "
                + "every that many microseconds with guest notifications off.", min = "0")
        long poll() default 0;

        @AttributeDefinition(name = "Busy poll", description = "Poll the queues without pause on the worker's "
                + "core, guest notifications off: for a dedicated core (no syscall, no sleep while frames flow). "
                + "Excludes poll.", required = false)
        boolean busy_poll() default false;

        @AttributeDefinition(name = "Maximum queue size", description = "A power of 2 in 1..32768.", min = "1",
                max = "32768")
        int size() default PortSettings.QUEUE_SIZE_DEFAULT;

        @AttributeDefinition(name = "Trusted dataspaces", description = "Paths of the only files clients may share as "
                + "memory; empty: any.", required = false)
        String[] register_ds() default {};

        @AttributeDefinition(name = "Workers", description = "Data-path threads (1..16): the switch spreads its ports over them.", min = "1",
                max = "16", required = false)
        int workers() default 1;

        @AttributeDefinition(name = "CPUs", description = "Pin worker i to the i-th CPU of this list (e.g. 2,3 or 2-5); "
                + "empty: not pinned.", required = false)
        String cpus() default "";

        @AttributeDefinition(name = "Runtime folder", description = "Sockets go to <runtime.dir>/<name>/. Default: the "
                + "framework property vnet.runtime.dir, else /tmp/vnet.", required = false)
        String runtime_dir() default "";

        @AttributeDefinition(name = "Maximum ports", description = "Ports at most (1..4096).", min = "1", max = "4096")
        int max_ports() default Switch.DEFAULT_MAX_PORTS;

        @AttributeDefinition(name = "MAC aging (s)", description = "Seconds a learned address lives unseen.", min = "1")
        int mac_aging() default Switch.DEFAULT_MAC_AGING_SECONDS;

        @AttributeDefinition(name = "MAC table size", description = "Learned addresses at most (1..1048576).",
                min = "1", max = "1048576")
        int mac_table_size() default Switch.DEFAULT_MAC_TABLE_SIZE;
    }

    private RunningFabric<Switch> running;

    @Activate
    void activate(BundleContext context, Map<String, Object> properties) {
        running = RunningFabric.start(context, properties, PID, Fabric.KIND_SWITCH, Config.class,
                c -> new RunningFabric.Common(c.name(), c.poll(), c.busy_poll(), c.size(), c.register_ds(), c.runtime_dir(),
                        c.workers(), c.cpus()),
                (c, settings) -> new Switch(c.name(), settings, c.max_ports(), c.mac_aging(), c.mac_table_size()));
    }

    @Deactivate
    void deactivate() {
        if (running != null) {
            running.stop();
            running = null;
        }
    }
}
