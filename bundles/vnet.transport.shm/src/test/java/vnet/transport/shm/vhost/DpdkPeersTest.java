package vnet.transport.shm.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import vnet.transport.shm.PortSettings;
import vnet.testing.Dpdk;
import vnet.testing.WorkDir;
import vnet.virtio.net.Features;

/**
 * vnet's vhost-user code against DPDK 22.11's {@code dpdk-testpmd}, both ways round: testpmd's virtio driver
 * ({@code net_virtio_user}) on a vnet port, and vnet's Java front-end on testpmd's vhost back-end
 * ({@code net_vhost}). testpmd runs niced, without hugepages, bounded in time, and is stopped by PID; its sockets
 * and runtime folder are removed, also when a test fails.
 */
@Tag("real-peer")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DpdkPeersTest {
    private static final Pattern RX_PACKETS = Pattern.compile("RX-packets:\\s+(\\d+)\\s+RX-missed");
    private static final Pattern TX_PACKETS = Pattern.compile("TX-packets:\\s+(\\d+)\\s+TX-errors");

    /**
     * testpmd's port 0 counters {rx packets, tx packets} from {@code show port stats all}, asked again every 200 ms
     * (up to 10 s) until both reach {@code atLeast}.
     */
    static long[] portStats(Dpdk.Testpmd testpmd, long atLeast) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int seen = 0;
        long[] last = {-1, -1};
        while (true) {
            testpmd.command("show port stats all");
            seen++;
            while (true) {
                String log = testpmd.process().output();
                List<MatchResult> rx = RX_PACKETS.matcher(log).results().toList();
                List<MatchResult> tx = TX_PACKETS.matcher(log).results().toList();
                if (rx.size() >= seen && tx.size() >= seen) {
                    last = new long[] {Long.parseLong(rx.get(rx.size() - 1).group(1)),
                            Long.parseLong(tx.get(tx.size() - 1).group(1))};
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no port statistics from testpmd:\n" + testpmd.process().tail(30));
                }
                Thread.sleep(50);
            }
            if ((last[0] >= atLeast && last[1] >= atLeast) || System.nanoTime() > deadline) {
                return last;
            }
            Thread.sleep(200);
        }
    }

    @BeforeAll
    static void install() throws Exception {
        Dpdk.ensureInstalled();
    }

    /**
     * testpmd's virtio-user driver connects to a vnet port (vnet serves, in server mode); the test-only loopback
     * data path returns what testpmd transmits. testpmd sends a first burst ({@code start tx_first}) and then forwards
     * what it receives back to the same port, so the frames circulate: both sides count them. With hugepages, testpmd's
     * memory (the regions vnet maps) is memfds of 2 MB pages, as with DPDK deployed and QEMU guests on hugepages.
     */
    @ParameterizedTest(name = "{0}, {1}, hugepages={2}")
    @CsvSource({"io, packed_vq=0, false", "macswap, packed_vq=1, false", "io, mrg_rxbuf=0, false",
        "io, packed_vq=0, true"})
    void testpmdVirtioUserOnAVnetPort(String forwardMode, String vdevOption, boolean hugepages) throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-vu-");
                AutoCloseable pages = hugepages ? Dpdk.reserveHugepages(300) : () -> { }) {
            Path sock = dir.resolve("vnet.sock");
            // DPDK maps its memory in several segments: allow as many as the vhost-user table holds.
            try (VhostUserPort port = VhostUserPort.listen("testpmd", sock, PortSettings.defaults().withDsMax(8));
                    LoopbackDataPath loop = new LoopbackDataPath(port);
                    Dpdk.Testpmd testpmd = Dpdk.testpmd(dir.path()).name("testpmd-virtio-user").hugepages(hugepages)
                            .memoryMb(hugepages ? 512 : 1024)
                            .vdev("net_virtio_user0,mac=52:54:00:00:03:01,path=" + sock + ",queues=1," + vdevOption)
                            .forwardMode(forwardMode).appArgs("--port-topology=loop")
                            .timeLimit(Duration.ofMinutes(2)).start()) {
                // --tx-first is refused in interactive mode: restart forwarding with a first burst instead.
                testpmd.command("stop");
                testpmd.command("start tx_first");
                long t0 = System.nanoTime();
                while (loop.looped() < 1000 && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30)) {
                    Thread.sleep(20);
                }
                long started = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                // Then a one-second window, for an idea of the rate (two busy threads on two shared cores).
                long before = loop.looped();
                long t1 = System.nanoTime();
                Thread.sleep(1000);
                long window = loop.looped() - before;
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
                long looped = loop.looped();
                long[] stats = portStats(testpmd, 0);
                long rx = stats[0];
                long tx = stats[1];
                System.out.printf("testpmd virtio-user (%s, %s, hugepages=%b) on a vnet port: first 1000 frames within %d"
                                + " ms, then %.0f frames/s; vnet looped %d in all; testpmd rx %d tx %d; negotiated %s%n",
                        forwardMode, vdevOption, hugepages, started, window * 1000.0 / Math.max(1, ms), looped, rx, tx,
                        Features.toString(port.backend().features()));
                if (hugepages) { // the memory vnet maps is really hugepages, not a fallback to 4 KB pages
                    String smaps = Files.readString(Path.of("/proc/" + testpmd.pid() + "/smaps"));
                    assertTrue(smaps.contains("KernelPageSize:     2048 kB"), "testpmd maps 2 MB pages");
                }
                assertTrue(looped >= 1000, "vnet forwarded frames from testpmd: " + looped + "\n" + testpmd.process().tail(30));
                assertTrue(rx > 0 && tx > 0, "testpmd counted frames both ways: rx " + rx + " tx " + tx);
                assertEquals(0, loop.dropped());
            }
        }
    }

    /**
     * vnet's Java front-end on testpmd's vhost-user back-end; testpmd forwards each frame back out of the same port
     * ({@code --port-topology=loop}): the front-end gets every frame back, identical (io) or with the MAC addresses
     * swapped (macswap).
     */
    @ParameterizedTest(name = "{0}, packed={1}, mergeable={2}")
    @CsvSource({"io, false, true", "macswap, true, true", "io, false, false", "io, true, false"})
    void javaFrontendOnTestpmdVhost(String forwardMode, boolean packed, boolean mergeable) throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-vh-")) {
            Path sock = dir.resolve("dpdk.sock");
            long features = VhostUserFrontend.DEFAULT_FEATURES & ~(mergeable ? 0 : Features.MRG_RXBUF);
            try (Dpdk.Testpmd testpmd = Dpdk.testpmd(dir.path()).name("testpmd-vhost")
                    .vdev("net_vhost0,iface=" + sock + ",queues=1")
                    .forwardMode(forwardMode).appArgs("--port-topology=loop")
                    .timeLimit(Duration.ofMinutes(2)).start();
                    VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults()
                            .withFeatures(features).withPacked(packed))) {
                UnaryOperator<byte[]> expected = forwardMode.equals("macswap") ? TestFrames::macSwapped : f -> f;
                long t0 = System.nanoTime();
                TestFrames.exchange(fe, 200, 1, seq -> 60 + seq * 7, expected);
                TestFrames.exchange(fe, 5000, 32, seq -> 60 + seq * 13 % 1455, expected);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                // The forwarding lcore (niced) may count its last burst a little after the frames arrived.
                long[] stats = portStats(testpmd, 5200);
                System.out.printf("Java front-end on testpmd vhost (%s, %s, %s): 5200 frames back in %d ms; "
                                + "tx kicks %d, rx kicks %d; testpmd rx %d tx %d; negotiated %s, protocol features 0x%x%n",
                        forwardMode, packed ? "packed" : "split", mergeable ? "mergeable" : "no mrg", ms, fe.txKicks(),
                        fe.rxKicks(), stats[0], stats[1], Features.toString(fe.features()), fe.protocolFeatures());
                assertEquals(packed, fe.isPacked());
                assertEquals(5200, fe.framesReceived());
                assertEquals(5200, stats[0], "testpmd received");
                assertEquals(5200, stats[1], "testpmd transmitted");
            }
        }
    }
}
