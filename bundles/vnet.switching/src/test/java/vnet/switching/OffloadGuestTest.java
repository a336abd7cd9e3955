package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import vnet.testing.ExternalProcess;
import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;
import vnet.transport.shm.vhost.VhostUserPort;

/**
 * Offloads with real Linux guests: guest a sends 16 MiB of random data over TCP (busybox nc) to guest b through a
 * p2p link or a switch, and both digests match. With default ports both guests negotiate CSUM, GUEST_CSUM,
 * GUEST_TSO4 and HOST_TSO4 and b receives a's 64 KiB segments as they are; when b's virtio-net-pci has
 * {@code guest_csum=off,guest_tso4=off,guest_tso6=off}, vnet segments and checksums in software, and the pcap of
 * port b (read by tshark, checksums verified) holds only frames of at most MTU size with correct checksums.
 */
@Tag("real-peer")
class OffloadGuestTest {
    private static final int BYTES = 16 << 20;
    private static final Pattern FEATURES = Pattern.compile("VNET-FEATURES ([01]+)");
    private static final Pattern MD5 = Pattern.compile("VNET-MD5 ([0-9a-f]{32}) (\\d+)");
    private static final Pattern RATE = Pattern.compile("VNET-RATE ([0-9.]+) ([0-9.]+)");
    private static final String[] MAC = {"02:00:00:00:0a:01", "02:00:00:00:0a:02"};
    private static final int BIT_CSUM = 0;
    private static final int BIT_GUEST_CSUM = 1;
    private static final int BIT_GUEST_TSO4 = 7;
    private static final int BIT_HOST_TSO4 = 11;

    /** Guest a: makes the data, prints its digest, and serves it to the first connection. */
    private static final String SENDER = String.join("\n",
            "echo \"VNET-FEATURES $(cat /sys/class/net/eth0/device/features)\"",
            "head -c " + BYTES + " /dev/urandom > /tmp/data",
            "echo \"VNET-MD5 $(md5sum /tmp/data | cut -d' ' -f1) $(wc -c < /tmp/data)\"",
            "nc -l -p 5001 -e cat /tmp/data",
            "");
    /** Guest b: fetches the data (retrying until a listens), prints its digest and how long it took. */
    private static final String RECEIVER = String.join("\n",
            "echo \"VNET-FEATURES $(cat /sys/class/net/eth0/device/features)\"",
            "i=0",
            "until ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 120 ] && break; sleep 1; done",
            "i=0",
            "while :; do",
            "  t0=$(cut -d' ' -f1 /proc/uptime)",
            "  nc 192.0.2.1 5001 </dev/null > /tmp/r 2>/dev/null && [ -s /tmp/r ] && break",
            "  i=$((i+1)); [ $i -gt 120 ] && break; sleep 1",
            "done",
            "t1=$(cut -d' ' -f1 /proc/uptime)",
            "echo \"VNET-RATE $t0 $t1\"",
            "echo \"VNET-MD5 $(md5sum /tmp/r | cut -d' ' -f1) $(wc -c < /tmp/r)\"",
            "");

    @ParameterizedTest(name = "{0}, receiver offloads {1}")
    @CsvSource({"p2p, on", "switch, on", "p2p, off", "switch, off"})
    @Timeout(value = 9, unit = TimeUnit.MINUTES)
    void sixteenMebibytesArriveIntact(String kind, String receiverOffloads) throws Exception {
        GuestImage.get();
        boolean offloadsOff = receiverOffloads.equals("off");
        if (offloadsOff) {
            SwitchGuestTest.Tshark.ensureInstalled();
        }
        try (WorkDir dir = WorkDir.create("vnet-offloads-");
                FabricBase fabric = kind.equals("p2p")
                        ? new P2pLink("off", FabricSettings.defaults().withRuntimeDir(dir.path()))
                        : new Switch("off", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
            List<AutoCloseable> owned = new ArrayList<>();
            try {
                VhostUserPort[] ports = new VhostUserPort[2];
                for (int i = 0; i < 2; i++) {
                    String name = i == 0 ? "a" : "b";
                    PortOptions o = PortOptions.parse("mac=" + MAC[i]);
                    ports[i] = VhostUserPort.listen(name, dir.resolve(name + ".sock"), fabric.portSettings(o));
                    owned.add(ports[i]);
                    fabric.attach(new PortDefinition(name, o, VlanMode.DEFAULT, false, "vhost-user"), ports[i]);
                }
                Path pcap = dir.resolve("b.pcap");
                if (offloadsOff) {
                    fabric.startCapture("b", pcap);
                }
                QemuGuest.VhostUserNic nicB = QemuGuest.VhostUserNic.client(ports[1].socketPath()).mac(MAC[1]);
                if (offloadsOff) {
                    nicB.property("guest_csum", "off").property("guest_tso4", "off").property("guest_tso6", "off");
                }
                QemuGuest b = QemuGuest.builder("b").workDir(dir.path()).nic(nicB).ip("192.0.2.2/24")
                        .command(RECEIVER).timeLimit(Duration.ofMinutes(8)).start();
                owned.add(b);
                QemuGuest a = QemuGuest.builder("a").workDir(dir.path())
                        .nic(QemuGuest.VhostUserNic.client(ports[0].socketPath()).mac(MAC[0]))
                        .ip("192.0.2.1/24").command(SENDER).timeLimit(Duration.ofMinutes(8)).start();
                owned.add(a);

                String fa = a.awaitLine(FEATURES, Duration.ofMinutes(3)).group(1);
                String fb = b.awaitLine(FEATURES, Duration.ofMinutes(3)).group(1);
                for (int bit : new int[] {BIT_CSUM, BIT_GUEST_CSUM, BIT_GUEST_TSO4, BIT_HOST_TSO4}) {
                    assertEquals('1', fa.charAt(bit), "guest a negotiated feature bit " + bit + ": " + fa);
                }
                assertEquals('1', fb.charAt(BIT_CSUM), fb);
                assertEquals('1', fb.charAt(BIT_HOST_TSO4), fb);
                char want = offloadsOff ? '0' : '1';
                assertEquals(want, fb.charAt(BIT_GUEST_CSUM), "guest b GUEST_CSUM: " + fb);
                assertEquals(want, fb.charAt(BIT_GUEST_TSO4), "guest b GUEST_TSO4: " + fb);

                MatchResult sent = a.awaitLine(MD5, Duration.ofMinutes(3));
                MatchResult got = b.awaitLine(MD5, Duration.ofMinutes(6));
                String why = "console of a:\n" + a.console() + "\nconsole of b:\n" + b.console() + "\nstats a "
                        + fabric.stats("a") + "\nstats b " + fabric.stats("b");
                assertEquals(Integer.toString(BYTES), sent.group(2), why);
                assertEquals(sent.group(1) + " " + sent.group(2), got.group(1) + " " + got.group(2), why);
                MatchResult rate = b.awaitLine(RATE, Duration.ofSeconds(5));
                double seconds = Double.parseDouble(rate.group(2)) - Double.parseDouble(rate.group(1));
                System.out.printf("OffloadGuestTest %s receiver offloads %s: %d bytes in %.2f s (%.0f Mbit/s, guest"
                        + " clock)%n", kind, receiverOffloads, BYTES, seconds, BYTES * 8 / Math.max(seconds, 0.01) / 1e6);

                PortStats sa = fabric.stats("a");
                PortStats sb = fabric.stats("b");
                assertTrue(sa.txBytes() / Math.max(1, sa.txFrames()) > 1514,
                        "guest a sent GSO frames larger than the MTU: " + sa);
                if (!offloadsOff) {
                    assertTrue(sb.rxBytes() / Math.max(1, sb.rxFrames()) > 1514,
                            "guest b received the GSO frames unchanged: " + sb);
                } else {
                    fabric.stopCapture("b");
                    List<String> frames = tshark(pcap);
                    long data = frames.stream().filter(l -> l.split("\t")[0].equals("1514")).count();
                    assertTrue(data > 1000, "the capture holds the data segments: " + frames.size() + " frames");
                    for (String l : frames) {
                        String[] f = l.split("\t");
                        assertTrue(Integer.parseInt(f[0]) <= 1514, "frame longer than the MTU: " + l);
                        assertEquals("1", f[1], "IPv4 header checksum not good: " + l);
                        // The message is made only on failure: it keeps a copy of the capture.
                        assertEquals("1", f[2], () -> "TCP checksum not good: " + l + " (length, IP and TCP checksum"
                                + " status, frame number, source, flags, raw seq, checksum; pcap kept at " + keep(pcap)
                                + ")");
                    }
                    assertTrue(sb.rxFrames() > BYTES / 1448, "b received MTU-sized segments: " + sb);
                }
                assertEquals(0, sb.dropsOffload() + sb.dropsTooBig(), "no frame for b dropped: " + sb);
            } finally {
                for (int i = owned.size() - 1; i >= 0; i--) {
                    owned.get(i).close();
                }
            }
        }
    }

    /**
     * {@code mtu=1400} on the port: the guest (whose virtio-net-pci gets QEMU's {@code host_mtu=1400}, since QEMU
     * serves the config space itself) negotiates VIRTIO_NET_F_MTU, which QEMU may only do because vnet offers it,
     * and takes 1400 as eth0's MTU; the link is up (carrier).
     */
    @org.junit.jupiter.api.Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void mtuOptionReachesTheGuest() throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-mtu-");
                Switch sw = new Switch("mtu", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
            PortOptions o = PortOptions.parse("mac=" + MAC[0] + " mtu=1400");
            try (VhostUserPort p = VhostUserPort.listen("a", dir.resolve("a.sock"), sw.portSettings(o))) {
                sw.attach(new PortDefinition("a", o, VlanMode.DEFAULT, false, "vhost-user"), p);
                try (QemuGuest g = QemuGuest.builder("a").workDir(dir.path())
                        .nic(QemuGuest.VhostUserNic.client(p.socketPath()).mac(MAC[0]).property("host_mtu", "1400"))
                        .ip("192.0.2.1/24").command("echo \"VNET-FEATURES $(cat /sys/class/net/eth0/device/features)\"\n"
                                + "echo \"VNET-LINK mtu=$(cat /sys/class/net/eth0/mtu) carrier=$(cat /sys/class/net/eth0/carrier)\"\n")
                        .timeLimit(Duration.ofMinutes(3)).start()) {
                    String f = g.awaitLine(FEATURES, Duration.ofMinutes(2)).group(1);
                    assertEquals('1', f.charAt(3), "VIRTIO_NET_F_MTU (bit 3) negotiated: " + f);
                    MatchResult link = g.awaitLine(Pattern.compile("VNET-LINK mtu=(\\d+) carrier=(\\d)"),
                            Duration.ofSeconds(30));
                    assertEquals("1400", link.group(1), g.console());
                    assertEquals("1", link.group(2), "carrier: " + g.console());
                }
            }
        }
    }

    /** frame.len, ip.checksum.status, tcp.checksum.status of every TCP frame, checksums verified by tshark. */
    /** Copies a capture out of the work folder (deleted after the test), for whoever reads the failure. */
    private static Path keep(Path pcap) {
        try {
            Path kept = java.nio.file.Files.createTempFile("vnet-offload-", ".pcap");
            java.nio.file.Files.copy(pcap, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return kept;
        } catch (java.io.IOException e) {
            return pcap;
        }
    }

    private static List<String> tshark(Path pcap) throws Exception {
        String out = ExternalProcess.run(Duration.ofMinutes(3), "tshark", "-n", "-r", pcap.toString(),
                "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-Y", "tcp", "-T", "fields",
                "-e", "frame.len", "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "frame.number",
                "-e", "ip.src", "-e", "tcp.flags.str", "-e", "tcp.seq_raw", "-e", "tcp.checksum");
        List<String> lines = new ArrayList<>();
        for (String l : out.split("\n")) {
            if (!l.isBlank() && Character.isDigit(l.charAt(0))) {
                lines.add(l.trim());
            }
        }
        return lines;
    }
}
