package vnet.transport.vxlan.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

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

/**
 * Frames per second through a vnet to vnet VXLAN tunnel: a Java client on switch sw1 (namespace vx-b1) sends frames
 * to a client on sw2 (vx-b2) as fast as the rings take them; the frames cross sw1, its tunnel port, the veth, sw2's
 * tunnel port and sw2. Counted at the receiver over 5 s, per frame size. A benchmark, not a test: runs only with
 * {@code -Dvnet.vxlan.bench=true}.
 */
@EnabledIfSystemProperty(named = "vnet.vxlan.bench", matches = "true")
class VxlanThroughputBench {

    @Test
    void framesPerSecond() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-vxlan-bench-"); Netns h1 = Netns.create("vx-b1"); Netns h2 = Netns.create("vx-b2")) {
            h1.exec("ip", "link", "add", "vx-bv1", "type", "veth", "peer", "name", "vx-bv2", "netns", h2.name());
            h1.exec("ip", "addr", "add", "192.0.2.101/24", "dev", "vx-bv1");
            h1.exec("ip", "link", "set", "vx-bv1", "up");
            h2.exec("ip", "addr", "add", "192.0.2.102/24", "dev", "vx-bv2");
            h2.exec("ip", "link", "set", "vx-bv2", "up");
            try (Switch sw1 = new Switch("sw1", FabricSettings.defaults().withRuntimeDir(dir.path()));
                    Switch sw2 = new Switch("sw2", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
                InprocTransport inproc = new InprocTransport();
                Endpoint e1 = client(inproc, sw1, "h1", "mac=02:00:00:00:00:01");
                Endpoint e2 = client(inproc, sw2, "h2", "mac=02:00:00:00:00:02");
                VxlanPort t1 = (VxlanPort) VxlanTunnelTest.tunnel(h1, new VxlanTransport(), sw1,
                        "vni=42 local=192.0.2.101 remote=192.0.2.102");
                VxlanPort t2 = (VxlanPort) VxlanTunnelTest.tunnel(h2, new VxlanTransport(), sw2,
                        "vni=42 local=192.0.2.102 remote=192.0.2.101");
                try {
                    // Both switches and t1 learn where 02:..:02 is.
                    byte[] hello = VxlanTunnelTest.frame(VxlanCodecTest.unhex("020000000001"), "020000000002", 0x0800, 60);
                    e2.send(hello, 0, hello.length);
                    Thread.sleep(500);
                    while (e1.receive(new byte[2048], 0) != Endpoint.NONE) {
                        // drained
                    }
                    for (int size : new int[] {64, 1400}) {
                        run(e1, e2, size);
                    }
                    System.out.println("tunnel counters: sw1/up " + t1.counters() + "\n                 sw2/up " + t2.counters());
                    System.out.println("switch drops: sw1/up " + sw1.stats("up") + "\n              sw2/h2 " + sw2.stats("h2"));
                } finally {
                    sw1.detach("up");
                    sw2.detach("up");
                    t1.close();
                    t2.close();
                }
            }
        }
    }

    private static void run(Endpoint e1, Endpoint e2, int size) throws Exception {
        byte[] f = VxlanTunnelTest.frame(VxlanCodecTest.unhex("020000000002"), "020000000001", 0x0800, size);
        AtomicBoolean on = new AtomicBoolean(true);
        AtomicLong received = new AtomicLong();
        Thread rx = new Thread(() -> {
            byte[] buf = new byte[2048];
            try {
                while (on.get()) {
                    if (e2.receive(buf, 0) != Endpoint.NONE) {
                        received.incrementAndGet();
                    } else {
                        e2.await(10, TimeUnit.MILLISECONDS);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        rx.start();
        long sent = 0;
        long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (System.nanoTime() < warm) {
            sent += e1.send(f, 0, f.length) ? 1 : 0;
        }
        long r0 = received.get();
        long t0 = System.nanoTime();
        long end = t0 + TimeUnit.SECONDS.toNanos(5);
        long s0 = sent;
        while (System.nanoTime() < end) {
            if (e1.send(f, 0, f.length)) {
                sent++;
            } else {
                Thread.onSpinWait();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long r = received.get() - r0;
        Thread.sleep(200);
        on.set(false);
        rx.join();
        System.out.printf("VXLAN-BENCH %d B: %.0f frames/s received (%.0f offered), %.1f Mbit/s of inner frames%n", size,
                r / seconds, (sent - s0) / seconds, r * size * 8 / seconds / 1e6);
    }

    private static Endpoint client(InprocTransport inproc, Switch sw, String name, String options) throws Exception {
        PortOptions o = PortOptions.parse(options);
        DevicePort p = inproc.open(new PortSpec(sw.name(), name, sw.portSettings(o), null, false));
        sw.attach(new PortDefinition(name, o, VlanMode.DEFAULT, false, "inproc"), p);
        return ((InprocPort) p).attach();
    }
}
