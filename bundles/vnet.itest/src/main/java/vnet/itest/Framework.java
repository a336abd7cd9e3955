package vnet.itest;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import vnet.switching.Fabric;

/** The framework as the tests use it: services, factory configurations, bundles, and waiting without spinning. */
final class Framework {
    static final Duration WAIT = Duration.ofSeconds(20);

    private Framework() {
    }

    static BundleContext context() {
        return FrameworkUtil.getBundle(Framework.class).getBundleContext();
    }

    static <T> T service(Class<T> type) {
        return await(() -> {
            ServiceReference<T> ref = context().getServiceReference(type);
            return ref == null ? null : context().getService(ref);
        }, type.getSimpleName() + " service");
    }

    /** The running link or switch called {@code name}, or null. */
    static Fabric fabric(String name) {
        try {
            var refs = context().getServiceReferences(Fabric.class, "(" + Fabric.NAME_PROPERTY + "=" + name + ")");
            return refs.isEmpty() ? null : context().getService(refs.iterator().next());
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static Fabric awaitFabric(String name) {
        return await(() -> fabric(name), "fabric " + name);
    }

    static void awaitNoFabric(String name) {
        awaitTrue(() -> fabric(name) == null, "fabric " + name + " gone");
    }

    /** Creates a factory configuration from key, value pairs. */
    static Configuration create(String factoryPid, Object... keyValues) throws IOException {
        Configuration c = service(ConfigurationAdmin.class).createFactoryConfiguration(factoryPid, "?");
        Dictionary<String, Object> d = new Hashtable<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            d.put((String) keyValues[i], keyValues[i + 1]);
        }
        c.update(d);
        return c;
    }

    /** Deletes every vnet configuration (between tests). */
    static void deleteAllConfigurations() throws Exception {
        Configuration[] all = service(ConfigurationAdmin.class).listConfigurations("(service.factoryPid=vnet.*)");
        if (all != null) {
            for (Configuration c : all) {
                c.delete();
            }
        }
    }

    static Bundle bundle(String symbolicName) {
        return Arrays.stream(context().getBundles()).filter(b -> b.getSymbolicName().equals(symbolicName)).findFirst()
                .orElseThrow(() -> new AssertionError("no bundle " + symbolicName));
    }

    /**
     * The failure of the component configuration of {@code componentName} whose properties have {@code key=value},
     * or null while it has none.
     */
    static String failure(String bundle, String componentName, String key, Object value) {
        ServiceComponentRuntime scr = service(ServiceComponentRuntime.class);
        ComponentDescriptionDTO d = scr.getComponentDescriptionDTO(bundle(bundle), componentName);
        if (d == null) {
            return null;
        }
        for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
            if (value.equals(c.properties.get(key)) && c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                return c.failure;
            }
        }
        return null;
    }

    static List<String> portNames(Fabric f) {
        return f.ports().stream().map(p -> p.name()).sorted().toList();
    }

    static <T> T await(Supplier<T> what, String description) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            T t = what.get();
            if (t != null) {
                return t;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + description + " within " + WAIT);
            }
            sleep(20);
        }
    }

    static void awaitTrue(BooleanSupplier condition, String description) {
        await(() -> condition.getAsBoolean() ? Boolean.TRUE : null, description);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
