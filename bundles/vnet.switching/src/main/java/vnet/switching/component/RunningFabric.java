package vnet.switching.component;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import vnet.linux.LinuxException;
import vnet.switching.Fabric;
import vnet.switching.FabricSettings;
import vnet.switching.PortHost;
import vnet.switching.RuntimeDir;

/**
 * What the p2p link and switch components share: reading the common options ({@code name}, {@code poll},
 * {@code size}, {@code register.ds}, {@code runtime.dir}), owning the engine, and registering it as a
 * {@link Fabric} and {@link PortHost} service while it runs.
 */
final class RunningFabric<F extends PortHost & AutoCloseable> {
    private static final Logger LOG = System.getLogger(RunningFabric.class.getName());

    /** Makes the engine from the common settings and the kind's own options. */
    interface Factory<F> {
        F create(String name, FabricSettings settings, ConfigValues values) throws LinuxException;
    }

    private final String name;
    private final F fabric;
    private final ServiceRegistration<?> registration;

    private RunningFabric(String name, F fabric, ServiceRegistration<?> registration) {
        this.name = name;
        this.fabric = fabric;
        this.registration = registration;
    }

    /**
     * Validates the configuration, makes the engine and registers it. Any invalid value fails with the exact
     * message (also logged), and nothing is left behind.
     */
    static <F extends PortHost & AutoCloseable> RunningFabric<F> start(BundleContext context, Map<String, ?> properties,
            String pid, String kind, Factory<F> factory) {
        String name = null;
        boolean reserved = false;
        F fabric = null;
        try {
            ConfigValues v = new ConfigValues(properties);
            name = v.name("name");
            FabricSettings settings = settings(context, v);
            FabricNames.reserve(name, kind);
            reserved = true;
            fabric = factory.create(name, settings, v);
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(Fabric.NAME_PROPERTY, name);
            props.put(Fabric.KIND_PROPERTY, kind);
            ServiceRegistration<?> reg = context.registerService(
                    new String[] {Fabric.class.getName(), PortHost.class.getName()}, fabric, props);
            LOG.log(Level.INFO, "vnet {0} {1}: running ({2}, size {3}, sockets under {4})", kind, name,
                    settings.busyPoll() ? "busy poll" : "poll " + settings.pollMicros() + " us",
                    settings.maxQueueSize(), fabric.runtimeDir());
            return new RunningFabric<>(name, fabric, reg);
        } catch (IllegalArgumentException | LinuxException | IllegalStateException e) {
            if (fabric != null) {
                closeQuietly(fabric);
            }
            if (reserved) {
                FabricNames.release(name);
            }
            String message = e.getMessage();
            LOG.log(Level.ERROR, "{0} {1}: {2}", pid, name == null ? properties.get("service.pid") : name, message);
            throw e instanceof IllegalArgumentException iae ? iae : new IllegalStateException(message, e);
        }
    }

    private static FabricSettings settings(BundleContext context, ConfigValues v) {
        long poll = v.longValue("poll", 0);
        int size = v.intValue("size", FabricSettings.defaults().maxQueueSize());
        String dir = v.string("runtime.dir", "");
        Path runtimeDir = dir.isEmpty() ? RuntimeDir.of(context) : Path.of(dir);
        boolean busy = v.booleanValue("busy.poll", false);
        FabricSettings s = new FabricSettings(poll, size, java.util.Set.of(), runtimeDir, busy);
        String[] ds = v.strings("register.ds");
        return ds.length == 0 ? s : s.withTrustedDataspaces(ds);
    }

    F fabric() {
        return fabric;
    }

    /** Unregisters the service (its ports detach and close), then stops the engine and frees the name. */
    void stop() {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework is stopping
        }
        closeQuietly(fabric);
        FabricNames.release(name);
        LOG.log(Level.INFO, "vnet {0} {1}: stopped", fabric.kind(), name);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "vnet: closing {0}: {1}", c, e.toString());
        }
    }
}
