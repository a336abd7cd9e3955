package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import vnet.linux.Sched;
import vnet.transport.shm.vhost.VhostUserFrontend;

/**
 * A link or switch on several workers ({@code workers=N}): the switch spreads 8 front-ends over 4 workers and every
 * front-end sends to every other at once, in bursts that fill the rings to a point where they still have room:
 * nothing is lost, every flow (source, destination) arrives in order and intact, and frames crossed between workers
 * through the hand-off rings. A p2p link runs one worker per direction. Workers can be pinned ({@code cpus=}).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MultiWorkerTest {
    private static final int CLIENTS = 8;
    /** Rounds sent before receiving: each client gets 7 frames per round, under its 64 receive buffers. */
    private static final int ROUNDS_PER_BURST = 8;

    @TempDir
    Path dir;

    @Test
    void eightFrontEndsOnFourWorkersLoseNothingAndKeepEachFlowInOrder() throws Exception {
        FabricSettings settings = FabricSettings.defaults().withRuntimeDir(dir).withWorkers(4);
        try (Harness h = new Harness(dir, new Switch("mw", settings))) {
            assertEquals(4, h.fabric.workers());
            Client[] c = new Client[CLIENTS];
            long[] mac = new long[CLIENTS];
            for (int i = 0; i < CLIENTS; i++) {
                mac[i] = 0x02_00_00_00_01_00L + i;
                c[i] = h.port(PortDefinition.of("p" + i, PortOptions.DEFAULTS), s -> s,
                        VhostUserFrontend.Options.defaults().withQueueSize(64));
            }
            int[] perWorker = new int[4];
            for (int w = 0; w < 4; w++) {
                for (PortState p : h.fabric.worker(w).forwarder().slots) {
                    if (p != null && p.txWorker == w) {
                        assertEquals(w, p.rxWorker, "a switch port has both sides on one worker");
                        perWorker[w]++;
                    }
                }
            }
            assertArrayEquals(new int[] {2, 2, 2, 2}, perWorker, "ports spread evenly: " + Arrays.toString(perWorker));

            // Every station says hello once (a broadcast each other one receives), so that every replica learns it.
            for (int i = 0; i < CLIENTS; i++) {
                c[i].send(Frames.frame(SwitchTest.BCAST, mac[i], 0, 60));
                for (int j = 0; j < CLIENTS; j++) {
                    if (j != i) {
                        assertEquals(mac[i], Frames.mac(c[j].expect(), 6));
                    }
                }
            }

            int[][] next = new int[CLIENTS][CLIENTS]; // next[dst][src]: the mark dst expects from src
            for (int[] row : next) {
                Arrays.fill(row, 1);
            }
            int mark = 1;
            int frames = 0;
            for (int burst = 0; burst < 60; burst++) {
                for (int r = 0; r < ROUNDS_PER_BURST; r++, mark++) {
                    for (int i = 0; i < CLIENTS; i++) {
                        for (int j = 0; j < CLIENTS; j++) {
                            if (j != i) {
                                c[i].send(Frames.frame(mac[j], mac[i], mark, length(i, j, mark)));
                                frames++;
                            }
                        }
                    }
                }
                for (int j = 0; j < CLIENTS; j++) {
                    for (int k = 0; k < ROUNDS_PER_BURST * (CLIENTS - 1); k++) {
                        byte[] f = c[j].expect();
                        assertEquals(mac[j], Frames.mac(f, 0), "a frame for another station reached p" + j);
                        int src = (int) (Frames.mac(f, 6) - 0x02_00_00_00_01_00L);
                        int m = Frames.mark(f);
                        assertEquals(next[j][src], m, "flow p" + src + " -> p" + j + " out of order");
                        assertArrayEquals(Frames.frame(mac[j], mac[src], m, length(src, j, m)), f,
                                "flow p" + src + " -> p" + j + " frame " + m + " damaged");
                        next[j][src] = m + 1;
                    }
                }
            }
            long crossed = 0;
            for (int i = 0; i < CLIENTS; i++) {
                PortStats s = h.fabric.stats("p" + i);
                assertEquals(0, s.drops(), "p" + i + ": " + s);
                assertEquals(frames / CLIENTS + 1, s.txFrames(), "p" + i + ": " + s);
                c[i].expectNothing(50);
            }
            for (int w = 0; w < 4; w++) {
                crossed += h.fabric.worker(w).rounds();
            }
            assertTrue(crossed > 0);
            assertTrue(h.fabric.macTable().size() == CLIENTS, "every address learned once: " + h.fabric.macTable());
        }
    }

    /** Lengths 60..1514, different per flow and frame, so that copies of different sizes interleave. */
    private static int length(int src, int dst, int mark) {
        return 60 + (src * 131 + dst * 71 + mark * 37) % (1514 - 60);
    }

    @Test
    void aP2pLinkRunsOneWorkerPerDirection() throws Exception {
        FabricSettings settings = FabricSettings.defaults().withRuntimeDir(dir).withWorkers(2);
        try (Harness h = new Harness(dir, new P2pLink("md", settings))) {
            Client a = h.port("a");
            Client b = h.port("b");
            PortState pa = h.fabric.worker(0).forwarder().slots[0];
            PortState pb = h.fabric.worker(0).forwarder().slots[1];
            assertEquals(List.of(0, 1, 1, 0), List.of(pa.txWorker, pa.rxWorker, pb.txWorker, pb.rxWorker));
            long[] rounds = {h.fabric.worker(0).rounds(), h.fabric.worker(1).rounds()};
            int sent = 0;
            for (int burst = 0; burst < 200; burst++) {
                for (int k = 0; k < 32; k++) {
                    a.send(Frames.frame(SwitchTest.B, SwitchTest.A, sent + k, 60 + (sent + k) % 1400));
                    b.send(Frames.frame(SwitchTest.A, SwitchTest.B, sent + k, 1514 - (sent + k) % 1400));
                }
                for (int k = 0; k < 32; k++) {
                    assertArrayEquals(Frames.frame(SwitchTest.B, SwitchTest.A, sent + k, 60 + (sent + k) % 1400),
                            b.expect(), "a -> b frame " + (sent + k));
                    assertArrayEquals(Frames.frame(SwitchTest.A, SwitchTest.B, sent + k, 1514 - (sent + k) % 1400),
                            a.expect(), "b -> a frame " + (sent + k));
                }
                sent += 32;
            }
            assertEquals(0, h.fabric.stats("a").drops() + h.fabric.stats("b").drops());
            assertEquals(sent, h.fabric.stats("a").txFrames());
            assertEquals(sent, h.fabric.stats("b").rxFrames());
            assertTrue(h.fabric.worker(0).rounds() > rounds[0] && h.fabric.worker(1).rounds() > rounds[1],
                    "both workers went round");
        }
    }

    @Test
    void workersArePinnedToTheirCpus() throws Exception {
        int[] allowed = Sched.threadAffinity();
        int cpu = allowed[allowed.length - 1];
        FabricSettings settings = FabricSettings.defaults().withRuntimeDir(dir).withWorkers(2).withCpus(List.of(cpu));
        try (Switch s = new Switch("q", settings)) {
            for (String worker : List.of("vnet-worker-q-0", "vnet-worker-q-1")) {
                assertEquals(String.valueOf(cpu), cpusAllowed(worker), worker + " pinned to CPU " + cpu);
            }
        }
    }

    /** {@code Cpus_allowed_list} of this process's thread named {@code comm}, waiting for it to pin itself. */
    private static String cpusAllowed(String comm) throws Exception {
        String last = "no thread " + comm;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < end) {
            try (var tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path t : (Iterable<Path>) tasks::iterator) {
                    try {
                        if (Files.readString(t.resolve("comm")).trim().equals(comm)) {
                            for (String line : Files.readAllLines(t.resolve("status"))) {
                                if (line.startsWith("Cpus_allowed_list:")) {
                                    last = line.substring(line.indexOf(':') + 1).trim();
                                }
                            }
                        }
                    } catch (java.io.IOException gone) {
                        // a thread that ended meanwhile
                    }
                }
            }
            if (!last.contains(",") && !last.contains("-") && !last.startsWith("no thread")) {
                return last;
            }
            Thread.sleep(10);
        }
        return last;
    }

    @Test
    void badWorkerSettingsAreRefusedWithTheirName() {
        List<String> messages = new ArrayList<>();
        messages.add(assertThrows(IllegalArgumentException.class,
                () -> FabricSettings.defaults().withWorkers(0)).getMessage());
        messages.add(assertThrows(IllegalArgumentException.class,
                () -> FabricSettings.defaults().withWorkers(FabricSettings.MAX_WORKERS + 1)).getMessage());
        messages.add(assertThrows(IllegalArgumentException.class,
                () -> FabricSettings.parseCpus("1,x")).getMessage());
        messages.add(assertThrows(IllegalArgumentException.class,
                () -> FabricSettings.parseCpus("3-1")).getMessage());
        messages.add(assertThrows(IllegalArgumentException.class,
                () -> new P2pLink("p3", FabricSettings.defaults().withWorkers(3))).getMessage());
        assertEquals(List.of("workers=0 is out of range 1.." + FabricSettings.MAX_WORKERS,
                "workers=" + (FabricSettings.MAX_WORKERS + 1) + " is out of range 1.." + FabricSettings.MAX_WORKERS,
                "cpus=1,x is not a CPU list (e.g. 0-3,6)", "cpus=3-1 is not a CPU list (e.g. 0-3,6)",
                "workers=3 is more than a p2p link uses: it has two directions, give 1 or 2"), messages);
        assertEquals(List.of(0, 1, 2, 3, 6), FabricSettings.parseCpus("0-3, 6"));
    }
}
