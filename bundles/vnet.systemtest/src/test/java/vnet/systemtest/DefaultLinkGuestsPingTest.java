package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;

/**
 * The README's promise: start the runtime, and two QEMU guests attached with exactly the arguments it prints
 * ping each other over its default p2p link.
 */
@Tag("real-peer")
class DefaultLinkGuestsPingTest {

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void twoGuestsAttachedAsPrintedPingEachOther() throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-st-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"))) {
            Duration up = Duration.ofSeconds(60);
            String memory = vnet.await(Pattern.compile("memory \\(each guest\\): (.*)$"), up).group(1);
            assertEquals(String.join(" ", QemuGuest.memoryArgs("256M")), memory,
                    "the memory arguments the guests get from QemuGuest are the printed ones");
            List<String> a = args(vnet.await(Pattern.compile("guest a: (.*)$"), up));
            List<String> b = args(vnet.await(Pattern.compile("guest b: (.*)$"), up));
            Path pcap = dir.resolve("a.pcap");
            assertTrue(vnet.run("vnet:capture start default a " + pcap).contains("capturing default/a"));
            try (QemuGuest guestB = QemuGuest.builder("b").workDir(dir.path()).qemuArgs(b.toArray(String[]::new))
                    .ip("192.0.2.2/24").waitSeconds(150).timeLimit(Duration.ofMinutes(4)).start();
                    QemuGuest guestA = QemuGuest.builder("a").workDir(dir.path()).qemuArgs(a.toArray(String[]::new))
                            .ip("192.0.2.1/24").ping("192.0.2.2", 5).timeLimit(Duration.ofMinutes(4)).start()) {
                QemuGuest.PingResult result = guestA.awaitPing(Duration.ofMinutes(3));
                assertEquals(new QemuGuest.PingResult(5, 5), result, () -> "console of a:\n" + guestA.console()
                        + "\nconsole of b:\n" + guestB.console() + "\nvnet:\n" + vnet.output());
                String stats = vnet.run("vnet:stats default a");
                Matcher m = Pattern.compile("default +a +(\\d+) +\\d+ +(\\d+)").matcher(stats);
                assertTrue(m.find() && Long.parseLong(m.group(1)) >= 5 && Long.parseLong(m.group(2)) >= 5, stats);
                assertTrue(vnet.run("vnet:capture stop default a").contains("stopped"));
                byte[] file = Files.readAllBytes(pcap);
                assertTrue(file.length > 24 + 10 * (16 + 98), "pcap of 5 echo requests and replies: " + file.length);
                assertEquals((byte) 0xd4, file[0], "pcap magic, little-endian");
                String queues = vnet.run("vnet:queues default b");
                assertTrue(queues.contains("queue pair 0: features") && queues.contains("last_avail_idx"), queues);
            }
        }
    }

    /** The printed arguments (paths here have no spaces or quotes). */
    static List<String> args(Matcher m) {
        String line = m.group(1).trim();
        assertTrue(!line.contains("'"), line);
        return List.of(line.split(" +"));
    }
}
