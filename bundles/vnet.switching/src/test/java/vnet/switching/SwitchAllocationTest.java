package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The switch's worker threads allocate nothing per frame: flooding, learned unicast, 802.1Q tag insert and strip, a
 * monitor copy and a pcap capture, measured with the JVM's per-thread allocation counter; with one worker, and with
 * two, where half the frames cross between them through the hand-off rings.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SwitchAllocationTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "workers={0}")
    @ValueSource(ints = {1, 2})
    void theDataPathAllocatesNothingPerFrame(int workers) throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        FabricSettings settings = FabricSettings.defaults().withRuntimeDir(dir).withWorkers(workers);
        try (Harness h = new Harness(dir, new Switch("alloc", settings))) {
            Client a = h.port("a", "mac=02:00:00:00:00:0a", "access:10", false);
            Client b = h.port("b", "", "access:10", false);
            Client t = h.port("t", "", "trunk:10", false);
            Client mon = h.port("mon", "", "", true);
            h.fabric.startCapture("b", dir.resolve("b.pcap"));
            long[] ids = Thread.getAllStackTraces().keySet().stream()
                    .filter(th -> th.getName().startsWith("vnet-worker-alloc")).mapToLong(Thread::getId).toArray();
            assertEquals(workers, ids.length);
            byte[] flood = Frames.frame(SwitchTest.BCAST, SwitchTest.A, 1, 300);
            byte[] toA = Frames.tagged(SwitchTest.A, SwitchTest.B, 10, 2, 400);
            long framesPerRound = 0;
            for (int round = 0; round < 3; round++) {
                long before = allocated(threads, ids);
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
                long allocated = allocated(threads, ids) - before;
                framesPerRound = frames;
                System.out.printf("workers=%d, round %d: the workers allocated %d bytes for %d frames%n", workers, round,
                        allocated, frames);
                if (round == 2) {
                    assertTrue(allocated < 2048, allocated + " bytes allocated by the worker for " + frames + " frames");
                }
            }
            assertTrue(h.fabric.stats("a").txFrames() >= 3 * framesPerRound / 2);
        }
    }

    private static long allocated(com.sun.management.ThreadMXBean threads, long[] ids) {
        long sum = 0;
        for (long id : ids) {
            sum += threads.getThreadAllocatedBytes(id);
        }
        return sum;
    }
}
