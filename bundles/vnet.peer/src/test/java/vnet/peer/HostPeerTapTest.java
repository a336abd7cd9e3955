package vnet.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import vnet.peer.internal.HostPeerComponent;
import vnet.switching.FabricSettings;
import vnet.switching.P2pLink;
import vnet.switching.PortDefinition;
import vnet.switching.PortOptions;
import vnet.switching.Switch;
import vnet.testing.WorkDir;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.inproc.internal.InprocTransport;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtio.net.Features;

/**
 * Host peers with real TAP interfaces, without QEMU: a Java driver ({@link JavaGuest}) stands in for the guest and
 * answers ARP and ping. Every TAP interface is created in the JVM's namespace, moved at once into a namespace the test
 * created, and configured there (192.0.2.0/24 only); the namespace is deleted in the end, even on failure.
 */
@Tag("real-peer")
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class HostPeerTapTest {
    private static final long GUEST_MAC = 0x020000000202L;

    /** The Java guest's options: a Linux-like driver, or a legacy one (no VERSION_1, no MRG_RXBUF: 10-byte header). */
    static VhostUserFrontend.Options guestOptions(boolean legacy) {
        VhostUserFrontend.Options o = VhostUserFrontend.Options.defaults();
        return legacy ? o.withFeatures(Features.RING_EVENT_IDX | Features.RING_INDIRECT_DESC | Features.ANY_LAYOUT) : o;
    }

    @ParameterizedTest(name = "legacy={0}")
    @ValueSource(booleans = {false, true})
    void hostPingsAGuestConnectedToTheBindPath(boolean legacy) throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("bind=" + dir.resolve("vp.sock") + ",mac=02a0b0c0d0e0"
                        + (legacy ? ",legacy" : "")), -1)) {
            String vp = peer.interfaceName();
            ns.moveLink(vp);
            ns.configure(vp, "192.0.2.1/24");
            assertEquals("02:a0:b0:c0:d0:e0", ns.exec("cat", "/sys/class/net/" + vp + "/address").trim());
            try (JavaGuest guest = JavaGuest.connect(peer.bindPath(), guestOptions(legacy), GUEST_MAC, "192.0.2.2")) {
                await(peer::isConnected, "the guest's device runs");
                assertEquals(legacy ? 10 : 12, peer.virtioHeaderSize());
                assertEquals(legacy ? 10 : 12, peer.tapHeaderSize());
                NetNamespace.Ping ping = ns.ping("192.0.2.2", 5, "0.2");
                assertEquals(5, ping.received(), () -> ping.output() + "\n" + peer + "\n" + guest);
                assertTrue(peer.stats().toVirtio() >= 5 && peer.stats().toTap() >= 5, peer::toString);
            }
            await(() -> !peer.isConnected(), "the guest left");
        }
    }

    @Test
    void theNextGuestOnTheBindPathIsServedToo() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("bind=" + dir.resolve("vp.sock")), -1)) {
            ns.moveLink(peer.interfaceName());
            ns.configure(peer.interfaceName(), "192.0.2.1/24");
            for (boolean packed : new boolean[] {false, true, false}) {
                try (JavaGuest guest = JavaGuest.connect(peer.bindPath(), guestOptions(false).withPacked(packed),
                        GUEST_MAC, "192.0.2.2")) {
                    await(peer::isConnected, "the guest's device runs");
                    NetNamespace.Ping ping = ns.ping("192.0.2.2", 3, "0.2");
                    assertEquals(3, ping.received(), () -> "packed=" + packed + ": " + ping.output() + "\n" + peer + "\n" + guest);
                }
                await(() -> !peer.isConnected(), "the guest left");
            }
        }
    }

    /**
     * A guest that posts no receive buffers: the peer keeps the frame it could not deliver, stops reading the TAP
     * (the kernel queues the rest) and sleeps until the guest posts buffers; then every frame arrives, none lost.
     */
    @Test
    void aGuestWithoutReceiveBuffersMakesThePeerWaitWithoutSpinning() throws Exception {
        int count = 400;
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("bind=" + dir.resolve("vp.sock")), -1);
                VhostUserFrontend guest = VhostUserFrontend.connect(peer.bindPath(), guestOptions(false))) {
            String vp = peer.interfaceName();
            ns.moveLink(vp);
            ns.configure(vp, "192.0.2.1/24");
            ns.exec("ip", "neigh", "replace", "192.0.2.2", "lladdr", "02:00:00:00:02:02", "dev", vp, "nud", "permanent");
            await(peer::isConnected, "the guest's device runs");
            long dropsBefore = peer.stats().toVirtioDropped();
            ns.execAnyExit(java.time.Duration.ofSeconds(30), "ping", "-q", "-c", Integer.toString(count), "-i", "0.002",
                    "-W", "1", "192.0.2.2");
            long delivered = peer.stats().toVirtio();
            assertTrue(delivered < count, "the guest's " + delivered + " receive buffers ran out: " + peer);
            long cpu0 = cpuTicks(peer.txThreadId());
            Thread.sleep(1500);
            long cpu = cpuTicks(peer.txThreadId()) - cpu0;
            assertTrue(cpu <= 5, "the peer sleeps while it waits for buffers: " + cpu + " ticks in 1.5 s");
            int echoes = 0;
            vnet.virtio.net.FrameBuffer frame = new vnet.virtio.net.FrameBuffer();
            while (guest.receive(frame, java.time.Duration.ofSeconds(2))) {
                byte[] f = frame.toByteArray();
                if (f.length > 34 && f[12] == 0x08 && f[13] == 0 && f[23] == 1 && f[34] == 8) {
                    echoes++;
                }
            }
            assertEquals(count, echoes, () -> "every echo request arrives once buffers are posted: " + peer);
            assertEquals(dropsBefore, peer.stats().toVirtioDropped(), peer::toString);
        }
    }

    @ParameterizedTest(name = "legacy={0}, port offloads={1}")
    @CsvSource({"false, false", "true, false", "false, true"})
    void hostPingsAGuestThroughAVnetPort(boolean legacy, boolean offloads) throws Exception {
        long features = PortSettings.DEFAULT_FEATURES | (offloads ? Features.CSUM | Features.GUEST_CSUM
                | Features.GUEST_TSO4 | Features.GUEST_TSO6 : 0);
        PortSettings settings = PortSettings.defaults().withFeatures(features);
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                VhostUserPort a = VhostUserPort.listen("a", dir.resolve("a.sock"), settings);
                VhostUserPort b = VhostUserPort.listen("b", dir.resolve("b.sock"), settings);
                P2pLink link = new P2pLink("p2p", a, b, 0);
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("peer=" + a.socketPath() + (legacy ? ",legacy" : "")), -1);
                JavaGuest guest = JavaGuest.connect(b.socketPath(), guestOptions(false), GUEST_MAC, "192.0.2.2")) {
            String vp = peer.interfaceName();
            ns.moveLink(vp);
            ns.configure(vp, "192.0.2.1/24");
            await(peer::isConnected, "the vnet port is reached");
            assertEquals(legacy ? 10 : 12, peer.virtioHeaderSize());
            assertEquals(legacy ? 10 : 12, peer.tapHeaderSize());
            assertEquals(offloads ? TapInterface.TUN_F_CSUM : 0, peer.tapOffloads(), "TAP offloads follow the port's CSUM");
            NetNamespace.Ping ping = ns.ping("192.0.2.2", 5, "0.2");
            assertEquals(5, ping.received(), () -> ping.output() + "\n" + peer + "\n" + guest);
        }
    }

    /**
     * {@code peer=sw:hp}: a vnet switch with a vhost-user port {@code g} (the Java guest) and an inproc port {@code hp}
     * (mac= set); the host peer attaches to {@code hp} in-process through a resolver over the inproc transport, takes
     * the port's MAC, and the host pings the guest through the switch. The port goes away (detached and closed): the
     * peer waits; a new {@code hp} comes: the peer attaches again and the ping works again.
     */
    @ParameterizedTest(name = "legacy={0}")
    @ValueSource(booleans = {false, true})
    void hostPingsAGuestOnASwitchThroughAnInprocPort(boolean legacy) throws Exception {
        InprocTransport inproc = new InprocTransport();
        InprocPortResolver resolver = p -> inproc.port(p.link() + "/" + p.port());
        PortOptions hpOptions = PortOptions.parse("mac=02:00:00:00:0a:01");
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                Switch sw = new Switch("sw", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
            VhostUserPort g = VhostUserPort.listen("g", dir.resolve("g.sock"), sw.portSettings(PortOptions.DEFAULTS));
            DevicePort[] hp = {null};
            try (g; HostPeer peer = HostPeer.start(PeerOptions.parseOne("peer=sw:hp,priority=5" + (legacy ? ",legacy" : "")),
                    -1, resolver)) {
                sw.attach(PortDefinition.of("g", PortOptions.DEFAULTS), g);
                String vp = peer.interfaceName();
                ns.moveLink(vp);
                ns.configure(vp, "192.0.2.1/24");
                assertEquals(5, niceOf(peer.txThreadId()), "priority= is the TX thread's nice value");
                Thread.sleep(300);
                assertFalse(peer.isConnected(), "no port hp yet");
                assertEquals("no inproc port sw:hp (yet)", peer.lastError());
                for (int round = 0; round < 2; round++) {
                    // the inproc port's socket path only tells the transport its link (sw), as the port component's does
                    hp[0] = inproc.open(new PortSpec(sw.name(), "hp", sw.portSettings(hpOptions), sw.runtimeDir().resolve("hp.sock"), false));
                    sw.attach(PortDefinition.of("hp", hpOptions), hp[0]);
                    try (JavaGuest guest = JavaGuest.connect(g.socketPath(), guestOptions(false), GUEST_MAC, "192.0.2.2")) {
                        int r = round;
                        await(peer::isConnected, "attached to sw:hp, round " + round);
                        assertEquals("02:00:00:00:0a:01", ns.exec("cat", "/sys/class/net/" + vp + "/address").trim(),
                                "without mac= the TAP takes the port's mac=");
                        assertEquals(legacy ? 10 : 12, peer.tapHeaderSize());
                        assertEquals(0, peer.tapOffloads(), "the in-framework endpoint takes no offloads");
                        NetNamespace.Ping ping = ns.ping("192.0.2.2", 5, "0.2");
                        assertEquals(5, ping.received(), () -> "round " + r + ": " + ping.output() + "\n" + peer + "\n"
                                + guest + "\n" + sw.stats("hp"));
                        assertTrue(peer.stats().toVirtio() >= 5 && peer.stats().toTap() >= 5, peer::toString);
                    }
                    // the port goes away (its configuration deleted): the peer's endpoint closes, it waits
                    sw.detach("hp");
                    hp[0].close();
                    hp[0] = null;
                    await(() -> !peer.isConnected(), "the port's going away is seen, round " + round);
                    assertEquals(null, inproc.port("sw/hp"));
                }
            } finally {
                if (hp[0] != null) {
                    hp[0].close();
                }
            }
        }
    }

    @Test
    void aPeerWaitsForItsPortAndReconnects() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("peer=" + dir.resolve("late.sock")), -1)) {
            ns.moveLink(peer.interfaceName());
            Thread.sleep(700);
            assertFalse(peer.isConnected());
            for (int round = 0; round < 2; round++) {
                try (VhostUserPort port = VhostUserPort.listen("late", dir.resolve("late.sock"), PortSettings.defaults())) {
                    await(peer::isConnected, "the port is reached, round " + round);
                }
                await(() -> !peer.isConnected(), "the port's going away is seen, round " + round);
            }
        }
    }

    @ParameterizedTest(name = "priority={0}")
    @ValueSource(ints = {7, -5, 19})
    void priorityIsTheTxThreadsNiceValue(int priority) throws Exception {
        int callerNice = niceOf(vnet.linux.Sched.gettid());
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("bind=" + dir.resolve("p.sock") + ",priority=" + priority), -1)) {
            ns.moveLink(peer.interfaceName());
            assertEquals(priority, niceOf(peer.txThreadId()));
            assertEquals(callerNice, niceOf(vnet.linux.Sched.gettid()), "the caller's thread keeps its nice value");
        }
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("peer=" + dir.resolve("p.sock") + ",priority=" + priority), -1)) {
            ns.moveLink(peer.interfaceName());
            assertEquals(priority, niceOf(peer.txThreadId()));
        }
    }

    @Test
    void closingThePeerDeletesItsInterface() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-"); NetNamespace ns = NetNamespace.create()) {
            HostPeer peer = HostPeer.start(PeerOptions.parseOne("bind=" + dir.resolve("c.sock") + ",name=vpc"), 3);
            String vp = peer.interfaceName();
            assertEquals("vpc3", vp);
            try {
                ns.moveLink(vp);
                assertTrue(ns.hasLink(vp));
                assertTrue(Files.exists(dir.resolve("c.sock")));
            } finally {
                peer.close();
            }
            assertFalse(ns.hasLink(vp));
            assertFalse(NetNamespace.rootHasLink(vp));
            assertFalse(Files.exists(dir.resolve("c.sock")), "the bind socket is removed");
            peer.close(); // idempotent
        }
    }

    @Test
    void aDeletedNamespaceTakesTheInterfaceAndTheThreadsStayAsleep() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-")) {
            for (String mode : new String[] {"bind", "peer", "inproc"}) {
                HostPeer peer = mode.equals("inproc") ? HostPeer.start(PeerOptions.parseOne("peer=sw:none"), -1, p -> null)
                        : HostPeer.start(PeerOptions.parseOne(mode + "=" + dir.resolve(mode + ".sock")), -1);
                try {
                    try (NetNamespace ns = NetNamespace.create()) {
                        ns.moveLink(peer.interfaceName());
                        ns.configure(peer.interfaceName(), "192.0.2.1/24");
                    }
                    Thread.sleep(300);
                    long cpu0 = cpuTicks(peer.txThreadId());
                    Thread.sleep(1500);
                    long cpu = cpuTicks(peer.txThreadId()) - cpu0;
                    assertTrue(cpu <= 5, mode + ": the TX thread sleeps after its interface went away: " + cpu + " ticks in 1.5 s");
                } finally {
                    peer.close();
                }
            }
        }
    }

    @Test
    void dsComponentCreatesAndDeletesTheInterface() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-peer-"); NetNamespace ns = NetNamespace.create()) {
            HostPeerComponent c = new HostPeerComponent(config("bind=" + dir.resolve("ds.sock") + ",name=vpds,mac=02a0b0c0d0e1", 4));
            String vp = c.peer().interfaceName();
            try {
                assertEquals("vpds4", vp);
                ns.moveLink(vp);
                assertEquals("02:a0:b0:c0:d0:e1", ns.exec("cat", "/sys/class/net/" + vp + "/address").trim());
            } finally {
                c.deactivate();
            }
            assertFalse(ns.hasLink(vp), "deleting the configuration deletes the interface");

            PeerOptionException e = assertThrows(PeerOptionException.class,
                    () -> new HostPeerComponent(config("bind=" + dir.resolve("ds.sock") + ",colour=blue", -1)));
            assertEquals("unknown option \"colour=blue\" (known: peer, bind, mac, name, legacy, priority)", e.getMessage());
            e = assertThrows(PeerOptionException.class,
                    () -> new HostPeerComponent(config("bind=/a,bind=/b", -1)));
            assertTrue(e.getMessage().startsWith("the options hold 2 host peers"), e.getMessage());
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    static HostPeerComponent.Config config(String options, int index) {
        return new HostPeerComponent.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return HostPeerComponent.Config.class;
            }

            @Override
            public String options() {
                return options;
            }

            @Override
            public int index() {
                return index;
            }
        };
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Field 19 of /proc/self/task/TID/stat: the nice value. */
    static int niceOf(int tid) throws IOException {
        return Integer.parseInt(statFields(tid)[16]);
    }

    /** utime + stime of a thread, in clock ticks. */
    static long cpuTicks(int tid) throws IOException {
        String[] f = statFields(tid);
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** The fields after "(comm)", so that index 0 is field 3 (state). */
    private static String[] statFields(int tid) throws IOException {
        String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    }
}
