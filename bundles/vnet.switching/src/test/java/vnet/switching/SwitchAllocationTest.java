package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The switch's worker thread allocates nothing per frame: flooding, learned unicast, 802.1Q tag insert and strip, a
 * monitor copy and a pcap capture, measured with the JVM's per-thread allocation counter.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SwitchAllocationTest {
    @TempDir
    Path dir;

    @Test
    void theDataPathAllocatesNothingPerFrame() throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Harness h = new Harness(dir, new Switch("alloc", FabricSettings.defaults().withRuntimeDir(dir)))) {
            Client a = h.port("a", "mac=02:00:00:00:00:0a", "access:10", false);
            Client b = h.port("b", "", "access:10", false);
            Client t = h.port("t", "", "trunk:10", false);
            Client mon = h.port("mon", "", "", true);
            h.fabric.startCapture("b", dir.resolve("b.pcap"));
            Thread worker = Thread.getAllStackTraces().keySet().stream()
                    .filter(th -> th.getName().equals("vnet-worker-alloc")).findFirst().orElseThrow();
            byte[] flood = Frames.frame(SwitchTest.BCAST, SwitchTest.A, 1, 300);
            byte[] toA = Frames.tagged(SwitchTest.A, SwitchTest.B, 10, 2, 400);
            long framesPerRound = 0;
            for (int round = 0; round < 3; round++) {
                long before = threads.getThreadAllocatedBytes(worker.getId());
                assertTrue(before > 0, "the worker's allocation counter works: " + before);
                long frames = 0;
                for (int i = 0; i < 2000; i++) {
                    a.send(flood);
                    b.expect();
                    t.expect();
                    mon.expect();
                    t.send(toA);
                    assertEquals(396, a.expect().length);
                    mon.expect();
                    frames += 2;
                }
                long allocated = threads.getThreadAllocatedBytes(worker.getId()) - before;
                framesPerRound = frames;
                System.out.printf("round %d: the worker allocated %d bytes for %d frames%n", round, allocated, frames);
                if (round == 2) {
                    assertTrue(allocated < 2048, allocated + " bytes allocated by the worker for " + frames + " frames");
                }
            }
            assertTrue(h.fabric.stats("a").txFrames() >= 3 * framesPerRound / 2);
        }
    }
}
