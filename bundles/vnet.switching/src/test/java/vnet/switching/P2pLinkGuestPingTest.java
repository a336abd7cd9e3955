package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.vhost.VhostUserPort;

/**
 * The first milestone: two Linux guests (QEMU, the kernel's virtio-net driver) on the two vhost-user
 * ports of a vnet p2p link ping each other, and not one ping is lost; in notification, poll and busy-poll mode.
 */
@Tag("real-peer")
class P2pLinkGuestPingTest {

    @ParameterizedTest(name = "packed={0} mrg_rxbuf={1} poll={2}us busy-poll={3}")
    @CsvSource({"false, true, 0, false", "true, false, 0, false", "false, true, 200, false", "false, true, 0, true"})
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void twoGuestsPingThroughP2pLink(boolean packed, boolean mergeable, long pollMicros, boolean busyPoll)
            throws Exception {
        GuestImage.get();
        PortSettings settings = PortSettings.defaults().withPollMode(pollMicros > 0 || busyPoll);
        try (WorkDir dir = WorkDir.create("vnet-p2p-");
                VhostUserPort a = VhostUserPort.listen("a", dir.resolve("a.sock"), settings);
                VhostUserPort b = VhostUserPort.listen("b", dir.resolve("b.sock"), settings);
                P2pLink link = link(a, b, pollMicros, busyPoll);
                QemuGuest guestB = QemuGuest.builder("b").workDir(dir.path())
                        .nic(QemuGuest.VhostUserNic.client(b.socketPath()).mac("52:54:00:00:02:02")
                                .packed(packed).mrgRxbuf(mergeable))
                        .ip("192.0.2.2/24").waitSeconds(120).timeLimit(Duration.ofMinutes(4)).start();
                QemuGuest guestA = QemuGuest.builder("a").workDir(dir.path())
                        .nic(QemuGuest.VhostUserNic.client(a.socketPath()).mac("52:54:00:00:02:01")
                                .packed(packed).mrgRxbuf(mergeable))
                        .ip("192.0.2.1/24").ping("192.0.2.2", 5).timeLimit(Duration.ofMinutes(4)).start()) {
            QemuGuest.PingResult result = guestA.awaitPing(Duration.ofMinutes(3));
            assertEquals(new QemuGuest.PingResult(5, 5), result, () -> "console of a:\n" + guestA.console()
                    + "\nconsole of b:\n" + guestB.console() + "\nport a: " + a.lastCloseReason()
                    + "\nport b: " + b.lastCloseReason());
        }
    }

    private static P2pLink link(VhostUserPort a, VhostUserPort b, long pollMicros, boolean busyPoll) throws Exception {
        if (!busyPoll) {
            return new P2pLink("p2p", a, b, pollMicros);
        }
        P2pLink link = new P2pLink("p2p", FabricSettings.defaults().withBusyPoll(true));
        link.attach(PortDefinition.of(a.name(), PortOptions.DEFAULTS), a);
        link.attach(PortDefinition.of(b.name(), PortOptions.DEFAULTS), b);
        return link;
    }
}
