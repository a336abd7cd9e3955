package vnet.shell;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import vnet.peer.PeerOptions;
import vnet.peer.PeerStatus;
import vnet.switching.Fabric;
import vnet.switching.FabricPort;
import vnet.switching.RuntimeDir;
import vnet.transport.shm.Transport;

/**
 * What every vnet command looks at: the configurations ({@link Configs}), the running links and switches, host
 * peers and transports, and why a configured component is not running (SCR's failure reason). One instance, shared
 * by the command components.
 */
@Component(service = VnetState.class)
public final class VnetState {
    /** How long create waits for what it configured to come up before saying it is not up yet. */
    static final long UP_WAIT_MILLIS = 5_000;
    /** How long list waits for configurations made a moment ago to come up. */
    static final long SETTLE_MILLIS = 3_000;

    @Reference
    private ConfigurationAdmin cm;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<Fabric> fabrics;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<PeerStatus> peers;

    @Reference(service = Transport.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<ServiceReference<Transport>> transports;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ServiceComponentRuntime scr;

    private Configs configs;
    private String runtimeDir;
    private BundleContext context;

    @Activate
    void activate(BundleContext context) {
        this.context = context;
        configs = new Configs(cm);
        runtimeDir = context.getProperty(RuntimeDir.PROPERTY);
    }

    Configs configs() {
        return configs;
    }

    String runtimeDir() {
        return runtimeDir;
    }

    static PrintStream out() {
        return System.out;
    }

    /** The running link or switch called {@code name}, or null. */
    Fabric fabric(String name) {
        List<Fabric> l = fabrics;
        if (l != null) {
            for (Fabric f : l) {
                if (f.name().equals(name)) {
                    return f;
                }
            }
        }
        return null;
    }

    /** The running link or switch; else why not, as the error. */
    Fabric requireRunning(String name) {
        Fabric f = fabric(name);
        if (f == null) {
            Configuration c = configs.requireFabric(name);
            String why = failure(c);
            throw new IllegalArgumentException("\"" + name + "\" is configured but not running: "
                    + (why == null ? "see the log" : why));
        }
        return f;
    }

    /** The running port, or null. */
    FabricPort port(String link, String name) {
        Fabric f = fabric(link);
        return f == null ? null : f.ports().stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
    }

    /** The transports installed (vhost-user, inproc, ...): the {@code vnet.transport} of each Transport service. */
    /**
     * A port's options as its transport reads them: the transport's own (e.g. vxlan's {@code vni=}) checked by the
     * transport itself; one that is not installed can have no options of its own checked, so only the common ones
     * pass then.
     */
    vnet.switching.PortOptions portOptions(String text, String transport) {
        ServiceReference<Transport> ref = null;
        List<ServiceReference<Transport>> l = transports;
        for (ServiceReference<Transport> r : l == null ? List.<ServiceReference<Transport>>of() : l) {
            if (transport.equals(String.valueOf(r.getProperty(Transport.TYPE_PROPERTY)))) {
                ref = r;
                break;
            }
        }
        Transport t = ref == null ? null : context.getService(ref);
        if (t == null) {
            vnet.switching.PortOptions any = vnet.switching.PortOptions.parseAnyTransport(text);
            if (!any.transport().isEmpty()) {
                throw new IllegalArgumentException("transport \"" + transport + "\" is not installed: cannot check the"
                        + " options " + String.join(", ", any.transport().keySet()));
            }
            return any;
        }
        try {
            vnet.switching.PortOptions parsed = vnet.switching.PortOptions.parse(text, transport, t.optionNames());
            t.checkOptions(parsed.transport(), parsed.mac());
            return parsed;
        } finally {
            context.ungetService(ref);
        }
    }

    TreeSet<String> transports() {
        TreeSet<String> types = new TreeSet<>();
        List<ServiceReference<Transport>> l = transports;
        if (l != null) {
            for (ServiceReference<Transport> r : l) {
                Object t = r.getProperty(Transport.TYPE_PROPERTY);
                if (t != null) {
                    types.add(t.toString());
                }
            }
        }
        return types;
    }

    /** The running host peer of these options, or null. */
    PeerStatus peerStatus(PeerOptions options) {
        List<PeerStatus> l = peers;
        if (l != null) {
            for (PeerStatus s : l) {
                if (options.equals(s.options())) {
                    return s;
                }
            }
        }
        return null;
    }

    static PeerOptions parsedOrNull(Configuration c) {
        try {
            return PeerOptions.parseOne(Configs.string(c, "options", ""));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Why the component of configuration {@code c} failed to activate (SCR's reason: what the component refused,
     * e.g. {@code max.ports=0 is out of range 1..4096}), or null if it did not fail or SCR cannot say.
     */
    String failure(Configuration c) {
        ServiceComponentRuntime runtime = scr;
        String pid;
        String factory;
        try {
            pid = c.getPid();
            factory = c.getFactoryPid();
        } catch (IllegalStateException deleted) {
            return null;
        }
        if (runtime == null || factory == null) {
            return null;
        }
        for (ComponentDescriptionDTO d : runtime.getComponentDescriptionDTOs()) {
            if (d.configurationPid == null || !List.of(d.configurationPid).contains(factory)) {
                continue;
            }
            for (ComponentConfigurationDTO cc : runtime.getComponentConfigurationDTOs(d)) {
                Map<String, Object> p = cc.properties;
                if (cc.state == ComponentConfigurationDTO.FAILED_ACTIVATION && p != null
                        && pid.equals(p.get("service.pid")) && cc.failure != null) {
                    return firstLine(cc.failure);
                }
            }
        }
        return null;
    }

    /** The first line of a stack trace text, without the exception's class name when it is a plain refusal. */
    static String firstLine(String failure) {
        String line = failure.strip();
        int nl = line.indexOf('\n');
        if (nl >= 0) {
            line = line.substring(0, nl).strip();
        }
        for (String prefix : List.of("java.lang.IllegalArgumentException: ", "java.lang.IllegalStateException: ")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length());
            }
        }
        return line;
    }

    /** Whether every configured link, switch and port runs. */
    boolean allUp() {
        for (Configuration c : configs.fabrics()) {
            String name = Configs.string(c, "name", "");
            Fabric f = fabric(name);
            if (f == null) {
                return false;
            }
            for (Configuration p : configs.ports(name)) {
                if (port(name, Configs.string(p, "name", "")) == null) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The running links and switches, in configuration order. */
    List<Fabric> running() {
        List<Fabric> which = new ArrayList<>();
        for (Configuration c : configs.fabrics()) {
            Fabric f = fabric(Configs.string(c, "name", ""));
            if (f != null) {
                which.add(f);
            }
        }
        return which;
    }

    /**
     * Waits until {@code what} gives non-null, or the configuration {@code c} failed (SCR says why), for at most
     * {@code millis}. Returns the value, or null.
     */
    <T> T awaitUp(Supplier<T> what, Configuration c, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        T t;
        while ((t = what.get()) == null && System.nanoTime() < deadline && (c == null || failure(c) == null)) {
            Thread.sleep(50);
        }
        return t;
    }

    static String describe(Fabric f) {
        return kindName(f.kind()) + " " + f.name() + "  " + (f.busyPoll() ? "busy poll"
                : f.pollMicros() > 0 ? "poll " + f.pollMicros() + " us" : "notifications") + ", queue size " + f.maxQueueSize() + (f.workers() > 1 ? ", " + f.workers() + " workers" : "") + ", "
                + f.ports().size() + " port"
                + (f.ports().size() == 1 ? "" : "s");
    }

    static String kindName(String kind) {
        return Fabric.KIND_P2P.equals(kind) ? "p2p link" : kind;
    }

    static String kindOf(Configuration c) {
        return Configs.P2P.equals(c.getFactoryPid()) ? "p2p link" : "switch";
    }

    static String factoryOf(String kind) {
        return "p2p".equals(kind) ? Configs.P2P : Configs.SWITCH;
    }
}
