package vnet.switching.component;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.annotation.Annotation;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import vnet.linux.LinuxException;
import vnet.switching.Fabric;
import vnet.switching.FabricSettings;
import vnet.switching.PortHost;
import vnet.switching.RuntimeDir;

/**
 * What the p2p link and switch components share: checking the common options ({@code name}, {@code poll},
 * {@code busy.poll}, {@code size}, {@code register.ds}, {@code runtime.dir}, {@code workers}, {@code cpus}), owning the engine, and registering it
 * as a {@link Fabric} and {@link PortHost} service while it runs.
 */
final class RunningFabric<F extends PortHost & AutoCloseable> {
    private static final Logger LOG = System.getLogger(RunningFabric.class.getName());

    /** The options both kinds have, taken from either kind's {@code Config}. */
    record Common(String name, long poll, boolean busyPoll, int size, String[] registerDs, String runtimeDir,
            int workers, String cpus) {
    }

    /** Makes the engine from the kind's configuration (its own options) and the common settings. */
    interface Factory<C, F> {
        F create(C config, FabricSettings settings) throws LinuxException;
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
    static <C extends Annotation, F extends PortHost & AutoCloseable> RunningFabric<F> start(BundleContext context,
            Map<String, ?> properties, String pid, String kind, Class<C> type, Function<C, Common> common,
            Factory<C, F> factory) {
        String name = null;
        boolean reserved = false;
        F fabric = null;
        try {
            C config = ConfigReader.read(type, properties);
            Common c = common.apply(config);
            name = ConfigReader.name("name", c.name());
            FabricSettings settings = settings(context, c);
            FabricNames.reserve(name, kind);
            reserved = true;
            fabric = factory.create(config, settings);
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(Fabric.NAME_PROPERTY, name);
            props.put(Fabric.KIND_PROPERTY, kind);
            ServiceRegistration<?> reg = context.registerService(
                    new String[] {Fabric.class.getName(), PortHost.class.getName()}, fabric, props);
            LOG.log(Level.INFO, "vnet {0} {1}: running ({2}, size {3}, {4} worker(s){5}, sockets under {6})", kind,
                    name, settings.busyPoll() ? "busy poll" : "poll " + settings.pollMicros() + " us",
                    settings.maxQueueSize(), settings.workers(),
                    settings.cpus().isEmpty() ? "" : " on CPUs " + settings.cpus(), fabric.runtimeDir());
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

    private static FabricSettings settings(BundleContext context, Common c) {
        Path runtimeDir = c.runtimeDir().isEmpty() ? RuntimeDir.of(context) : Path.of(c.runtimeDir());
        FabricSettings s = new FabricSettings(c.poll(), c.size(), Set.of(), runtimeDir, c.busyPoll(), c.workers(),
                FabricSettings.parseCpus(c.cpus()));
        return c.registerDs().length == 0 ? s : s.withTrustedDataspaces(c.registerDs());
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
