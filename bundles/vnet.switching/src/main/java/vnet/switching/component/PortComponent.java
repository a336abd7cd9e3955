package vnet.switching.component;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import vnet.switching.Fabric;
import vnet.switching.PortDefinition;
import vnet.switching.PortHost;
import vnet.switching.PortOptions;
import vnet.switching.VlanMode;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.Transport;

/**
 * A port per {@code vnet.port} factory configuration. It is up while both its link or switch (a {@link PortHost}
 * service named by {@code link}) and its transport (a {@link Transport} service with
 * {@code (vnet.transport=<transport>)}) are there: it then opens the port through the transport and attaches it.
 * When either goes away the port is detached and closed, and it comes back when both are there again; other ports
 * are not touched.
 *
 * <p>An invalid configuration fails activation with the exact message (logged too). A refusal that depends on the
 * link or switch (a third port on a p2p link, a duplicate MAC or name, a full switch) fails activation when the
 * link or switch is already running, and is logged when it appears later.
 */
@Component(configurationPid = PortComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = PortComponent.Config.class, factory = true)
public final class PortComponent {
    private static final Logger LOG = System.getLogger(PortComponent.class.getName());

    /** The factory PID. */
    public static final String PID = "vnet.port";
    /** The default transport. */
    public static final String DEFAULT_TRANSPORT = "vhost-user";

    /** A port of a p2p link or switch. */
    @ObjectClassDefinition(name = "vnet port", description = "A virtio-net port of a p2p link or switch, reachable "
            + "through a transport (vhost-user by default).")
    public @interface Config {
        @AttributeDefinition(name = "Link or switch", description = "The name of the p2p link or switch.")
        String link();

        @AttributeDefinition(name = "Name", description = "Unique in its link or switch.")
        String name();

        @AttributeDefinition(name = "Options", description = "L4Re create() options, space- or comma-separated: "
                + "ds-max=<1..80> (default 2), mac=<xx:xx:xx:xx:xx:xx>; and the transport's own, e.g. vxlan: "
                + "vni=<1..16777215> local=<IPv4> remote=<IPv4>[,<IPv4>...] [dstport=<port>].", required = false)
        String options() default "";

        @AttributeDefinition(name = "Transport", description = "The transport type: binds to the Transport service "
                + "with (vnet.transport=<value>).", required = false)
        String transport() default DEFAULT_TRANSPORT;

        @AttributeDefinition(name = "Socket", description = "Socket path; default <runtime.dir>/<link>/<name>.sock.",
                required = false)
        String socket() default "";

        @AttributeDefinition(name = "Client mode", description = "true: vnet connects to a front-end listening at the "
                + "socket; false: vnet listens.", required = false)
        boolean client() default false;

        @AttributeDefinition(name = "VLAN", description = "Empty: access VLAN 1; access:<id>, trunk:<id>[,<id>...] or "
                + "trunk:all (switch ports).", required = false)
        String vlan() default "";

        @AttributeDefinition(name = "Monitor", description = "Receives a copy of all traffic, may not transmit "
                + "(switch ports).", required = false)
        boolean monitor() default false;
    }

    private final Map<String, PortHost> hosts = new HashMap<>();
    private final Map<String, Transport> transports = new HashMap<>();

    private String pid;
    private String link;
    private String transportType;
    private String optionsText;
    private PortDefinition definition;
    private String socketSetting;
    private boolean client;
    private boolean active;

    private PortHost attachedHost;
    private Transport attachedTransport;
    private DevicePort devicePort;

    @Reference(service = PortHost.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindHost(PortHost host, Map<String, Object> properties) {
        hosts.put(String.valueOf(properties.get(Fabric.NAME_PROPERTY)), host);
        if (active && attachedHost == null) {
            attachLogged();
        }
    }

    synchronized void unbindHost(PortHost host, Map<String, Object> properties) {
        hosts.remove(String.valueOf(properties.get(Fabric.NAME_PROPERTY)), host);
        if (host == attachedHost) {
            detach("its " + host.kind() + " stopped");
        }
    }

    @Reference(service = Transport.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindTransport(Transport transport, Map<String, Object> properties) {
        transports.put(String.valueOf(properties.get(Transport.TYPE_PROPERTY)), transport);
        if (active && attachedHost == null) {
            attachLogged();
        }
    }

    synchronized void unbindTransport(Transport transport, Map<String, Object> properties) {
        transports.remove(String.valueOf(properties.get(Transport.TYPE_PROPERTY)), transport);
        if (transport == attachedTransport) {
            detach("its transport " + transportType + " went away");
        }
    }

    @Activate
    synchronized void activate(Map<String, Object> properties) {
        pid = String.valueOf(properties.getOrDefault("service.pid", PID));
        try {
            Config c = ConfigReader.read(Config.class, properties);
            link = ConfigReader.name("link", c.link());
            String name = ConfigReader.name("name", c.name());
            optionsText = c.options();
            transportType = c.transport(); // blank is the default, vhost-user
            Transport known = transports.get(transportType);
            PortOptions options = known == null ? PortOptions.parseAnyTransport(optionsText) : options(known);
            VlanMode vlan = VlanMode.parse(c.vlan());
            socketSetting = c.socket();
            client = c.client();
            definition = new PortDefinition(name, options, vlan, c.monitor(), "");
            active = true;
            attach();
        } catch (IllegalArgumentException | IllegalStateException e) {
            active = false;
            LOG.log(Level.ERROR, "{0} (port {1} of {2}): {3}", pid, definition == null ? "?" : definition.name(),
                    link == null ? "?" : link, e.getMessage());
            throw e;
        }
    }

    @Deactivate
    synchronized void deactivate() {
        active = false;
        detach("its configuration was removed or changed");
    }

    private void attachLogged() {
        try {
            attach();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "{0} (port {1} of {2}): {3}", pid, definition.name(), link, e.getMessage());
        }
    }

    /** Opens and attaches the port if its link and transport are both there; else waits for them. */
    private void attach() {
        PortHost host = hosts.get(link);
        Transport transport = transports.get(transportType);
        if (host == null || transport == null) {
            LOG.log(Level.INFO, "vnet port {0} of {1}: waiting for {2}", definition.name(), link,
                    host == null ? "link or switch \"" + link + "\"" : "transport \"" + transportType + "\"");
            return;
        }
        PortOptions options = options(transport);
        Path socket = socketSetting.isEmpty() ? host.runtimeDir().resolve(definition.name() + ".sock") : Path.of(socketSetting);
        PortDefinition def = new PortDefinition(definition.name(), options, definition.vlan(),
                definition.monitor(), transportType + (transport.optionNames().isEmpty()
                        ? (client ? " client " : " server ") + socket : "")); // a transport with options has no socket
        host.checkAttach(def);
        DevicePort port;
        try {
            port = transport.open(new PortSpec(link, def.name(), host.portSettings(options), socket, client,
                    options.transport()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot open " + def.endpoint() + ": " + e.getMessage(), e);
        }
        try {
            host.attach(def, port);
        } catch (RuntimeException e) {
            port.close();
            throw e;
        }
        attachedHost = host;
        attachedTransport = transport;
        devicePort = port;
    }

    /** The options as {@code transport} reads them: its own keys accepted, their values checked by it. */
    private PortOptions options(Transport transport) {
        PortOptions options = PortOptions.parse(optionsText, transportType, transport.optionNames());
        transport.checkOptions(options.transport(), options.mac());
        return options;
    }

    private void detach(String why) {
        if (devicePort == null) {
            return;
        }
        LOG.log(Level.INFO, "vnet port {0} of {1}: down, {2}", definition.name(), link, why);
        try {
            attachedHost.detach(definition.name());
        } finally {
            DevicePort p = devicePort;
            devicePort = null;
            attachedHost = null;
            attachedTransport = null;
            p.close();
        }
    }
}
