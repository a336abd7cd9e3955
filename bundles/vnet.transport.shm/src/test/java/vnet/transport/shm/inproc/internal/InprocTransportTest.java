package vnet.transport.shm.inproc.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.transport.shm.DataPath;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.PortSpec;
import vnet.transport.shm.QueuePair;
import vnet.transport.shm.inproc.Endpoint;
import vnet.transport.shm.inproc.InprocPort;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DescriptorChain;

/** Two in-framework ports joined by a tiny forwarding loop (what a p2p link does), driven by their endpoints. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InprocTransportTest {
    private final InprocTransport transport = new InprocTransport();
    private final DescriptorChain chain = new DescriptorChain();
    private final VirtioNetHeader header = new VirtioNetHeader();

    private DevicePort open(String name) throws IOException {
        return transport.open(new PortSpec("l1", name, PortSettings.defaults().withMac(0x020000000001L),
                Path.of("/tmp/vnet/l1/" + name + ".sock"), false));
    }

    /** Moves every pending frame from a's transmit queue to b's receive queue; returns frames moved. */
    private int forward(DevicePort from, DevicePort to) {
        DeviceSnapshot src = from.device();
        DeviceSnapshot dst = to.device();
        if (src == null) {
            return 0;
        }
        QueuePair in = src.pairs().get(0);
        QueuePair out = dst == null ? null : dst.pairs().get(0);
        NetDevice n = in.net();
        int moved = 0;
        int length;
        while ((length = n.pollTx(chain, header)) != NetDevice.NONE) {
            if (out != null) {
                out.net().deliverToRx(header, chain, n.headerSize(), length);
            }
            n.completeTx(chain);
            moved++;
        }
        if (moved > 0) {
            if (n.flushTx()) {
                in.callTx();
            }
            if (out != null && out.net().flushRx()) {
                out.callRx();
            }
        }
        return moved;
    }

    private static byte[] frame(int i, int length) {
        byte[] f = new byte[length];
        for (int k = 0; k < 6; k++) {
            f[k] = (byte) 0xff;
        }
        f[12] = 0x08;
        for (int k = 14; k < length; k++) {
            f[k] = (byte) (i + k);
        }
        return f;
    }

    @Test
    void framesTravelBetweenTwoEndpoints() throws Exception {
        try (DevicePort a = open("a"); DevicePort b = open("b")) {
            assertNull(a.device(), "no device before a client attaches");
            InprocPort pa = transport.port("a");
            assertNotNull(transport.port("l1/b"));
            assertEquals(0x020000000001L, pa.mac());
            try (Endpoint ea = pa.attach(); Endpoint eb = transport.port("b").attach()) {
                assertNotNull(a.device());
                assertTrue(pa.isAttached());
                assertThrows(IOException.class, pa::attach, "a second client is refused");
                byte[] rx = new byte[9216];
                for (int round = 0; round < 20; round++) {
                    for (int i = 0; i < 50; i++) {
                        assertTrue(ea.send(frame(i, 60 + 29 * i), 0, 60 + 29 * i));
                    }
                    assertEquals(50, forward(a, b));
                    for (int i = 0; i < 50; i++) {
                        int n = eb.receive(rx, 0);
                        assertEquals(60 + 29 * i, n);
                        byte[] got = new byte[n];
                        System.arraycopy(rx, 0, got, 0, n);
                        assertArrayEquals(frame(i, n), got);
                    }
                    assertEquals(Endpoint.NONE, eb.receive(rx, 0));
                }
                assertEquals(1000, eb.rxFrames());
                assertEquals(1000, ea.txFrames());
                // a jumbo frame spans several mergeable receive buffers
                assertTrue(eb.send(frame(7, 9000), 0, 9000));
                assertEquals(1, forward(b, a));
                assertEquals(9000, ea.receive(rx, 0));
            }
            assertNull(a.device(), "closing the endpoint stops the device");
            assertFalse(pa.isAttached());
            try (Endpoint again = pa.attach()) {
                assertNotNull(a.device(), "the port can be attached again");
            }
        }
        assertNull(transport.port("a"), "a closed port is gone");
    }

    @Test
    void awaitWakesOnDeliveryAndOnClose() throws Exception {
        try (DevicePort a = open("a"); DevicePort b = open("b")) {
            Endpoint ea = transport.port("a").attach();
            Endpoint eb = transport.port("b").attach();
            a.setDataPath(DataPath.NONE);
            AtomicBoolean running = new AtomicBoolean(true);
            Thread worker = new Thread(() -> {
                while (running.get()) {
                    if (forward(a, b) == 0) {
                        Thread.onSpinWait();
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            });
            worker.start();
            try {
                assertFalse(eb.await(50, TimeUnit.MILLISECONDS), "nothing to receive yet");
                assertTrue(ea.send(frame(1, 100), 0, 100));
                assertTrue(eb.await(5, TimeUnit.SECONDS));
                assertEquals(100, eb.receive(new byte[2048], 0));
            } finally {
                running.set(false);
                worker.join();
            }
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
                eb.close();
            });
            closer.start();
            long t0 = System.nanoTime();
            assertFalse(eb.await(30, TimeUnit.SECONDS), "close ends a wait");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
            closer.join();
            assertFalse(eb.isOpen());
            assertFalse(eb.send(frame(1, 100), 0, 100));
            assertEquals(Endpoint.NONE, eb.receive(new byte[2048], 0));
            ea.close();
        }
    }

    @Test
    void closingThePortClosesItsEndpoint() throws Exception {
        DevicePort a = open("a");
        Endpoint ea = transport.port("a").attach();
        a.close();
        assertFalse(ea.isOpen());
        assertNull(a.device());
        assertNull(transport.port("a"));
    }
}
