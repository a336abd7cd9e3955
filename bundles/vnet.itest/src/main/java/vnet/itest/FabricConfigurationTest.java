package vnet.itest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vnet.itest.Framework.await;
import static vnet.itest.Framework.awaitFabric;
import static vnet.itest.Framework.awaitNoFabric;
import static vnet.itest.Framework.awaitTrue;
import static vnet.itest.Framework.create;
import static vnet.itest.Framework.portNames;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.metatype.MetaTypeInformation;
import org.osgi.service.metatype.MetaTypeService;
import org.osgi.service.metatype.ObjectClassDefinition;

import vnet.switching.Fabric;
import vnet.switching.MacEntry;
import vnet.switching.QueueState;
import vnet.transport.shm.Transport;

/**
 * vnet in a real Felix framework, configured as a user would through ConfigAdmin: switches, p2p links and ports
 * made from factory configurations; frames between Java front-ends on the ports; a port deleted at runtime; the
 * vhost-user transport bundle stopped and started again while ports of another transport keep forwarding; invalid
 * configurations failing activation with their exact message while the rest goes on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FabricConfigurationTest {
    static final String SWITCHING = "vnet.switching";
    static final String PORT_COMPONENT = "vnet.switching.component.PortComponent";
    static final String SWITCH_COMPONENT = "vnet.switching.component.SwitchComponent";

    private Path dir;
    private ServiceRegistration<Transport> thirdParty;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "vnet-itest-");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Transport.TYPE_PROPERTY, ThirdPartyTransport.TYPE);
        thirdParty = Framework.context().registerService(Transport.class, new ThirdPartyTransport(), props);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        Framework.deleteAllConfigurations();
        awaitTrue(() -> Framework.context().getServiceReference(Fabric.class) == null, "every fabric gone");
        thirdParty.unregister();
        Bundle transport = Framework.bundle("vnet.transport.shm");
        if (transport.getState() != Bundle.ACTIVE) {
            transport.start();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private Client client(String name, Path socket) throws IOException {
        Client c = Client.connect(name, socket);
        clients.add(c);
        return c;
    }

    /**
     * Waits until {@code ports} of {@code f} forward: a front-end's last set-up message may still be on its way when
     * its connect returns, and a frame sent before its port forwards may be dropped.
     */
    private static void awaitForwarding(Fabric f, String... ports) {
        awaitTrue(() -> Stream.of(ports).allMatch(p -> f.port(p).running()), String.join(", ", ports) + " forwarding");
    }

    private Path socket(String link, String port) {
        return dir.resolve(link).resolve(port + ".sock");
    }

    private static long mac(int n) {
        return 0x02_00_00_00_00_00L | n;
    }

    /** {@code from} broadcasts; each of {@code to} must get it. */
    private static void broadcast(Client from, int fromMac, int mark, Client... to) throws IOException {
        byte[] f = Frames.frame(Frames.BROADCAST, mac(fromMac), mark);
        from.send(f);
        for (Client c : to) {
            assertArrayEquals(f, c.expect(), c.name + " got " + from.name + "'s broadcast " + mark);
        }
    }

    @Test
    void portsComeAndGoWhileTheOthersKeepForwarding() throws Exception {
        create("vnet.switch", "name", "s1", "runtime.dir", dir.toString());
        Fabric s1 = awaitFabric("s1");
        assertEquals(Fabric.KIND_SWITCH, s1.kind());
        List<Configuration> ports = new ArrayList<>();
        for (String p : List.of("a", "b", "c")) {
            ports.add(create("vnet.port", "link", "s1", "name", p, "options", "mac=" + macText(p.charAt(0) - 'a' + 1)));
        }
        for (String p : List.of("d", "e")) {
            ports.add(create("vnet.port", "link", "s1", "name", p, "transport", ThirdPartyTransport.TYPE));
        }
        awaitTrue(() -> portNames(s1).equals(List.of("a", "b", "c", "d", "e")), "five ports on s1");
        Client a = client("a", socket("s1", "a"));
        Client b = client("b", socket("s1", "b"));
        Client c = client("c", socket("s1", "c"));
        Client d = client("d", socket("s1", "d"));
        Client e = client("e", socket("s1", "e"));
        awaitForwarding(s1, "a", "b", "c", "d", "e");
        broadcast(a, 1, 1, b, c, d, e);
        broadcast(d, 4, 2, a, b, c, e);
        byte[] toA = Frames.frame(mac(1), mac(2), 3);
        b.send(toA);
        assertArrayEquals(toA, a.expect()); // learned: unicast
        c.expectNothing(100);

        // Delete port b: it goes, its socket too, and the others keep forwarding.
        ports.get(1).delete();
        awaitTrue(() -> portNames(s1).equals(List.of("a", "c", "d", "e")), "b removed");
        awaitTrue(() -> !Files.exists(socket("s1", "b")), "b's socket removed");
        awaitTrue(() -> receiveFails(b), "b's client disconnected");
        assertTrue(s1.macTable().stream().noneMatch(m -> m.mac() == mac(2)), "b's addresses flushed");
        broadcast(a, 1, 4, c, d, e);
        broadcast(e, 5, 5, a, c, d);

        // Stop the vhost-user transport's bundle: its ports go down, the third-party ones keep forwarding.
        Bundle transport = Framework.bundle("vnet.transport.shm");
        transport.stop();
        awaitTrue(() -> portNames(s1).equals(List.of("d", "e")), "only the third-party ports left");
        awaitTrue(() -> !Files.exists(socket("s1", "a")), "a's socket removed");
        broadcast(d, 4, 6, e);
        byte[] toE = Frames.frame(mac(5), mac(4), 7);
        d.send(toE);
        assertArrayEquals(toE, e.expect());

        // Start it again: the vhost-user ports come back by themselves.
        transport.start();
        awaitTrue(() -> portNames(s1).equals(List.of("a", "c", "d", "e")), "a and c back");
        Client a2 = client("a2", socket("s1", "a"));
        Client c2 = client("c2", socket("s1", "c"));
        awaitForwarding(s1, "a", "c");
        broadcast(a2, 1, 8, c2, d, e);
        broadcast(e, 5, 9, a2, c2, d);
        byte[] toC = Frames.frame(mac(3), mac(4), 10);
        d.send(toC); // c's address was never seen: flooded
        assertArrayEquals(toC, c2.expect());
        assertTrue(s1.stats("d").txFrames() >= 4);
        assertEquals(0, s1.stats("e").drops());
    }

    private static boolean receiveFails(Client c) {
        try {
            c.receive(java.time.Duration.ofMillis(20));
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static String macText(int n) {
        return String.format("02:00:00:00:00:%02x", n);
    }

    @Test
    void aP2pLinkFromConfigurationForwardsAndRefusesAThirdPort() throws Exception {
        create("vnet.p2p", "name", "l1", "runtime.dir", dir.toString(), "poll", 200L, "size", 512);
        Fabric l1 = awaitFabric("l1");
        assertEquals(Fabric.KIND_P2P, l1.kind());
        assertEquals(200, l1.pollMicros());
        assertEquals(512, l1.maxQueueSize());
        create("vnet.port", "link", "l1", "name", "x", "options", "ds-max=4");
        create("vnet.port", "link", "l1", "name", "y");
        awaitTrue(() -> portNames(l1).equals(List.of("x", "y")), "x and y on l1");
        Client x = client("x", socket("l1", "x"));
        Client y = client("y", socket("l1", "y"));
        awaitForwarding(l1, "x", "y");
        for (int i = 0; i < 20; i++) {
            byte[] f = Frames.frame(mac(2), mac(1), i);
            x.send(f);
            assertArrayEquals(f, y.expect());
            byte[] g = Frames.frame(mac(1), mac(2), 100 + i);
            y.send(g);
            assertArrayEquals(g, x.expect());
        }
        List<QueueState> queues = l1.queues("x");
        assertEquals(1, queues.size());
        assertEquals(20, queues.get(0).stats().txFrames());
        assertEquals(4, l1.port("x").options().dsMax());

        create("vnet.port", "link", "l1", "name", "z");
        String failure = await(() -> Framework.failure(SWITCHING, PORT_COMPONENT, "name", "z"), "z's failure");
        assertTrue(failure.contains("p2p link \"l1\" already has two ports (x, y); cannot add \"z\""), failure);
        byte[] f = Frames.frame(mac(2), mac(1), 1000);
        x.send(f);
        assertArrayEquals(f, y.expect());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "options=ds-max=0                | ds-max=0 is out of range 1..80",
        "options=ds-max=81               | ds-max=81 is out of range 1..80",
        "options=mac=02:00:00:00:00      | mac=02:00:00:00:00 is not of the form xx:xx:xx:xx:xx:xx",
        "options=speed=10                | unknown option \"speed=10\" (expected ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>, flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535> or queues=<1..64>)",
        "options=mac=01:00:5e:00:00:01   | mac=01:00:5e:00:00:01 is a multicast address",
        "vlan=access:5000                | vlan \"access:5000\": VLAN id 5000 is out of range 1..4094",
        "vlan=tagged                     | vlan \"tagged\" is not access:<1..4094>, trunk:<id>[,<id>...] or trunk:all",
        "monitor=maybe                   | monitor=maybe is not true or false",
        "options=mac=02:00:00:00:00:01   | mac=02:00:00:00:00:01 of port \"bad\" is already used by port \"p\" on switch \"s2\"",
        "name=p                          | port \"p\" already exists on switch \"s2\"",
    })
    void anInvalidPortFailsWithItsExactMessageAndNothingElseIsAffected(String setting, String message) throws Exception {
        create("vnet.switch", "name", "s2", "runtime.dir", dir.toString());
        Fabric s2 = awaitFabric("s2");
        create("vnet.port", "link", "s2", "name", "p", "options", "mac=02:00:00:00:00:01");
        create("vnet.port", "link", "s2", "name", "q");
        awaitTrue(() -> portNames(s2).equals(List.of("p", "q")), "p and q");
        Client p = client("p", socket("s2", "p"));
        Client q = client("q", socket("s2", "q"));
        awaitForwarding(s2, "p", "q");
        broadcast(p, 1, 1, q);

        String key = setting.substring(0, setting.indexOf('='));
        String value = setting.substring(setting.indexOf('=') + 1);
        String name = key.equals("name") ? value : "bad";
        if (key.equals("name")) {
            create("vnet.port", "link", "s2", "name", name);
        } else {
            create("vnet.port", "link", "s2", "name", name, key, value);
        }
        String failure = await(() -> {
            String s = Framework.failure(SWITCHING, PORT_COMPONENT, "name", name);
            return s != null && s.contains(message) ? s : null;
        }, "failure \"" + message + "\"");
        assertNotNull(failure);
        assertEquals(List.of("p", "q"), portNames(s2));
        broadcast(q, 2, 2, p);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "size            | 300    | size=300 is not a power of 2 in 1..32768",
        "size            | 65536  | size=65536 is not a power of 2 in 1..32768",
        "size            | lots   | size=lots is not a number",
        "poll            | -5     | poll=-5 is negative: give 0 (notification mode) or a poll interval in microseconds",
        "max.ports       | 0      | max.ports=0 is out of range 1..4096",
        "mac.aging       | 0      | mac.aging=0 is out of range 1..2147483647",
        "mac.table.size  | 0      | mac.table.size=0 is out of range 1..1048576",
        "workers         | 0      | workers=0 is out of range 1..16",
        "workers         | many   | workers=many is not a number",
        "cpus            | 1,x    | cpus=1,x is not a CPU list (e.g. 0-3,6)",
        "register.ds     | /nonexistent/ds | register.ds: cannot use \"/nonexistent/ds\": no such file",
        "name            | a/b    | name=a/b is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
    })
    void anInvalidSwitchFailsWithItsExactMessage(String key, String value, String message) throws Exception {
        create("vnet.switch", "name", "ok", "runtime.dir", dir.toString());
        Fabric ok = awaitFabric("ok");
        String name = key.equals("name") ? value : "broken";
        create("vnet.switch", "name", name, "runtime.dir", dir.toString(), key, value);
        String failure = await(() -> Framework.failure(SWITCHING, SWITCH_COMPONENT, "name", name), "the failure");
        assertTrue(failure.contains(message), failure);
        assertEquals(null, Framework.fabric(name));
        assertEquals("ok", ok.name());
        assertNotNull(Framework.fabric("ok"));
    }

    @Test
    void namesAreUniqueAcrossLinksAndSwitches() throws Exception {
        create("vnet.switch", "name", "dup", "runtime.dir", dir.toString());
        awaitFabric("dup");
        create("vnet.p2p", "name", "dup", "runtime.dir", dir.toString(), "size", 128);
        String failure = await(() -> {
            var scr = Framework.service(org.osgi.service.component.runtime.ServiceComponentRuntime.class);
            var d = scr.getComponentDescriptionDTO(Framework.bundle(SWITCHING),
                    "vnet.switching.component.P2pLinkComponent");
            return scr.getComponentConfigurationDTOs(d).stream().filter(c -> c.failure != null).map(c -> c.failure)
                    .findFirst().orElse(null);
        }, "the p2p link's failure");
        assertTrue(failure.contains("name=dup is already used by a running switch"), failure);
        assertEquals(Fabric.KIND_SWITCH, Framework.fabric("dup").kind());
    }

    @Test
    void portsUseTheFrameworksRuntimeDirByDefaultAndGoWithTheirSwitch() throws Exception {
        Configuration sw = create("vnet.switch", "name", "dflt");
        Fabric f = awaitFabric("dflt");
        assertEquals(Path.of("/tmp/vnet-itest/dflt"), ((vnet.switching.PortHost) f).runtimeDir());
        create("vnet.port", "link", "dflt", "name", "one");
        Path sock = Path.of("/tmp/vnet-itest/dflt/one.sock");
        awaitTrue(() -> Files.exists(sock), "the default socket");
        Client one = client("one", sock);
        assertTrue(one.frontend.isConnected());
        sw.delete();
        awaitNoFabric("dflt");
        awaitTrue(() -> !Files.exists(sock), "the port closed with its switch");
        // The port's configuration stays: it comes back with a new switch of that name.
        create("vnet.switch", "name", "dflt");
        Fabric again = awaitFabric("dflt");
        awaitTrue(() -> portNames(again).equals(List.of("one")), "the port back on the new switch");
    }

    @Test
    void vlansMonitorsCapturesAndViewsThroughTheService() throws Exception {
        create("vnet.switch", "name", "v", "runtime.dir", dir.toString(), "mac.aging", 60);
        Fabric v = awaitFabric("v");
        create("vnet.port", "link", "v", "name", "a10", "vlan", "access:10");
        create("vnet.port", "link", "v", "name", "b10", "vlan", "access:10");
        create("vnet.port", "link", "v", "name", "c20", "vlan", "access:20");
        create("vnet.port", "link", "v", "name", "t", "vlan", "trunk:10,20");
        create("vnet.port", "link", "v", "name", "mon", "monitor", true);
        awaitTrue(() -> portNames(v).size() == 5, "five ports");
        Client a = client("a10", socket("v", "a10"));
        Client b = client("b10", socket("v", "b10"));
        Client c = client("c20", socket("v", "c20"));
        Client t = client("t", socket("v", "t"));
        Client mon = client("mon", socket("v", "mon"));
        awaitForwarding(v, "a10", "b10", "c20", "t", "mon");
        Path pcap = dir.resolve("a10.pcap");
        v.startCapture("a10", pcap);
        byte[] f = Frames.frame(Frames.BROADCAST, mac(1), 1);
        a.send(f);
        assertArrayEquals(f, b.expect());
        assertEquals(f.length + 4, t.expect().length); // tagged on the trunk
        assertArrayEquals(f, mon.expect());
        c.expectNothing(150);
        v.stopCapture("a10");
        assertTrue(Files.size(pcap) == 24 + 16 + f.length, "one frame captured: " + Files.size(pcap));
        List<MacEntry> table = v.macTable();
        assertEquals(Set.of("02:00:00:00:00:01 vlan 10 port a10"),
                table.stream().map(e -> e.toString().replaceAll(" age.*", "")).collect(Collectors.toSet()));
        assertEquals("access:10", v.port("a10").vlan().toString());
        assertTrue(v.port("mon").monitor());
        assertTrue(v.port("a10").running());
        assertEquals("vhost-user server " + socket("v", "a10"), v.port("a10").endpoint());
        assertFalse(v.queues("a10").isEmpty());
    }

    @Test
    void metatypeDescribesTheThreeFactories() {
        MetaTypeService mts = Framework.service(MetaTypeService.class);
        MetaTypeInformation info = mts.getMetaTypeInformation(Framework.bundle(SWITCHING));
        assertEquals(Set.of("vnet.p2p", "vnet.switch", "vnet.port"), Set.of(info.getFactoryPids()));
        ObjectClassDefinition port = info.getObjectClassDefinition("vnet.port", null);
        Set<String> ids = Stream.of(port.getAttributeDefinitions(ObjectClassDefinition.ALL)).map(a -> a.getID())
                .collect(Collectors.toSet());
        assertEquals(Set.of("link", "name", "options", "transport", "socket", "client", "vlan", "monitor"), ids);
        ObjectClassDefinition sw = info.getObjectClassDefinition("vnet.switch", null);
        Set<String> swIds = Stream.of(sw.getAttributeDefinitions(ObjectClassDefinition.ALL)).map(a -> a.getID())
                .collect(Collectors.toSet());
        assertEquals(Set.of("name", "poll", "busy.poll", "size", "register.ds", "runtime.dir", "max.ports",
                "mac.aging", "mac.table.size", "workers", "cpus"), swIds);
    }

    @Test
    void aSwitchFromConfigurationRunsOnItsWorkers() throws Exception {
        create("vnet.switch", "name", "w3", "runtime.dir", dir.toString(), "workers", "3");
        Fabric f = awaitFabric("w3");
        assertEquals(3, f.workers());
        create("vnet.p2p", "name", "w2", "runtime.dir", dir.toString(), "workers", 2);
        assertEquals(2, awaitFabric("w2").workers());
    }
}
