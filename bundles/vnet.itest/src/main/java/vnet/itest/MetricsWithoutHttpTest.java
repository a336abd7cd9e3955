package vnet.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static vnet.itest.Framework.awaitFabric;
import static vnet.itest.Framework.awaitTrue;
import static vnet.itest.Framework.create;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import vnet.switching.Fabric;

/**
 * vnet.metrics in a framework with no HTTP at all (this one has no servlet API and no whiteboard): the bundle runs,
 * its JMX component is active and follows the links, and the /metrics servlet component waits, its class unloaded.
 */
class MetricsWithoutHttpTest {
    static final String METRICS = "vnet.metrics";

    private Path dir;

    @AfterEach
    void tearDown() throws Exception {
        Framework.deleteAllConfigurations();
        awaitTrue(() -> Framework.context().getServiceReference(Fabric.class) == null, "every fabric gone");
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void theJmxPartRunsWithoutAnHttpWhiteboard() throws Exception {
        Bundle metrics = Framework.bundle(METRICS);
        assertEquals(Bundle.ACTIVE, metrics.getState());
        // The precondition: no javax.servlet here, so the optional import is not wired.
        assertNull(metrics.adapt(BundleWiring.class).getRequiredWires("osgi.wiring.package").stream()
                .filter(w -> w.getCapability().getAttributes().get("osgi.wiring.package").toString()
                        .startsWith("javax.servlet"))
                .findAny().orElse(null));

        assertEquals(ComponentConfigurationDTO.ACTIVE, state("vnet.metrics.VnetMetrics"));
        // Registered as a javax.servlet.Servlet service (by name) but never asked for: not activated.
        assertEquals(ComponentConfigurationDTO.SATISFIED, state("vnet.metrics.MetricsServlet"));

        dir = Files.createTempDirectory(Path.of("/tmp"), "vnet-itest-metrics-");
        create("vnet.p2p", "name", "m1", "runtime.dir", dir.toString());
        create("vnet.port", "link", "m1", "name", "a");
        awaitFabric("m1");
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        ObjectName port = new ObjectName("vnet:type=port,link=\"m1\",name=\"a\"");
        awaitTrue(() -> mbs.isRegistered(port), port + " registered");
        assertEquals(0L, mbs.getAttribute(port, "TxFrames"));
        assertEquals("p2p", mbs.getAttribute(new ObjectName("vnet:type=link,name=\"m1\""), "Kind"));
    }

    private static int state(String component) {
        ServiceComponentRuntime scr = Framework.service(ServiceComponentRuntime.class);
        ComponentDescriptionDTO d = scr.getComponentDescriptionDTO(Framework.bundle(METRICS), component);
        return Framework.await(() -> scr.getComponentConfigurationDTOs(d).stream().findFirst().orElse(null),
                component + "'s configuration").state;
    }
}
