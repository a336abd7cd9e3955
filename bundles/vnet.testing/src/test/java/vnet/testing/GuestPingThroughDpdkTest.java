package vnet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two real Linux guests ping each other through DPDK testpmd: two net_vhost ports forwarded to each other (io mode)
 * make a point-to-point link, and each guest's NIC is attached to one port. Proves the guest image, the QEMU
 * harness and the DPDK helper without vnet.
 */
@Tag("real-peer")
class GuestPingThroughDpdkTest {

    /** testpmd listens, QEMU connects (split rings, default features). */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void guestsPingEachOtherThroughTestpmd() throws Exception {
        pingThroughTestpmd("", QemuGuest.VhostUserNic::client);
    }

    /** QEMU listens, testpmd connects; packed rings, no mergeable buffers, no checksum offload. */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void qemuAsServerWithPackedRingsAndNoOffloads() throws Exception {
        pingThroughTestpmd(",client=1",
                sock -> QemuGuest.VhostUserNic.server(sock).packed(true).mrgRxbuf(false).csum(false));
    }

    private static void pingThroughTestpmd(String vdevOptions, Function<Path, QemuGuest.VhostUserNic> nic)
            throws Exception {
        GuestImage.get(); // build (or find) the image before the clocks below start
        try (WorkDir dir = WorkDir.create("vnet-ping-");
                QemuGuest b = QemuGuest.builder("b").workDir(dir.path())
                        .nic(nic.apply(dir.resolve("b.sock")).mac("52:54:00:00:02:02"))
                        .ip("192.0.2.2/24").waitSeconds(120).timeLimit(Duration.ofMinutes(4))
                        .start();
                QemuGuest a = QemuGuest.builder("a").workDir(dir.path())
                        .nic(nic.apply(dir.resolve("a.sock")).mac("52:54:00:00:02:01"))
                        .ip("192.0.2.1/24").ping("192.0.2.2", 5).timeLimit(Duration.ofMinutes(4))
                        .start();
                Dpdk.Testpmd testpmd = Dpdk.testpmd(dir.path())
                        .vdev("net_vhost0,iface=" + dir.resolve("a.sock") + ",queues=1" + vdevOptions)
                        .vdev("net_vhost1,iface=" + dir.resolve("b.sock") + ",queues=1" + vdevOptions)
                        .start()) {
            long t0 = System.nanoTime();
            QemuGuest.PingResult result;
            try {
                result = a.awaitPing(Duration.ofMinutes(3));
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError(e.getMessage() + "\ntestpmd log:\n" + testpmd.process().output()
                        + "\nconsole of b:\n" + b.console(), e);
            }
            System.out.printf("ping %s %d ms after testpmd started (testpmd pid %d, guests pid %d and %d)%n",
                    result, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), testpmd.pid(), a.pid(), b.pid());
            assertEquals(new QemuGuest.PingResult(5, 5), result, () -> "console of a:\n" + a.console()
                    + "\nconsole of b:\n" + b.console());
            assertEquals(0, a.waitFor(Duration.ofSeconds(30)), "guest a powers off cleanly");
        }
    }
}
