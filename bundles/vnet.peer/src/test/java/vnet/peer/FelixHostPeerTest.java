package vnet.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import org.apache.felix.framework.Felix;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;

import vnet.testing.WorkDir;

/**
 * Host peers as DS components in a real framework: Felix with SCR and ConfigAdmin, vnet's bundles and this bundle
 * (from target/classes). Adding a factory configuration of PID {@code vnet.peer} creates the TAP interface (moved at
 * once into the test's namespace) and registers a {@code PeerStatus} service; deleting the configuration deletes the
 * interface; a configuration with bad options creates nothing. The test talks to the framework's services by
 * reflection, as their classes are the bundles' own, not the test's.
 */
@Tag("real-peer")
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class FelixHostPeerTest {
    /** Bundles to install, by Bundle-SymbolicName, in start order. */
    private static final List<String> BUNDLES = List.of("org.osgi.util.function", "org.osgi.util.promise",
            "org.osgi.service.component", "org.apache.felix.scr", "org.apache.felix.configadmin", "com.sun.jna",
            "org.agrona.core", "vnet.linux", "vnet.virtqueue", "vnet.virtio.net", "vnet.transport.shm", "vnet.switching",
            "vnet.peer");
    private static final long GUEST_MAC = 0x020000000202L;

    @Test
    void factoryConfigurationsAddAndRemoveHostPeers() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-felix-"); NetNamespace ns = NetNamespace.create()) {
            Framework fw = new Felix(Map.of(Constants.FRAMEWORK_STORAGE, dir.resolve("felix").toString(),
                    Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                    Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "sun.misc"));
            fw.start();
            try {
                BundleContext ctx = fw.getBundleContext();
                List<Bundle> installed = new ArrayList<>();
                for (String bsn : BUNDLES) {
                    installed.add(ctx.installBundle(location(bsn)));
                }
                for (Bundle b : installed) {
                    if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                        b.start();
                    }
                }
                for (Bundle b : ctx.getBundles()) {
                    assertEquals(Bundle.ACTIVE, b.getState(), () -> b.getSymbolicName() + " is not active");
                }
                Bundle cm = bundle(ctx, "org.apache.felix.configadmin");
                Object configAdmin = await(() -> service(ctx, "org.osgi.service.cm.ConfigurationAdmin"), "ConfigurationAdmin");
                Class<?> caType = cm.loadClass("org.osgi.service.cm.ConfigurationAdmin");
                Class<?> configType = cm.loadClass("org.osgi.service.cm.Configuration");

                // Hot-add: a configuration becomes a TAP interface and a PeerStatus service.
                Object config = caType.getMethod("createFactoryConfiguration", String.class, String.class)
                        .invoke(configAdmin, "vnet.peer", "?");
                Dictionary<String, Object> props = new Hashtable<>();
                props.put("options", "bind=" + dir.resolve("p.sock") + ",name=vpfx,mac=02a0b0c0d0e2,priority=3");
                props.put("index", 5);
                configType.getMethod("update", Dictionary.class).invoke(config, props);
                // Immediate: the interface comes without anybody asking for the service.
                await(() -> NetNamespace.rootHasLink("vpfx5") ? Boolean.TRUE : null, "interface vpfx5");
                ns.moveLink("vpfx5");
                Object status = await(() -> service(ctx, "vnet.peer.PeerStatus"), "the PeerStatus service");
                assertEquals("vpfx5", call(status, "interfaceName"));
                assertEquals("02:a0:b0:c0:d0:e2", ns.exec("cat", "/sys/class/net/vpfx5/address").trim());
                assertEquals(3, HostPeerTapTest.niceOf((Integer) call(status, "txThreadId")));
                assertTrue(Files.exists(dir.resolve("p.sock")));

                // Hot-remove: deleting the configuration deletes the interface and the service.
                configType.getMethod("delete").invoke(config);
                await(() -> service(ctx, "vnet.peer.PeerStatus") == null ? Boolean.TRUE : null, "the service to go");
                assertFalse(ns.hasLink("vpfx5"), "the TAP interface is deleted with its configuration");
                assertFalse(Files.exists(dir.resolve("p.sock")), "the bind socket is removed");

                // A configuration with bad options creates nothing (SCR logs the parser's message).
                Object bad = caType.getMethod("createFactoryConfiguration", String.class, String.class)
                        .invoke(configAdmin, "vnet.peer", "?");
                Dictionary<String, Object> badProps = new Hashtable<>();
                badProps.put("options", "bind=" + dir.resolve("q.sock") + ",name=vpbad,colour=blue");
                configType.getMethod("update", Dictionary.class).invoke(bad, badProps);
                Thread.sleep(1000);
                assertNull(service(ctx, "vnet.peer.PeerStatus"));
                assertFalse(NetNamespace.rootHasLink("vpbad0"));
                configType.getMethod("delete").invoke(bad);

                // Stopping the bundle takes its host peers down.
                Object again = caType.getMethod("createFactoryConfiguration", String.class, String.class)
                        .invoke(configAdmin, "vnet.peer", "?");
                props.put("options", "peer=" + dir.resolve("port.sock") + ",name=vpfy");
                props.put("index", 0);
                configType.getMethod("update", Dictionary.class).invoke(again, props);
                await(() -> NetNamespace.rootHasLink("vpfy0") ? Boolean.TRUE : null, "interface vpfy0");
                ns.moveLink("vpfy0");
                assertNotNull(await(() -> service(ctx, "vnet.peer.PeerStatus"), "the second PeerStatus service"));
                bundle(ctx, "vnet.peer").stop();
                assertFalse(ns.hasLink("vpfy0"), "stopping vnet.peer deletes its interfaces");
            } finally {
                fw.stop();
                fw.waitForStop(10_000);
            }
        }
    }

    /**
     * {@code peer=sw:hp}: the host peer's configuration comes first and its TAP waits unattached; once switch {@code sw}
     * and its inproc port {@code hp} are configured, the peer attaches (taking the port's MAC) and the host pings a Java
     * guest on the switch's vhost-user port {@code g}. The port's configuration deleted: the peer waits; created again:
     * it re-attaches. The transport's bundle stopped: the peer waits; started again: it re-attaches.
     */
    @Test
    void aSwitchPortPeerAttachesOnceTheInprocPortExists() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-felix-"); NetNamespace ns = NetNamespace.create()) {
            Framework fw = new Felix(Map.of(Constants.FRAMEWORK_STORAGE, dir.resolve("felix").toString(),
                    Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                    Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "sun.misc"));
            fw.start();
            JavaGuest guest = null;
            try {
                BundleContext ctx = fw.getBundleContext();
                List<Bundle> installed = new ArrayList<>();
                for (String bsn : BUNDLES) {
                    installed.add(ctx.installBundle(location(bsn)));
                }
                for (Bundle b : installed) {
                    b.start();
                }
                Bundle cm = bundle(ctx, "org.apache.felix.configadmin");
                Object configAdmin = await(() -> service(ctx, "org.osgi.service.cm.ConfigurationAdmin"), "ConfigurationAdmin");
                Class<?> caType = cm.loadClass("org.osgi.service.cm.ConfigurationAdmin");
                Class<?> configType = cm.loadClass("org.osgi.service.cm.Configuration");
                Method create = caType.getMethod("createFactoryConfiguration", String.class, String.class);
                Method update = configType.getMethod("update", Dictionary.class);

                update.invoke(create.invoke(configAdmin, "vnet.peer", "?"), props("options", "peer=sw:hp,name=vpsw", "index", 0));
                await(() -> NetNamespace.rootHasLink("vpsw0") ? Boolean.TRUE : null, "interface vpsw0");
                ns.moveLink("vpsw0");
                ns.configure("vpsw0", "192.0.2.1/24");
                Object status = await(() -> service(ctx, "vnet.peer.PeerStatus"), "the PeerStatus service");
                Thread.sleep(500);
                assertEquals(false, call(status, "isConnected"), "no inproc port sw:hp yet");

                update.invoke(create.invoke(configAdmin, "vnet.switch", "?"), props("name", "sw", "runtime.dir", dir.path().toString()));
                update.invoke(create.invoke(configAdmin, "vnet.port", "?"), props("link", "sw", "name", "g"));
                Dictionary<String, Object> hpProps = props("link", "sw", "name", "hp", "transport", "inproc",
                        "options", "mac=02:00:00:00:0b:01");
                Object hp = create.invoke(configAdmin, "vnet.port", "?");
                update.invoke(hp, hpProps);
                awaitConnected(status, true, "attached to the inproc port once it is configured");
                assertEquals("02:00:00:00:0b:01", ns.exec("cat", "/sys/class/net/vpsw0/address").trim(),
                        "the TAP takes the port's mac=");
                guest = pingGuest(ns, dir.resolve("sw/g.sock"), null);

                // The port's configuration deleted and created again.
                configType.getMethod("delete").invoke(hp);
                awaitConnected(status, false, "the port's deletion is seen");
                update.invoke(create.invoke(configAdmin, "vnet.port", "?"), hpProps);
                awaitConnected(status, true, "re-attached to the new port");
                guest = pingGuest(ns, dir.resolve("sw/g.sock"), guest);

                // The inproc transport's bundle stopped and started (port g goes and comes too).
                Bundle shm = bundle(ctx, "vnet.transport.shm");
                shm.stop();
                awaitConnected(status, false, "the transport's stopping is seen");
                guest.close();
                guest = null;
                shm.start();
                awaitConnected(status, true, "re-attached once the transport is back");
                guest = pingGuest(ns, dir.resolve("sw/g.sock"), null);
                assertEquals("vpsw0", call(status, "interfaceName"));
            } finally {
                if (guest != null) {
                    guest.close();
                }
                fw.stop();
                fw.waitForStop(10_000);
            }
            assertFalse(ns.hasLink("vpsw0"), "the interface goes with the framework");
        }
    }

    /** Connects a new Java guest (192.0.2.2) to {@code socket} (closing {@code old} first) and pings it from the namespace. */
    private static JavaGuest pingGuest(NetNamespace ns, Path socket, JavaGuest old) throws Exception {
        if (old != null) {
            old.close();
        }
        JavaGuest guest = JavaGuest.connect(socket, HostPeerTapTest.guestOptions(false), GUEST_MAC, "192.0.2.2");
        NetNamespace.Ping ping = ns.ping("192.0.2.2", 3, "0.2");
        assertEquals(3, ping.received(), () -> ping.output() + "\n" + guest);
        return guest;
    }

    private static void awaitConnected(Object status, boolean connected, String what) throws InterruptedException {
        await(() -> {
            try {
                return call(status, "isConnected").equals(connected) ? Boolean.TRUE : null;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, what);
    }

    private static Dictionary<String, Object> props(Object... keysAndValues) {
        Dictionary<String, Object> d = new Hashtable<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            d.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return d;
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** Where the bundle with symbolic name {@code bsn} is on the test class path (a jar, or a folder with a manifest). */
    private static String location(String bsn) throws Exception {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            Manifest m = null;
            if (Files.isDirectory(p) && Files.exists(p.resolve("META-INF/MANIFEST.MF"))) {
                try (var in = Files.newInputStream(p.resolve("META-INF/MANIFEST.MF"))) {
                    m = new Manifest(in);
                }
            } else if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    m = jar.getManifest();
                }
            }
            String name = m == null ? null : m.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME);
            if (name != null && name.split(";")[0].trim().equals(bsn)) {
                return Files.isDirectory(p) ? "reference:" + p.toUri() : p.toUri().toString();
            }
        }
        throw new AssertionError("bundle " + bsn + " is not on the test class path");
    }

    private static Bundle bundle(BundleContext ctx, String bsn) {
        for (Bundle b : ctx.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + bsn);
    }

    /** A service of {@code type}, whatever class space it is in (the test's own copies of the classes differ). */
    private static Object service(BundleContext ctx, String type) {
        try {
            ServiceReference<?>[] refs = ctx.getAllServiceReferences(type, null);
            return refs == null ? null : ctx.getService(refs[0]);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static Object call(Object target, String method) throws Exception {
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                try {
                    Method m = i.getMethod(method);
                    return m.invoke(target);
                } catch (NoSuchMethodException e) {
                    // next
                }
            }
        }
        throw new NoSuchMethodException(method);
    }

    private static <T> T await(Supplier<T> what, String description) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            T value = what.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + description);
            }
            Thread.sleep(20);
        }
    }
}
