package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;

/**
 * Two QEMU guests ping each other through the runtime's default p2p link; vnet is killed with SIGKILL and started
 * again with the same configuration. The guests are not rebooted: QEMU reconnects ({@code reconnect=1}) and sets the
 * rings up again, and the pings resume. Split rings resume from the used index in guest memory (QEMU restores it);
 * packed rings from where the descriptors' USED bits say the device stood, since QEMU's own packed position is stale.
 */
@Tag("real-peer")
class CrashRecoveryTest {
    private static final Duration UP = Duration.ofSeconds(60);

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void pingsResumeAfterVnetIsKilledAndRestarted(boolean packed) throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-crash-")) {
            VnetRuntime first = VnetRuntime.start(Files.createDirectories(dir.resolve("first")), dir.resolve("run"));
            VnetRuntime second = null;
            try {
                List<String> a = guestArgs(first, "a", packed);
                List<String> b = guestArgs(first, "b", packed);
                String script = GuestPings.script("192.0.2.2", 600, "0.3");
                try (QemuGuest guestB = QemuGuest.builder("b").workDir(dir.path()).qemuArgs(b.toArray(String[]::new))
                        .ip("192.0.2.2/24").waitSeconds(330).timeLimit(Duration.ofMinutes(5)).start();
                        QemuGuest guestA = QemuGuest.builder("a").workDir(dir.path()).qemuArgs(a.toArray(String[]::new))
                                .ip("192.0.2.1/24").command(script).timeLimit(Duration.ofMinutes(5)).start()) {
                    int ok = GuestPings.await(guestA, "ok", 0, Duration.ofMinutes(3), first);
                    ok = GuestPings.await(guestA, "ok", ok + 2, Duration.ofSeconds(60), first); // a few in a row
                    if (packed) {
                        assertTrue(first.run("vnet:queues default a").contains("packed"), "the guests use packed rings");
                    }

                    ProcessHandle.of(first.pid()).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
                    waitGone(first.pid());
                    int failed = GuestPings.await(guestA, "fail", ok, Duration.ofSeconds(60), first);

                    second = VnetRuntime.start(Files.createDirectories(dir.resolve("second")), dir.resolve("run"));
                    second.await(Pattern.compile("guest b: "), UP);
                    long upNanos = System.nanoTime();
                    int resumed = GuestPings.await(guestA, "ok", failed, Duration.ofSeconds(60), second);
                    double seconds = (System.nanoTime() - upNanos) / 1e9;
                    System.out.printf("CrashRecoveryTest packed=%s: pings resumed %.1f s after the new vnet was up"
                            + " (ping %d; first failure %d)%n", packed, seconds, resumed, failed);
                    // And they keep going: ten more in a row.
                    int last = resumed;
                    for (int i = 0; i < 10; i++) {
                        int next = GuestPings.await(guestA, "ok", last, Duration.ofSeconds(20), second);
                        assertTrue(next == last + 1, "ping " + (last + 1) + " failed after the restart:\n" + guestA.console());
                        last = next;
                    }
                    assertTrue(seconds < 10, "pings resumed only after " + seconds + " s");
                    assertTrue(guestA.isAlive() && guestB.isAlive(), "no guest rebooted or died");
                }
            } finally {
                first.close();
                if (second != null) {
                    second.close();
                }
            }
        }
    }

    /** The printed QEMU arguments of a port, with {@code packed=on} on the device when asked. */
    private static List<String> guestArgs(VnetRuntime vnet, String port, boolean packed) throws Exception {
        List<String> args = new ArrayList<>(DefaultLinkGuestsPingTest.args(vnet.await(Pattern.compile("guest " + port + ": (.*)$"), UP)));
        if (packed) {
            args.replaceAll(s -> s.startsWith("virtio-net-pci,") ? s.replace("virtio-net-pci,", "virtio-net-pci,packed=on,") : s);
        }
        return args;
    }

    private static void waitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }
}
