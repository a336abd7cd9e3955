package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Busy-poll mode ({@code busy.poll}): the worker never waits in epoll or sleeps, it goes round after round without
 * pause while frames flow both ways, and its ports ask drivers not to kick; notification mode, for contrast, does
 * wait. A poll interval together with busy polling is refused.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BusyPollTest {
    static final long A = 0x02_00_00_00_00_0aL;
    static final long B = 0x02_00_00_00_00_0bL;

    @TempDir
    Path dir;

    @Test
    void p2pLinkBusyPollsWithoutSleeping() throws Exception {
        FabricSettings busy = FabricSettings.defaults().withBusyPoll(true);
        try (Harness h = new Harness(dir, new P2pLink("bp", busy))) {
            exchange(h);
            assertBusy(h);
        }
    }

    @Test
    void switchBusyPollsWithoutSleeping() throws Exception {
        FabricSettings busy = FabricSettings.defaults().withBusyPoll(true);
        try (Harness h = new Harness(dir, new Switch("bs", busy, 8, 300, 1024))) {
            exchange(h);
            assertBusy(h);
        }
    }

    @Test
    void notificationModeSleepsWhenIdle() throws Exception {
        try (Harness h = new Harness(dir, new P2pLink("nm", FabricSettings.defaults()))) {
            exchange(h);
            assertFalse(h.fabric.portSettings(PortOptions.DEFAULTS).pollMode(), "drivers kick in notification mode");
            Thread.sleep(5); // past the look-again time after the last frame
            long sleeps = h.fabric.worker(0).sleeps();
            long rounds = h.fabric.worker(0).rounds();
            Thread.sleep(300);
            assertTrue(h.fabric.worker(0).sleeps() > sleeps, "an idle worker waits in epoll");
            assertTrue(h.fabric.worker(0).rounds() - rounds < 100, "an idle worker does not spin: "
                    + (h.fabric.worker(0).rounds() - rounds) + " rounds in 300 ms");
        }
    }

    /**
     * Notification mode looks again for a while after a frame before it sleeps (ForwardingWorker.SPIN_BEFORE_SLEEP_NANOS):
     * under load the next burst comes sooner than a wake-up would. Without that a frame costs about two rounds (the
     * one that moves it and one that finds nothing); with it, tens.
     */
    @Test
    void notificationModeLooksAgainBeforeSleeping() throws Exception {
        try (Harness h = new Harness(dir, new P2pLink("la", FabricSettings.defaults()))) {
            Client a = h.port("a");
            Client b = h.port("b");
            ForwardingWorker w = h.fabric.worker(0);
            long rounds = 0;
            long sleeps = w.sleeps();
            int frames = 20;
            for (int i = 0; i < frames; i++) {
                Thread.sleep(5); // asleep in epoll again
                long before = w.rounds();
                byte[] f = Frames.frame(B, A, i, 60);
                a.send(f);
                assertArrayEquals(f, b.expect());
                Thread.sleep(5);
                rounds += w.rounds() - before;
            }
            long slept = w.sleeps() - sleeps;
            assertTrue(rounds > 5L * frames, rounds + " rounds and " + slept + " sleeps for " + frames
                    + " frames: the worker slept at once");
        }
    }

    @Test
    void busyPollExcludesAPollInterval() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FabricSettings(200, 256, Set.of(), FabricSettings.DEFAULT_RUNTIME_DIR, true));
        assertEquals("busy.poll=true and poll=200 exclude each other: busy polling has no interval", e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> FabricSettings.defaults().withPollMicros(50).withBusyPoll(true));
        assertEquals("busy.poll=true and poll=50 exclude each other: busy polling has no interval", e2.getMessage());
    }

    /** Two front-ends, frames both ways, every one arriving intact. */
    private static void exchange(Harness h) throws Exception {
        Client a = h.port(PortDefinition.of("a", PortOptions.parse("mac=02:00:00:00:00:0a")), s -> s,
                vnet.transport.shm.vhost.VhostUserFrontend.Options.defaults().withQueueSize(64));
        Client b = h.port(PortDefinition.of("b", PortOptions.parse("mac=02:00:00:00:00:0b")), s -> s,
                vnet.transport.shm.vhost.VhostUserFrontend.Options.defaults().withQueueSize(64));
        for (int i = 0; i < 200; i++) {
            byte[] ab = Frames.frame(B, A, i, 60 + i * 7);
            a.send(ab);
            byte[] got;
            try {
                got = b.expect();
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; a: " + h.fabric.stats("a") + ", b: " + h.fabric.stats("b")
                        + ", rounds " + h.fabric.worker(0).rounds() + ", a running " + h.fabric.port("a") , e);
            }
            assertArrayEquals(ab, got);
            byte[] ba = Frames.frame(A, B, i, 1514 - i * 5);
            b.send(ba);
            assertArrayEquals(ba, a.expect());
        }
        assertEquals(200, h.fabric.stats("a").txFrames());
        assertEquals(200, h.fabric.stats("b").txFrames());
        assertEquals(0, h.fabric.stats("a").drops() + h.fabric.stats("b").drops());
    }

    private static void assertBusy(Harness h) throws InterruptedException {
        assertTrue(h.fabric.portSettings(PortOptions.DEFAULTS).pollMode(), "drivers are asked not to kick");
        assertTrue(h.fabric.busyPoll());
        assertEquals(0, h.fabric.worker(0).sleeps(), "the worker never waited in epoll");
        long rounds = h.fabric.worker(0).rounds();
        Thread.sleep(300);
        long spun = h.fabric.worker(0).rounds() - rounds;
        assertTrue(spun > 1000, "an idle busy-polling worker keeps going round: " + spun + " rounds in 300 ms");
        assertEquals(0, h.fabric.worker(0).sleeps(), "the worker never waited in epoll");
    }
}
