package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.FrameBuffer;

/**
 * A benchmark, not a test (its name matches none of Surefire's patterns, so {@code verify} and {@code .ci/run} skip
 * it): the round trip of one 64-byte frame through a p2p link, front-end a to b and b's echo back to a, both
 * front-ends busy-polling their receive rings on one Java thread, the link in busy-poll mode and in poll mode
 * ({@code -p 1}). Prints p50, p99 and p99.9 in microseconds. Run it by name:
 *
 * <pre>
 * ./mvnw -B -o -q -pl bundles/vnet.switching -am verify -Dtest=P2pLatencyBenchmark -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@Tag("benchmark")
class P2pLatencyBenchmark {
    private static final int WARMUP = 20_000;
    private static final int MEASURED = 100_000;

    @TempDir
    Path dir;

    @Test
    void roundTripOf64ByteFrames() throws Exception {
        run("busy-poll", FabricSettings.defaults().withBusyPoll(true));
        run("poll -p 1", FabricSettings.defaults().withPollMicros(1));
    }

    private void run(String mode, FabricSettings settings) throws Exception {
        Path d = dir.resolve(mode.replace(' ', '_'));
        VhostUserFrontend.Options opts = VhostUserFrontend.Options.defaults().withQueueSize(256)
                .withTimeout(Duration.ofSeconds(10));
        try (Harness h = new Harness(d, new P2pLink("lat", settings))) {
            java.nio.file.Files.createDirectories(d);
            Client a = h.port(PortDefinition.of("a", PortOptions.DEFAULTS), s -> s, opts);
            Client b = h.port(PortDefinition.of("b", PortOptions.DEFAULTS), s -> s, opts);
            byte[] frame = Frames.frame(0x02_00_00_00_00_0bL, 0x02_00_00_00_00_0aL, 1, 64);
            FrameBuffer tx = new FrameBuffer();
            FrameBuffer rx = new FrameBuffer();
            tx.set(frame, 0, frame.length);
            long[] ns = new long[MEASURED];
            for (int i = 0; i < WARMUP + MEASURED; i++) {
                long t0 = System.nanoTime();
                a.frontend.send(tx);
                while (!b.frontend.receive(rx, Duration.ZERO)) {
                    Thread.onSpinWait();
                }
                b.frontend.send(rx);
                while (!a.frontend.receive(rx, Duration.ZERO)) {
                    Thread.onSpinWait();
                }
                long t1 = System.nanoTime();
                if (i >= WARMUP) {
                    ns[i - WARMUP] = t1 - t0;
                }
            }
            assertEquals(64, rx.length());
            Arrays.sort(ns);
            System.out.printf("p2p round trip, 64 B, %s: p50 %.1f us, p99 %.1f us, p99.9 %.1f us (%d round trips)%n",
                    mode, ns[MEASURED / 2] / 1e3, ns[MEASURED * 99 / 100] / 1e3, ns[MEASURED * 999 / 1000] / 1e3,
                    MEASURED);
        }
    }
}
