package vnet.transport.shm.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import vnet.transport.shm.PortSettings;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;

/**
 * The Java front-end against vnet's own back-end, in one JVM: a {@link VhostUserPort} and a test-only
 * {@link LoopbackDataPath} that returns every transmitted frame to the same port. Frames must come back byte for byte,
 * over split and packed rings, with 10- and 12-byte headers, with and without EVENT_IDX, indirect descriptors and
 * mergeable receive buffers, in both socket modes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VhostUserFrontendLoopbackTest {
    private static final long V1 = Features.VERSION_1;
    private static final long MRG = Features.MRG_RXBUF;
    private static final long EVENT_IDX = Features.RING_EVENT_IDX;
    private static final long INDIRECT = Features.RING_INDIRECT_DESC;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ALWAYS)
    Path dir;

    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of("split v1 mrg event-idx indirect", V1 | MRG | EVENT_IDX | INDIRECT, false, 256, 12),
                Arguments.of("packed v1 mrg event-idx indirect", V1 | MRG | EVENT_IDX | INDIRECT, true, 256, 12),
                Arguments.of("split v1 (no mrg: VERSION_1 alone gives 12 bytes)", V1 | EVENT_IDX, false, 64, 12),
                Arguments.of("packed v1 no event-idx", V1 | INDIRECT, true, 32, 12),
                Arguments.of("split v1 no event-idx, queue of 8", V1 | MRG, false, 8, 12),
                Arguments.of("packed v1 mrg, queue of 16", V1 | MRG | EVENT_IDX, true, 16, 12),
                Arguments.of("split legacy 10-byte header, indirect", EVENT_IDX | INDIRECT, false, 64, 10),
                Arguments.of("split legacy 10-byte header, direct", 0L, false, 32, 10),
                Arguments.of("split legacy mrg (12 bytes without VERSION_1)", MRG | EVENT_IDX, false, 64, 12));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void framesComeBackByteIdentical(String name, long features, boolean packed, int queueSize, int header)
            throws Exception {
        Path sock = dir.resolve("p.sock");
        try (VhostUserPort port = VhostUserPort.listen("p", sock, PortSettings.defaults());
                LoopbackDataPath loop = new LoopbackDataPath(port);
                VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults()
                        .withFeatures(features | Features.ANY_LAYOUT).withPacked(packed).withQueueSize(queueSize))) {
            assertEquals(header, fe.headerSize());
            assertEquals(packed, fe.isPacked());
            assertEquals(features | VhostUserProtocol.F_PROTOCOL_FEATURES | (packed ? Features.RING_PACKED : 0), fe.features(),
                    () -> Features.toString(fe.features())); // ANY_LAYOUT is not offered by vnet
            assertTrue((fe.protocolFeatures() & (1L << VhostUserProtocol.PROTOCOL_F_REPLY_ACK)) != 0);
            boolean mrg = (features & MRG) != 0;
            int max = mrg ? 4000 : 2048 - header; // without MRG_RXBUF a frame must fit one 2048-byte buffer
            long t0 = System.nanoTime();
            // One at a time, then many in flight (rings wrap many times). A sender that does not receive meanwhile
            // must leave room: a 4000-byte frame takes 2 receive buffers, and 3 transmit descriptors when direct.
            TestFrames.exchange(fe, 200, 1, seq -> 60 + seq * 7 % (max - 59), f -> f);
            TestFrames.exchange(fe, 3000, queueSize / 4, seq -> seq % 5 == 0 ? max : 60 + seq * 13 % (max - 59), f -> f);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("%s: 3200 frames back in %d ms; tx kicks %d, rx kicks %d, worker rounds %d, dropped %d%n",
                    name, ms, fe.txKicks(), fe.rxKicks(), loop.rounds(), loop.dropped());
            assertEquals(3200, fe.framesReceived());
            assertEquals(0, fe.rxDropped());
            assertEquals(0, loop.dropped());
            assertEquals(3200, loop.looped());
            if ((features & EVENT_IDX) != 0) {
                assertTrue(fe.txKicks() <= fe.framesSent());
            }
        }
    }

    @Test
    void frontendListensAndVnetConnects() throws Exception {
        Path sock = dir.resolve("fe.sock");
        try (VhostUserPort port = VhostUserPort.connect("c", sock, PortSettings.defaults(), Duration.ofMillis(20));
                LoopbackDataPath loop = new LoopbackDataPath(port);
                VhostUserFrontend fe = VhostUserFrontend.listen(sock, VhostUserFrontend.Options.defaults().withPacked(true))) {
            assertEquals(VhostUserPort.Mode.CLIENT, port.mode());
            TestFrames.exchange(fe, 500, 32, seq -> 64 + seq % 1400, f -> f);
        }
    }

    @Test
    void portServesTheNextFrontendAfterOneLeaves() throws Exception {
        Path sock = dir.resolve("r.sock");
        try (VhostUserPort port = VhostUserPort.listen("r", sock, PortSettings.defaults());
                LoopbackDataPath loop = new LoopbackDataPath(port)) {
            for (int i = 0; i < 5; i++) {
                boolean packed = i % 2 == 1;
                try (VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults().withPacked(packed))) {
                    TestFrames.exchange(fe, 100, 16, seq -> 60 + seq, f -> f);
                }
                awaitDisconnected(port);
                assertEquals(i + 1, port.connections());
            }
            assertEquals(500, loop.looped());
        }
    }

    @Test
    void multiQueuePortReportsItsPairsAndServesTheFirst() throws Exception {
        Path sock = dir.resolve("mq.sock");
        try (VhostUserPort port = VhostUserPort.listen("mq", sock, PortSettings.defaults().withMaxQueuePairs(4));
                LoopbackDataPath loop = new LoopbackDataPath(port);
                VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults())) {
            assertEquals(4, fe.backendQueuePairs(), "GET_QUEUE_NUM");
            assertTrue((fe.protocolFeatures() & (1L << VhostUserProtocol.PROTOCOL_F_MQ)) != 0);
            assertEquals(0, fe.features() & Features.MQ, "virtio MQ needs CTRL_VQ, which vnet does not offer");
            TestFrames.exchange(fe, 100, 8, seq -> 60 + seq, f -> f);
            assertEquals(1, port.device().pairs().size());
        }
    }

    @Test
    void receiveSleepsInsteadOfSpinning() throws Exception {
        Path sock = dir.resolve("s.sock");
        try (VhostUserPort port = VhostUserPort.listen("s", sock, PortSettings.defaults());
                LoopbackDataPath loop = new LoopbackDataPath(port);
                VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults())) {
            TestFrames.exchange(fe, 10, 1, seq -> 100, f -> f);
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long rounds = loop.rounds();
            long cpu0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            assertFalse(fe.receive(new FrameBuffer(), Duration.ofMillis(700)), "nothing was sent");
            long wall = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long cpu = TimeUnit.NANOSECONDS.toMillis(threads.getCurrentThreadCpuTime() - cpu0);
            System.out.printf("receive timed out after %d ms using %d ms of CPU; worker rounds meanwhile: %d%n",
                    wall, cpu, loop.rounds() - rounds);
            assertTrue(wall >= 690, "waited the timeout: " + wall);
            assertTrue(cpu < 100, "slept rather than spun: " + cpu + " ms CPU");
            assertTrue(loop.rounds() - rounds < 5, "the worker slept too");
        }
    }

    @Test
    void closeWakesABlockedReceiverAndFreesEverything() throws Exception {
        Path sock = dir.resolve("w.sock");
        try (VhostUserPort port = VhostUserPort.listen("w", sock, PortSettings.defaults());
                LoopbackDataPath loop = new LoopbackDataPath(port)) {
            VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults());
            long fds = openFds();
            Thread closer = new Thread(() -> {
                sleep(300);
                fe.close();
            });
            closer.start();
            long t0 = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> fe.receive(new FrameBuffer(), Duration.ofSeconds(20)));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "woken by close");
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            closer.join();
            awaitDisconnected(port);
            assertTrue(openFds() <= fds - 6, "socket, memory, 4 eventfds, wake, 2 epolls closed: " + fds + " -> " + openFds());
            assertThrows(IOException.class, () -> fe.send(new byte[60], 0, 60));
            fe.close(); // idempotent
        }
    }

    @Test
    void backendGoingAwayEndsReceive() throws Exception {
        Path sock = dir.resolve("g.sock");
        VhostUserPort port = VhostUserPort.listen("g", sock, PortSettings.defaults());
        try (LoopbackDataPath loop = new LoopbackDataPath(port);
                VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults())) {
            TestFrames.exchange(fe, 10, 4, seq -> 80, f -> f);
            port.close();
            IOException e = assertThrows(IOException.class, () -> fe.receive(new FrameBuffer(), Duration.ofSeconds(20)));
            assertTrue(e.getMessage().contains("closed the connection"), e.getMessage());
            assertFalse(fe.isConnected());
        } finally {
            port.close();
        }
    }

    @Test
    void frontendRefusesABackendWithoutRequiredFeatures() throws Exception {
        Path sock = dir.resolve("f.sock");
        try (VhostUserPort port = VhostUserPort.listen("f", sock,
                PortSettings.defaults().withFeatures(PortSettings.DEFAULT_FEATURES & ~Features.RING_PACKED))) {
            IOException e = assertThrows(IOException.class, () -> VhostUserFrontend.connect(sock,
                    VhostUserFrontend.Options.defaults().withPacked(true)).close());
            assertTrue(e.getMessage().contains("RING_PACKED"), e.getMessage());
        }
    }

    static void awaitDisconnected(VhostUserPort port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (port.isConnected() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertFalse(port.isConnected(), "the port saw the front-end leave");
    }

    private static long openFds() throws IOException {
        try (Stream<Path> s = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
