package vnet.metrics;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;


import vnet.peer.PeerStatus;
import vnet.switching.Fabric;
import vnet.switching.FabricPort;

/**
 * vnet's metrics where operators look: every running link's, switch's, port's and host peer's counters as MXBeans
 * in the platform MBeanServer (domain {@code vnet}: jconsole, hawtio, Karaf's {@code jmx:} commands), kept in step
 * with what runs once a second. The same counters as Prometheus text at {@code /metrics} are {@link MetricsServlet}'s,
 * a component of its own that needs an HTTP Whiteboard; this one needs nothing but the JDK.
 */
@Component(immediate = true)
public final class VnetMetrics {
    static final String DOMAIN = "vnet";
    private static final Logger LOG = Logger.getLogger(VnetMetrics.class.getName());

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<Fabric> fabrics;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<PeerStatus> peers;

    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    /** What this component registered, with the object behind each name (a new object means re-register). */
    private final Map<ObjectName, Object> registered = new HashMap<>();
    private ScheduledExecutorService refresher;

    @Activate
    void activate() {
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vnet-metrics");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(this::refresh, 0, 1, TimeUnit.SECONDS);
    }

    @Deactivate
    synchronized void deactivate() {
        refresher.shutdownNow();
        for (ObjectName n : registered.keySet()) {
            unregister(n);
        }
        registered.clear();
    }

    /** A snapshot of a dynamic reference list (null before SCR set it). */
    static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : List.copyOf(l);
    }

    /** Registers an MXBean for what runs and is not registered yet, unregisters what went. */
    synchronized void refresh() {
        try {
            Map<ObjectName, Object> wanted = new HashMap<>();
            for (Fabric f : list(fabrics)) {
                wanted.put(name(Fabric.KIND_SWITCH.equals(f.kind()) ? "switch" : "link", "name", f.name()), f);
                for (FabricPort p : f.ports()) {
                    wanted.put(portName(f.name(), p.name()), f);
                }
            }
            for (PeerStatus p : list(peers)) {
                wanted.put(name("peer", "name", p.interfaceName()), p);
            }
            Set<ObjectName> gone = new HashSet<>(registered.keySet());
            for (Map.Entry<ObjectName, Object> e : wanted.entrySet()) {
                ObjectName n = e.getKey();
                gone.remove(n);
                if (registered.get(n) == e.getValue()) {
                    continue;
                }
                if (registered.containsKey(n)) {
                    unregister(n);
                }
                register(n, e.getValue());
            }
            for (ObjectName n : gone) {
                unregister(n);
                registered.remove(n);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "vnet metrics: refresh failed: " + e, e);
        }
    }

    private void register(ObjectName n, Object source) {
        Object bean;
        Class<?> type;
        String kind = n.getKeyProperty("type");
        if ("port".equals(kind)) {
            bean = new Beans.Port((Fabric) source, unquote(n.getKeyProperty("name")));
            type = PortMXBean.class;
        } else if ("peer".equals(kind)) {
            bean = new Beans.Peer((PeerStatus) source);
            type = PeerMXBean.class;
        } else {
            bean = new Beans.FabricBean((Fabric) source);
            type = FabricMXBean.class;
        }
        try {
            @SuppressWarnings({"unchecked", "rawtypes"})
            StandardMBean m = new StandardMBean(bean, (Class) type, true);
            server.registerMBean(m, n);
            registered.put(n, source);
        } catch (JMException e) {
            LOG.log(Level.WARNING, "vnet metrics: cannot register " + n + ": " + e);
        }
    }

    private void unregister(ObjectName n) {
        try {
            if (server.isRegistered(n)) {
                server.unregisterMBean(n);
            }
        } catch (JMException e) {
            LOG.log(Level.FINE, "vnet metrics: unregister " + n, e);
        }
    }

    /** {@code vnet:type=port,link=<link>,name=<port>}. */
    static ObjectName portName(String link, String port) {
        try {
            return new ObjectName(DOMAIN + ":type=port,link=" + ObjectName.quote(link) + ",name=" + ObjectName.quote(port));
        } catch (JMException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static ObjectName name(String type, String key, String value) {
        try {
            return new ObjectName(DOMAIN + ":type=" + type + "," + key + "=" + ObjectName.quote(value));
        } catch (JMException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String unquote(String v) {
        return v.startsWith("\"") ? ObjectName.unquote(v) : v;
    }
}
