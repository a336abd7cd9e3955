package vnet.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import vnet.switching.FabricSettings;
import vnet.switching.P2pLink;
import vnet.switching.PortDefinition;
import vnet.switching.PortOptions;
import vnet.switching.Switch;
import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtio.net.Features;

/**
 * Host peers with QEMU Linux guests (TCG, the kernel's virtio-net driver over vhost-user). The TAP interface is
 * created in the JVM's namespace, moved into a namespace the test created and configured there (192.0.2.0/24 only);
 * namespaces are deleted in the end, even on failure, and every process is bounded and killed by PID.
 */
@Tag("real-peer")
class GuestPeerTest {
    private static final String PEER_MAC = "02a0b0c0d0e0";
    private static final Pattern TCP_RESULT = Pattern.compile("VNET-TCP bytes=(\\d+)");
    private static final Pattern SENT = Pattern.compile("sent=(\\d+) seconds=([0-9.]+)");

    /** virtio-net-pci of a legacy (VIRTIO 0.9.5) device: no VERSION_1, so the back-end's 10-byte header is used. */
    private static QemuGuest.VhostUserNic nic(Path socket, String mac, boolean legacy) {
        QemuGuest.VhostUserNic nic = QemuGuest.VhostUserNic.client(socket).mac(mac);
        return legacy ? nic.property("disable-modern", "on") : nic;
    }

    @ParameterizedTest(name = "legacy={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void hostPingsAGuestOverVp0(boolean legacy) throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                HostPeer peer = HostPeer.start(PeerOptions.parseOne("bind=" + dir.resolve("vp.sock") + ",mac=" + PEER_MAC
                        + (legacy ? ",legacy" : "")), -1)) {
            String vp = peer.interfaceName();
            ns.moveLink(vp);
            ns.configure(vp, "192.0.2.1/24");
            try (QemuGuest guest = QemuGuest.builder("g").workDir(dir.path())
                    .nic(nic(peer.bindPath(), "52:54:00:00:02:02", legacy))
                    .ip("192.0.2.2/24").waitSeconds(0).timeLimit(Duration.ofMinutes(4)).start()) {
                guest.awaitReady(Duration.ofMinutes(3));
                assertTrue(ns.awaitReply("192.0.2.2", Duration.ofSeconds(90)), () -> "no reply at all; " + peer + "\n"
                        + guest.console());
                NetNamespace.Ping ping = ns.ping("192.0.2.2", 5, "0.5");
                System.out.printf("%s legacy=%s: %s%n  guest features %s, virtio header %d, TAP header %d, TAP offloads 0x%x%n",
                        vp, legacy, ping.output().lines().filter(l -> l.contains("packets")).findFirst().orElse(""),
                        Features.toString(peer.virtioFeatures()), peer.virtioHeaderSize(), peer.tapHeaderSize(),
                        peer.tapOffloads());
                assertEquals(5, ping.received(), () -> ping.output() + "\n" + peer + "\n" + guest.console());
                assertEquals(legacy ? 10 : 12, peer.virtioHeaderSize());
                assertEquals(legacy ? 10 : 12, peer.tapHeaderSize());
                assertEquals("02:a0:b0:c0:d0:e0", ns.exec("cat", "/sys/class/net/" + vp + "/address").trim());
            }
        }
    }

    /**
     * A TCP transfer from the host (a Perl sender in the namespace) to a guest's busybox {@code nc} over {@code vp0};
     * the rate is printed. {@code bind}: the guest's NIC connects to the host peer itself; with QEMU's default offloads
     * the guest and host exchange partial checksums and TSO frames through the virtio_net_hdr, with {@code csum=off}
     * the host kernel segments and checksums in software. {@code p2p}: guest and host peer ({@code peer=}) are the two
     * ports of a vnet p2p link whose ports offer checksum and TSO offloads (or not).
     */
    @ParameterizedTest(name = "{0}, offloads={1}")
    @CsvSource({"bind, true", "bind, false", "p2p, true", "p2p, false"})
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void tcpTransferFromTheHostToAGuest(String mode, boolean offloads) throws Exception {
        GuestImage.get();
        long bytes = Long.getLong("vnet.peer.tcpBytes", 32L << 20);
        boolean p2p = mode.equals("p2p");
        PortSettings settings = PortSettings.defaults().withFeatures(PortSettings.DEFAULT_FEATURES | (offloads
                ? Features.CSUM | Features.GUEST_CSUM | Features.HOST_TSO4 | Features.HOST_TSO6 | Features.GUEST_TSO4
                        | Features.GUEST_TSO6 : 0));
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace ns = NetNamespace.create();
                VhostUserPort guestPort = p2p ? VhostUserPort.listen("g", dir.resolve("g.sock"), settings) : null;
                VhostUserPort peerPort = p2p ? VhostUserPort.listen("h", dir.resolve("h.sock"), settings) : null;
                P2pLink link = p2p ? new P2pLink("p2p", guestPort, peerPort, 0) : null;
                HostPeer peer = HostPeer.start(PeerOptions.parseOne((p2p ? "peer=" + peerPort.socketPath()
                        : "bind=" + dir.resolve("vp.sock")) + ",mac=" + PEER_MAC), -1)) {
            String vp = peer.interfaceName();
            ns.moveLink(vp);
            ns.configure(vp, "192.0.2.1/24");
            Path sender = dir.resolve("send.pl");
            Files.writeString(sender, SENDER);
            Path guestSocket = p2p ? guestPort.socketPath() : peer.bindPath();
            try (QemuGuest guest = QemuGuest.builder("g").workDir(dir.path()).memory("512M")
                    .nic(QemuGuest.VhostUserNic.client(guestSocket).mac("52:54:00:00:02:02").csum(offloads))
                    .ip("192.0.2.2/24").command("n=$(nc -l -p 5001 </dev/null | wc -c); echo VNET-TCP bytes=$n")
                    .timeLimit(Duration.ofMinutes(5)).start()) {
                guest.awaitReady(Duration.ofMinutes(3));
                String out = ns.execWithin(Duration.ofMinutes(4), "perl", sender.toString(), "192.0.2.2", "5001",
                        Long.toString(bytes));
                MatchResult got = guest.awaitLine(TCP_RESULT, Duration.ofSeconds(60));
                Matcher sent = SENT.matcher(out);
                assertTrue(sent.find(), out);
                double seconds = Double.parseDouble(sent.group(2));
                System.out.printf("TCP host -> guest, %s, offloads %s: %d bytes in %.2f s = %.1f MB/s (%.0f Mbit/s)%n"
                        + "  host peer %s features %s, TAP offloads 0x%x; %s%n", mode, offloads ? "on" : "off", bytes,
                        seconds, bytes / seconds / 1e6, bytes * 8 / seconds / 1e6, vp,
                        Features.toString(peer.virtioFeatures()), peer.tapOffloads(), peer.stats());
                assertEquals(bytes, Long.parseLong(sent.group(1)), out);
                assertEquals(bytes, Long.parseLong(got.group(1)), guest::console);
            }
        }
    }

    /**
     * Two guests on a vnet learning switch, plus a host peer on a third port ({@code peer=} its socket). In namespace
     * "bridge", {@code vp0} and one end of a veth pair are ports of a Linux bridge; namespace "outside" has the other
     * end and reaches both guests through vnet: the guests are bridged to the outside world.
     */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void guestsOnASwitchAreBridgedToTheOutsideWorld() throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-peer-");
                NetNamespace bridge = NetNamespace.create();
                NetNamespace outside = NetNamespace.create();
                Switch sw = new Switch("sw", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
            VhostUserPort g1 = port(sw, "g1", dir);
            VhostUserPort g2 = port(sw, "g2", dir);
            VhostUserPort hp = port(sw, "hp", dir);
            try (g1; g2; hp;
                    HostPeer peer = HostPeer.start(PeerOptions.parseOne("peer=" + hp.socketPath() + ",mac=" + PEER_MAC), -1)) {
                String vp = peer.interfaceName();
                bridge.moveLink(vp);
                bridge.exec("ip", "link", "add", "br0", "type", "bridge");
                bridge.exec("ip", "link", "add", "va", "type", "veth", "peer", "name", "vb");
                bridge.exec("ip", "link", "set", "vb", "netns", outside.name());
                bridge.exec("ip", "link", "set", vp, "master", "br0");
                bridge.exec("ip", "link", "set", "va", "master", "br0");
                for (String i : new String[] {vp, "va", "br0"}) {
                    bridge.exec("ip", "link", "set", i, "up");
                }
                outside.configure("vb", "192.0.2.10/24");
                try (QemuGuest a = QemuGuest.builder("a").workDir(dir.path()).nic(nic(g1.socketPath(), "52:54:00:00:02:02", false))
                                .ip("192.0.2.2/24").waitSeconds(0).timeLimit(Duration.ofMinutes(5)).start();
                        QemuGuest b = QemuGuest.builder("b").workDir(dir.path()).nic(nic(g2.socketPath(), "52:54:00:00:02:03", false))
                                .ip("192.0.2.3/24").waitSeconds(0).timeLimit(Duration.ofMinutes(5)).start()) {
                    a.awaitReady(Duration.ofMinutes(3));
                    b.awaitReady(Duration.ofMinutes(3));
                    for (String guest : new String[] {"192.0.2.2", "192.0.2.3"}) {
                        assertTrue(outside.awaitReply(guest, Duration.ofSeconds(90)), () -> "no reply from " + guest + "; "
                                + peer + "\n" + sw + "\n" + a.console() + "\n" + b.console());
                        NetNamespace.Ping ping = outside.ping(guest, 5, "0.5");
                        System.out.printf("outside -> %s through br0, %s, vnet switch: %s%n", guest, vp,
                                ping.output().lines().filter(l -> l.contains("packets")).findFirst().orElse(""));
                        assertEquals(5, ping.received(), ping::output);
                    }
                }
            }
        }
    }

    private static VhostUserPort port(Switch sw, String name, WorkDir dir) throws Exception {
        VhostUserPort p = VhostUserPort.listen(name, dir.resolve(name + ".sock"), sw.portSettings(PortOptions.DEFAULTS));
        try {
            sw.attach(PortDefinition.of(name, PortOptions.DEFAULTS), p);
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Connects (retrying while the guest's nc is not listening), sends, half-closes, waits for the guest to close. */
    private static final String SENDER = """
            use strict; use IO::Socket::INET; use Time::HiRes qw(time);
            my ($host, $port, $total) = @ARGV;
            my $s;
            for (1 .. 300) {
                $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp', Timeout => 5) and last;
                select(undef, undef, undef, 0.2);
            }
            die "connect: $!" unless $s;
            my $buf = "v" x 65536; my $sent = 0; my $t0 = time;
            while ($sent < $total) {
                my $n = $total - $sent; $n = 65536 if $n > 65536;
                my $w = syswrite($s, $buf, $n); die "write: $!" unless defined $w; $sent += $w;
            }
            shutdown($s, 1); my $r; while (sysread($s, $r, 4096)) {} close($s);
            printf("sent=%d seconds=%.3f\\n", $sent, time - $t0);
            """;
}
