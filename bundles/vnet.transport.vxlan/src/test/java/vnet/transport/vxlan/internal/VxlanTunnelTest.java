package vnet.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.switching.FabricSettings;
import vnet.switching.PortDefinition;
import vnet.switching.PortOptions;
import vnet.switching.Switch;
import vnet.switching.VlanMode;
import vnet.testing.WorkDir;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.inproc.Endpoint;
import vnet.transport.shm.inproc.InprocPort;
import vnet.transport.shm.inproc.internal.InprocTransport;
import vnet.transport.vxlan.VxlanOptions;
import vnet.virtio.net.Features;

/**
 * Two switches joined by two VXLAN ports, each with a Java client on an in-framework port, inside a network namespace
 * this test creates ({@code vx-u}: a veth interface with 192.0.2.1, .2 and .3, MTU 1500). The first tunnel has a
 * second remote, 192.0.2.3, which is a plain Java UDP socket that sees what head-end replication sends it and sends
 * hand-made VXLAN packets. Needs root (namespaces, a raw socket).
 */
class VxlanTunnelTest {
    private static final String MAC1 = "020000000001", MAC2 = "020000000002";
    private static final byte[] BROADCAST = VxlanCodecTest.unhex("ffffffffffff");

    private Switch sw1, sw2;
    private Endpoint e1, e2;
    private DatagramChannel third, stranger;

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void framesCrossTheTunnelFloodedOrToTheLearnedRemoteAndBadPacketsAreCounted() throws Exception {
        assumeTrue(Netns.isRoot(), "needs root: network namespaces and a raw socket");
        try (WorkDir dir = WorkDir.create("vnet-vxlan-tunnel-"); Netns ns = Netns.create("vx-u")) {
            ns.exec("ip", "link", "add", "vx-d0", "type", "veth", "peer", "name", "vx-d1");
            ns.exec("ip", "link", "set", "vx-d1", "up");
            for (String a : new String[] {"192.0.2.1/24", "192.0.2.2/24", "192.0.2.3/24", "192.0.2.4/24"}) {
                ns.exec("ip", "addr", "add", a, "dev", "vx-d0");
            }
            ns.exec("ip", "link", "set", "vx-d0", "mtu", "1500", "up");
            sw1 = new Switch("sw1", FabricSettings.defaults().withRuntimeDir(dir.path()));
            sw2 = new Switch("sw2", FabricSettings.defaults().withRuntimeDir(dir.path()));
            InprocTransport inproc = new InprocTransport();
            VxlanTransport vxlan = new VxlanTransport();
            e1 = client(inproc, sw1, "h1", "mac=02:00:00:00:00:01");
            e2 = client(inproc, sw2, "h2", "mac=02:00:00:00:00:02");
            VxlanPort t1 = (VxlanPort) tunnel(ns, vxlan, sw1, "vni=42 local=192.0.2.1 remote=192.0.2.2,192.0.2.3");
            VxlanPort t2 = (VxlanPort) tunnel(ns, vxlan, sw2, "vni=42 local=192.0.2.2 remote=192.0.2.1");
            third = ns.call(() -> DatagramChannel.open().bind(new InetSocketAddress("192.0.2.3", 4789)));
            stranger = ns.call(() -> DatagramChannel.open().bind(new InetSocketAddress("192.0.2.4", 0)));
            third.configureBlocking(false);
            try {
                assertEquals(1464, t1.maxInnerFrame(), "1500 - 20 (IP) - 8 (UDP) - 8 (VXLAN)");
                long offloads = Features.GUEST_CSUM | Features.GUEST_TSO4 | Features.GUEST_TSO6 | Features.GUEST_UFO
                        | Features.CSUM | Features.HOST_TSO4 | Features.HOST_TSO6;
                assertEquals(0, t1.device().features() & offloads, "the tunnel port takes no checksum or TSO offload");

                // Broadcast: to every remote, one VXLAN packet each.
                byte[] arp = frame(BROADCAST, MAC1, 0x0806, 60);
                assertTrue(e1.send(arp, 0, arp.length));
                assertArrayEquals(arp, receive(e2), "the broadcast crossed to sw2");
                ByteBuffer d = receive(third);
                assertEquals(8 + arp.length, d.remaining());
                assertEquals(0x0800_0000, d.getInt(0), "I flag");
                assertEquals(42 << 8, d.getInt(4), "VNI 42");
                assertArrayEquals(arp, Arrays.copyOfRange(d.array(), 8, d.limit()));

                // sw2's station answers: t1 learns it behind 192.0.2.2, so unicast to it goes there alone.
                byte[] reply = frame(VxlanCodecTest.unhex(MAC1), MAC2, 0x0800, 100);
                assertTrue(e2.send(reply, 0, reply.length));
                assertArrayEquals(reply, receive(e1));
                byte[] unicast = frame(VxlanCodecTest.unhex(MAC2), MAC1, 0x0800, 200);
                assertTrue(e1.send(unicast, 0, unicast.length));
                assertArrayEquals(unicast, receive(e2));
                Thread.sleep(300);
                assertNull(third.receive(ByteBuffer.allocate(2048)), "known unicast is not flooded to the other remote");

                // Unknown unicast floods.
                byte[] unknown = frame(VxlanCodecTest.unhex("020000000099"), MAC1, 0x0800, 80);
                assertTrue(e1.send(unknown, 0, unknown.length));
                assertEquals(8 + unknown.length, receive(third).remaining());
                receive(e2);

                // Outer source ports follow the flow: one flow one port, another flow (most likely) another.
                int[] ports = new int[3];
                for (int i = 0; i < 3; i++) {
                    byte[] f = flow(i == 2 ? 2000 : 1000);
                    assertTrue(e1.send(f, 0, f.length));
                    InetSocketAddress from = receiveFrom(third);
                    ports[i] = from.getPort();
                    receive(e2);
                }
                assertEquals(ports[0], ports[1]);
                assertNotEquals(ports[0], ports[2]);
                assertTrue(ports[0] >= 32768 && ports[0] <= 60999);

                // The largest inner frame the underlay carries passes; one byte more is dropped and counted.
                byte[] fits = frame(VxlanCodecTest.unhex(MAC2), MAC1, 0x0800, 1464);
                byte[] tooBig = frame(VxlanCodecTest.unhex(MAC2), MAC1, 0x0800, 1465);
                assertTrue(e1.send(tooBig, 0, tooBig.length));
                assertTrue(e1.send(fits, 0, fits.length));
                assertArrayEquals(fits, receive(e2), "1464 bytes fit, 1465 did not come");
                assertEquals(1, t1.counters().dropsTooBig());

                // A foreign VTEP (the Java socket at 192.0.2.3, one of t1's remotes) sends to sw1's station.
                byte[] inner = frame(VxlanCodecTest.unhex(MAC1), "020000000033", 0x0800, 70);
                InetSocketAddress t1Address = new InetSocketAddress("192.0.2.1", 4789);
                third.send(packet(0x0800_0000, 42 << 8, inner), t1Address);
                assertArrayEquals(inner, receive(e1), "decapsulated from another implementation");
                third.send(packet(0x0800_0000, 43 << 8, inner), t1Address);
                third.send(packet(0x0000_0000, 42 << 8, inner), t1Address);
                third.send(packet(0x0800_0001, 42 << 8, inner), t1Address);
                third.send(ByteBuffer.wrap(new byte[12]), t1Address);
                stranger.send(packet(0x0800_0000, 42 << 8, inner), t1Address);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (t1.counters().dropsUnknownSource() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                VxlanCounters c = t1.counters();
                assertEquals(1, c.dropsWrongVni(), c::toString);
                assertEquals(2, c.dropsBadFlags(), c::toString);
                assertEquals(1, c.dropsShort(), c::toString);
                assertEquals(1, c.dropsUnknownSource(), c::toString);
                assertEquals(Endpoint.NONE, e1.receive(new byte[2048], 0), "none of the bad packets reached sw1");
                assertTrue(sw1.macTable().stream().anyMatch(m -> m.mac() == 0x02_00_00_00_00_33L && m.port().equals("up")),
                        "the switch learned the remote station on the tunnel port: " + sw1.macTable());
                assertEquals(0, sw1.stats("up").dropsSpoofed(), "a tunnel port carries many source addresses");
                assertEquals(0, t2.counters().dropsUnknownSource() + t2.counters().sendErrors(), () -> t2.counters().toString());

                // No allocation per frame on either tunnel's thread.
                var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
                Thread[] tunnelThreads = Thread.getAllStackTraces().keySet().stream()
                        .filter(th -> th.getName().startsWith("vnet-vxlan-sw")).toArray(Thread[]::new);
                assertEquals(2, tunnelThreads.length);
                byte[] there = frame(VxlanCodecTest.unhex(MAC2), MAC1, 0x0800, 300);
                byte[] back = frame(VxlanCodecTest.unhex(MAC1), MAC2, 0x0800, 300);
                for (int round = 0; round < 3; round++) {
                    long before = threads.getThreadAllocatedBytes(tunnelThreads[0].getId())
                            + threads.getThreadAllocatedBytes(tunnelThreads[1].getId());
                    for (int i = 0; i < 1000; i++) {
                        assertTrue(e1.send(there, 0, there.length));
                        receive(e2);
                        assertTrue(e2.send(back, 0, back.length));
                        receive(e1);
                    }
                    long allocated = threads.getThreadAllocatedBytes(tunnelThreads[0].getId())
                            + threads.getThreadAllocatedBytes(tunnelThreads[1].getId()) - before;
                    System.out.printf("round %d: the tunnel threads allocated %d bytes for 4000 frame crossings%n", round,
                            allocated);
                    if (round == 2) {
                        assertTrue(allocated < 2048, allocated + " bytes allocated by the tunnel threads for 4000 frames");
                    }
                }
            } finally {
                sw1.detach("up");
                sw2.detach("up");
                t1.close();
                t2.close();
                third.close();
                stranger.close();
                sw1.close();
                sw2.close();
            }
        }
    }

    private static Endpoint client(InprocTransport inproc, Switch sw, String name, String options) throws Exception {
        PortOptions o = PortOptions.parse(options);
        DevicePort p = inproc.open(new PortSpec(sw.name(), name, sw.portSettings(o), null, false));
        sw.attach(new PortDefinition(name, o, VlanMode.DEFAULT, false, "inproc"), p);
        return ((InprocPort) p).attach();
    }

    static DevicePort tunnel(Netns ns, VxlanTransport vxlan, Switch sw, String options) throws Exception {
        PortOptions o = PortOptions.parse(options, "vxlan", vxlan.optionNames());
        vxlan.checkOptions(o.transport(), o.mac());
        DevicePort p = ns.call(() -> vxlan.open(new PortSpec(sw.name(), "up", sw.portSettings(o), null, false, o.transport())));
        sw.attach(new PortDefinition("up", o, VlanMode.DEFAULT, false, "vxlan"), p);
        return p;
    }

    /** An Ethernet frame of {@code length} bytes to {@code dst} from {@code src}, payload a counting pattern. */
    static byte[] frame(byte[] dst, String src, int type, int length) {
        byte[] f = new byte[length];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(VxlanCodecTest.unhex(src), 0, f, 6, 6);
        f[12] = (byte) (type >> 8);
        f[13] = (byte) type;
        for (int i = 14; i < length; i++) {
            f[i] = (byte) i;
        }
        return f;
    }

    /** A TCP frame of flow (198.51.100.1:sport → 198.51.100.2:80) to an unknown station, so it is flooded. */
    private static byte[] flow(int sport) {
        byte[] f = new byte[64];
        VxlanCodecTest.tcpFrame(sport).getBytes(0, f);
        System.arraycopy(VxlanCodecTest.unhex("020000000099" + MAC1), 0, f, 0, 12);
        return f;
    }

    private static ByteBuffer packet(int word0, int word1, byte[] inner) {
        ByteBuffer b = ByteBuffer.allocate(8 + inner.length);
        b.putInt(word0).putInt(word1).put(inner).flip();
        return b;
    }

    private static byte[] receive(Endpoint e) throws InterruptedException {
        byte[] buf = new byte[9216];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            int n = e.receive(buf, 0);
            if (n != Endpoint.NONE) {
                return Arrays.copyOf(buf, n);
            }
            e.await(100, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("no frame at " + e.portName());
    }

    private static ByteBuffer receive(DatagramChannel c) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(2048);
        receiveInto(c, b);
        return b.flip();
    }

    private static InetSocketAddress receiveFrom(DatagramChannel c) throws Exception {
        return receiveInto(c, ByteBuffer.allocate(2048));
    }

    private static InetSocketAddress receiveInto(DatagramChannel c, ByteBuffer b) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            InetSocketAddress from = (InetSocketAddress) c.receive(b);
            if (from != null) {
                return from;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no datagram at " + c.getLocalAddress());
    }
}
