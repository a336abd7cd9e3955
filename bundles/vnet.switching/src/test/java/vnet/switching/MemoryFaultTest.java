package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.linux.Files;
import vnet.linux.Mapping;
import vnet.linux.Memfd;
import vnet.linux.Mman;
import vnet.linux.UnixSocket;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.transport.shm.vhost.VhostUserRequest;
import vnet.virtio.net.Features;
import vnet.virtqueue.Descriptor;

/**
 * Issue 12's reproductions: a front-end registers a 2 MiB memory file, then cuts it to 1 MiB (or to 0) and makes vnet
 * touch the cut-off part — a transmit buffer, an indirect table, the rings themselves, a receive buffer vnet writes
 * into. Every access there is a SIGBUS, which the JVM turns into an InternalError on the accessing thread. Only the
 * offending port may break (with its reason as the connection's close reason); the other ports of the switch keep
 * forwarding, and the port serves a good front-end afterwards.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryFaultTest {
    private static final long MIB = HostileFrontend.MIB;
    private static final int HDR = HostileFrontend.HDR;
    private static final long TX_RING_LOW = HostileFrontend.TX_RING_LOW;
    private static final long TX_RING_HIGH = HostileFrontend.TX_RING_HIGH;
    private static final long HIGH_BUFFER = HostileFrontend.HIGH_BUFFER;

    enum Cut { TX_BUFFER, INDIRECT_TABLE, RINGS, RX_BUFFER }


    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Cut.class)
    void memfdCutShortBreaksOnlyItsPort(Cut cut) throws Exception {
        shrinkBreaksOnlyTheOffendingPort(cut, HostileFrontend.Backing.MEMFD);
    }

    @ParameterizedTest
    @EnumSource(Cut.class)
    void unlinkedFileCutShortBreaksOnlyItsPort(Cut cut) throws Exception {
        shrinkBreaksOnlyTheOffendingPort(cut, HostileFrontend.Backing.UNLINKED_FILE);
    }

    private void shrinkBreaksOnlyTheOffendingPort(Cut cut, HostileFrontend.Backing backing) throws Exception {
        try (Harness h = new Harness(dir, new Switch("sw", FabricSettings.defaults().withRuntimeDir(dir)));
                VhostUserPort bad = VhostUserPort.listen("bad", dir.resolve("bad.sock"), h.fabric.portSettings(PortOptions.DEFAULTS))) {
            Client b = h.port("b");
            Client c = h.port("c");
            h.fabric.attach(PortDefinition.of("bad", PortOptions.DEFAULTS), bad);
            exchange(b, c, 1);
            try (HostileFrontend fe = new HostileFrontend(dir, bad.socketPath(), backing, cut == Cut.RINGS ? TX_RING_HIGH : TX_RING_LOW)) {
                fe.setUp();
                await(() -> bad.device() != null, "the hostile port runs");
                // Cut first: a worker still looking for work (notification mode looks again before it sleeps) would
                // take a buffer posted before the cut while it is still there.
                fe.cut(MIB);
                switch (cut) {
                    case TX_BUFFER -> fe.postTx(HIGH_BUFFER, HDR + 60, 0);
                    case INDIRECT_TABLE -> fe.postTx(HIGH_BUFFER, 16, Descriptor.F_INDIRECT);
                    case RINGS -> { }
                    case RX_BUFFER -> fe.postRx(HIGH_BUFFER, 2048);
                }
                fe.kickTx();
                if (cut == Cut.RX_BUFFER) {
                    // A broadcast from b floods to c and into bad's cut-off receive buffer: c must still get it, and
                    // at once (the fault can surface in the call that wakes c; losing that call left c asleep).
                    byte[] f = Frames.frame(MacAddress.BROADCAST, SwitchTest.B, 7, 60);
                    b.send(f);
                    assertArrayEquals(f, c.receive(java.time.Duration.ofSeconds(2)), "c got the flood within 2 s");
                }
                await(() -> bad.lastCloseReason() != null, "the hostile port's connection ends");
                assertTrue(bad.lastCloseReason().startsWith("guest memory fault: memory region gpa=0x0 size=0x200000: its"
                        + " file was cut to 0x100000 bytes"), bad.lastCloseReason());
            }
            // The bystanders go on. A faulting load does not stop the thread at once (HotSpot raises the SIGBUS as
            // an asynchronous InternalError at its next VM transition), so the frame the worker was taking from the
            // faulting port when it faulted may still arrive, with undefined content; nothing else differs.
            int strays = skipStrays(b) + skipStrays(c);
            assertTrue(strays <= 1, strays + " frames of undefined content reached the bystanders");
            exchange(b, c, 50);
            // The port accepts the next front-end, which forwards.
            try (Client again = Client.connect("bad", bad.socketPath())) {
                await(() -> bad.device() != null, "the port runs again");
                byte[] f = Frames.frame(SwitchTest.B, SwitchTest.X, 9, 60);
                again.send(f);
                assertArrayEquals(f, b.expect());
            }
        }
    }

    /** Truncated to 0 right after SET_MEM_TABLE: the rings never start, the connection ends, the port serves on. */
    @Test
    void memoryCutToZeroBeforeTheRingsStartEndsOnlyThatConnection() throws Exception {
        try (Harness h = new Harness(dir, new Switch("sw", FabricSettings.defaults().withRuntimeDir(dir)));
                VhostUserPort bad = VhostUserPort.listen("bad", dir.resolve("bad.sock"), h.fabric.portSettings(PortOptions.DEFAULTS))) {
            Client b = h.port("b");
            Client c = h.port("c");
            h.fabric.attach(PortDefinition.of("bad", PortOptions.DEFAULTS), bad);
            try (HostileFrontend fe = new HostileFrontend(dir, bad.socketPath(), HostileFrontend.Backing.MEMFD, TX_RING_LOW)) {
                fe.sendMemTable();
                fe.sync(); // the back-end has mapped the region
                fe.cut(0);
                try {
                    fe.setUpRings();
                } catch (IOException e) {
                    // vnet hung up on us mid-setup: fine
                }
                await(() -> bad.lastCloseReason() != null, "the hostile port's connection ends");
                assertTrue(bad.lastCloseReason().startsWith("guest memory fault: memory region gpa=0x0 size=0x200000: its"
                        + " file was cut to 0x0 bytes"), bad.lastCloseReason());
            }
            exchange(b, c, 20);
            try (Client again = Client.connect("bad", bad.socketPath())) {
                await(() -> bad.device() != null, "the port runs again");
                byte[] f = Frames.frame(SwitchTest.C, SwitchTest.X, 3, 60);
                again.send(f);
                assertArrayEquals(f, c.expect());
            }
        }
    }

    /** A ring the driver breaks (a buffer outside its memory): one log line, a counter, its error eventfd signalled. */
    @Test
    void brokenRingIsCountedAndSignalledOnItsErrorEventfd() throws Exception {
        try (Harness h = new Harness(dir, new Switch("sw", FabricSettings.defaults().withRuntimeDir(dir)));
                VhostUserPort bad = VhostUserPort.listen("bad", dir.resolve("bad.sock"), h.fabric.portSettings(PortOptions.DEFAULTS));
                EventFd err = EventFd.create()) {
            Client b = h.port("b");
            Client c = h.port("c");
            h.fabric.attach(PortDefinition.of("bad", PortOptions.DEFAULTS), bad);
            try (HostileFrontend fe = new HostileFrontend(dir, bad.socketPath(), HostileFrontend.Backing.MEMFD, TX_RING_LOW)) {
                fe.setUp();
                fe.send(VhostUserRequest.SET_VRING_ERR, HostileFrontend.le(8).putLong(1), err.fd().fd());
                fe.sync();
                await(() -> bad.device() != null, "the port runs");
                fe.postTx(64 * MIB, HDR + 60, 0); // far outside the 2 MiB the driver registered
                fe.kickTx();
                await(() -> bad.backend().brokenQueues() == 1, "the ring is counted broken");
                assertEquals(1, err.drain(), "the front-end's error eventfd was signalled once");
                exchange(b, c, 5); // the rest of the switch goes on
            }
        }
    }

    /** A memfd that allows sealing gets F_SEAL_SHRINK on registration: the front-end can no longer cut it. */
    @Test
    void sealableMemfdCannotBeCutAfterRegistration() throws Exception {
        try (VhostUserPort port = VhostUserPort.listen("p", dir.resolve("p.sock"), vnet.transport.shm.PortSettings.defaults());
                HostileFrontend fe = new HostileFrontend(dir, port.socketPath(), HostileFrontend.Backing.MEMFD, TX_RING_LOW, Memfd.MFD_CLOEXEC | Memfd.MFD_ALLOW_SEALING)) {
            fe.setUp();
            await(() -> port.device() != null, "the port runs");
            IOException refused = assertThrows(IOException.class, () -> fe.cut(MIB));
            assertTrue(refused.getMessage() != null, "ftruncate refused");
            assertEquals(null, port.lastCloseReason());
        }
    }

    /** Frames not from the other bystander that are still queued for {@code client}. */
    private static int skipStrays(Client client) throws IOException {
        int n = 0;
        byte[] f;
        while ((f = client.receive(java.time.Duration.ofMillis(300))) != null) {
            System.err.println("stray frame of " + f.length + " bytes: " + Frames.hex(java.util.Arrays.copyOf(f, 16)));
            n++;
        }
        return n;
    }

    private static void exchange(Client b, Client c, int rounds) throws IOException {
        for (int i = 0; i < rounds; i++) {
            byte[] toC = Frames.frame(SwitchTest.C, SwitchTest.B, i, 60 + i);
            b.send(toC);
            assertArrayEquals(toC, c.expect());
            byte[] toB = Frames.frame(SwitchTest.B, SwitchTest.C, i, 61 + i);
            c.send(toB);
            assertArrayEquals(toB, b.expect());
        }
    }

    private interface Condition {
        boolean holds();
    }

    private static void await(Condition c, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(5);
        }
    }

}
