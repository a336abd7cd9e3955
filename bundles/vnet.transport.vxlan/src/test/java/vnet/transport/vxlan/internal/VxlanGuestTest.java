package vnet.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.switching.FabricSettings;
import vnet.switching.PortDefinition;
import vnet.switching.PortOptions;
import vnet.switching.Switch;
import vnet.switching.VlanMode;
import vnet.testing.Apt;
import vnet.testing.ExternalProcess;
import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.vhost.VhostUserPort;

/**
 * VXLAN with real peers, in two network namespaces this test creates, standing for two hosts: {@code vx-h1} and
 * {@code vx-h2} joined by a veth ({@code vx-v1} 192.0.2.101/24, {@code vx-v2} 192.0.2.102/24, MTU 1500). Guests are
 * QEMU Linux guests on the 198.51.100.0/24 overlay with MTU 1450 (1500 - 50). Each vnet switch runs in this JVM;
 * its tunnel port's sockets are opened inside its namespace ({@code setns} on the opening thread), so its underlay
 * traffic crosses the veth as between two hosts.
 */
@Tag("real-peer")
class VxlanGuestTest {
    private static final Pattern PING = Pattern.compile("VXLAN-PING (\\d+) packets transmitted, (\\d+) (?:packets )?received");
    private static final Pattern TCP = Pattern.compile("VXLAN-TCP (\\S*)");
    private static final Duration GUEST_LIMIT = Duration.ofMinutes(4);

    /**
     * (a) A guest on a vnet switch in h1 and the Linux kernel's vxlan device {@code vx42} in h2: the guest pings
     * 198.51.100.2 on it, TCP goes both ways (the guest to an echo server in h2, h2 to the guest's echo server), and
     * tshark decodes what crossed the veth as VXLAN with VNI 42, in both directions.
     */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void aGuestOnVnetTalksToTheLinuxKernelsVxlanDevice() throws Exception {
        GuestImage.get();
        Apt.install("tshark");
        try (WorkDir dir = WorkDir.create("vnet-vxlan-linux-"); Netns h1 = Netns.create("vx-h1"); Netns h2 = Netns.create("vx-h2")) {
            underlay(h1, h2);
            h2.exec("ip", "link", "add", "vx42", "type", "vxlan", "id", "42", "local", "192.0.2.102", "remote", "192.0.2.101",
                    "dstport", "4789", "dev", "vx-v2");
            // The kernel leaves the inner TCP checksum to the "hardware" (CHECKSUM_PARTIAL) and a veth passes it on
            // uncomputed; a real NIC would fill it in. A VTEP in user space behind a veth needs TX checksumming off.
            Apt.install("ethtool");
            h2.exec("ethtool", "-K", "vx-v2", "tx", "off");
            h2.exec("ip", "addr", "add", "198.51.100.2/24", "dev", "vx42");
            h2.exec("ip", "link", "set", "vx42", "up");
            List<AutoCloseable> owned = new ArrayList<>();
            Path pcap = dir.resolve("underlay.pcap");
            try (Switch sw = new Switch("sw1", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
                VxlanPort tunnel = (VxlanPort) VxlanTunnelTest.tunnel(h1, new VxlanTransport(), sw,
                        "vni=42 local=192.0.2.101 remote=192.0.2.102");
                owned.add(() -> {
                    sw.detach("up");
                    tunnel.close();
                });
                ExternalProcess capture = h1.start("tshark-h1", Duration.ofMinutes(5), "tshark", "-i", "vx-v1", "-f",
                        "udp port 4789", "-w", pcap.toString());
                owned.add(capture);
                ExternalProcess echo = h2.start("echo-h2", Duration.ofMinutes(5), "busybox", "nc", "-ll", "-p", "7",
                        "-e", "cat");
                owned.add(echo);
                Thread.sleep(2000); // tshark and the echo server start
                VhostUserPort port = guestPort(sw, dir, "g1", "02:00:00:00:42:01");
                owned.add(port);
                QemuGuest g1 = guest(dir, "g1", port, "02:00:00:00:42:01", "198.51.100.1", "198.51.100.2", 90);
                owned.add(g1);

                MatchResult ping = g1.awaitLine(PING, GUEST_LIMIT);
                assertEquals("5 5", ping.group(1) + " " + ping.group(2), () -> "guest ping; console:\n" + g1.console());
                MatchResult tcp = g1.awaitLine(TCP, Duration.ofSeconds(60));
                assertEquals("from-g1", tcp.group(1), () -> "guest -> h2 TCP echo; console:\n" + g1.console());
                String back = h2.exec("busybox", "sh", "-c", "echo from-h2 | busybox nc -w 5 198.51.100.1 7");
                assertEquals("from-h2", back.trim(), "h2 -> guest TCP echo");
                VxlanCounters c = tunnel.counters();
                assertEquals(0, c.dropsUnknownSource() + c.dropsWrongVni() + c.dropsBadFlags() + c.sendErrors(), c::toString);
                assertTrue(c.decapsulated() > 10 && c.encapsulated() > 10, c::toString);

                Thread.sleep(1000);
                capture.stop(Duration.ofSeconds(5));
                assertVxlan42(pcap, "192.0.2.101"); // vnet's packets
                assertVxlan42(pcap, "192.0.2.102"); // Linux's
            } finally {
                closeAll(owned);
            }
        }
    }

    /**
     * (b) Two vnet switches, one per namespace, each with a guest and a tunnel port to the other: the guests ping each
     * other and exchange TCP both ways.
     */
    @Test
    @Timeout(value = 7, unit = TimeUnit.MINUTES)
    void guestsOnTwoVnetsTalkAcrossTheTunnel() throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-vxlan-vnet-"); Netns h1 = Netns.create("vx-h1"); Netns h2 = Netns.create("vx-h2")) {
            underlay(h1, h2);
            List<AutoCloseable> owned = new ArrayList<>();
            try (Switch sw1 = new Switch("sw1", FabricSettings.defaults().withRuntimeDir(dir.path()));
                    Switch sw2 = new Switch("sw2", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
                VxlanPort t1 = (VxlanPort) VxlanTunnelTest.tunnel(h1, new VxlanTransport(), sw1,
                        "vni=42 local=192.0.2.101 remote=192.0.2.102");
                owned.add(() -> {
                    sw1.detach("up");
                    t1.close();
                });
                VxlanPort t2 = (VxlanPort) VxlanTunnelTest.tunnel(h2, new VxlanTransport(), sw2,
                        "vni=42 local=192.0.2.102 remote=192.0.2.101");
                owned.add(() -> {
                    sw2.detach("up");
                    t2.close();
                });
                VhostUserPort p1 = guestPort(sw1, dir, "g1", "02:00:00:00:42:01");
                owned.add(p1);
                VhostUserPort p2 = guestPort(sw2, dir, "g2", "02:00:00:00:42:02");
                owned.add(p2);
                QemuGuest g1 = guest(dir, "g1", p1, "02:00:00:00:42:01", "198.51.100.1", "198.51.100.2", 120);
                owned.add(g1);
                QemuGuest g2 = guest(dir, "g2", p2, "02:00:00:00:42:02", "198.51.100.2", "198.51.100.1", 120);
                owned.add(g2);
                for (QemuGuest g : List.of(g1, g2)) {
                    MatchResult ping = g.awaitLine(PING, GUEST_LIMIT);
                    assertEquals("5 5", ping.group(1) + " " + ping.group(2), () -> g.name() + " ping; console:\n" + g.console());
                    MatchResult tcp = g.awaitLine(TCP, Duration.ofSeconds(90));
                    assertEquals("from-" + g.name(), tcp.group(1), () -> g.name() + " TCP echo; console:\n" + g.console());
                }
                for (VxlanPort t : List.of(t1, t2)) {
                    VxlanCounters c = t.counters();
                    assertEquals(0, c.dropsUnknownSource() + c.dropsWrongVni() + c.dropsBadFlags() + c.sendErrors(),
                            c::toString);
                    assertTrue(c.decapsulated() > 10 && c.encapsulated() > 10, c::toString);
                }
                assertEquals(0, sw1.stats("up").dropsSpoofed() + sw2.stats("up").dropsSpoofed());
            } finally {
                closeAll(owned);
            }
        }
    }

    /** The veth between the two "hosts". */
    private static void underlay(Netns h1, Netns h2) throws Exception {
        h1.exec("ip", "link", "add", "vx-v1", "type", "veth", "peer", "name", "vx-v2", "netns", h2.name());
        h1.exec("ip", "addr", "add", "192.0.2.101/24", "dev", "vx-v1");
        h1.exec("ip", "link", "set", "vx-v1", "mtu", "1500", "up");
        h2.exec("ip", "addr", "add", "192.0.2.102/24", "dev", "vx-v2");
        h2.exec("ip", "link", "set", "vx-v2", "mtu", "1500", "up");
    }

    private static VhostUserPort guestPort(Switch sw, WorkDir dir, String name, String mac) throws Exception {
        PortOptions o = PortOptions.parse("mac=" + mac);
        VhostUserPort p = VhostUserPort.listen(name, dir.resolve(name + ".sock"), sw.portSettings(o));
        sw.attach(new PortDefinition(name, o, VlanMode.DEFAULT, false, "vhost-user"), p);
        return p;
    }

    /**
     * A guest that runs a TCP echo server on :7, waits for {@code peer} to answer pings, pings it 5 times, sends
     * "from-{@code name}" to the peer's echo server and prints what came back, then stays up.
     */
    private static QemuGuest guest(WorkDir dir, String name, VhostUserPort port, String mac, String ip, String peer, int patience)
            throws Exception {
        String script = "nc -ll -p 7 -e cat &\n"
                + "i=0; until ping -c 1 -W 1 " + peer + " >/dev/null 2>&1; do i=$((i+1)); [ $i -ge " + patience
                + " ] && break; sleep 0.5; done\n"
                + "echo \"VXLAN-PING $(ping -c 5 -W 2 " + peer + " | grep transmitted)\"\n"
                + "sleep 2\n"
                + "echo \"VXLAN-TCP $(echo from-" + name + " | nc -w 5 " + peer + " 7)\"\n";
        return QemuGuest.builder(name).workDir(dir.path())
                .nic(QemuGuest.VhostUserNic.client(port.socketPath()).mac(mac))
                .ip(ip + "/24").vnet("mtu", "1450").command(script).waitSeconds(90)
                .timeLimit(GUEST_LIMIT).start();
    }

    /** tshark reads the capture: packets from {@code source} decode as VXLAN, VNI 42, carrying ICMP. */
    private static void assertVxlan42(Path pcap, String source) throws Exception {
        assertTrue(Files.size(pcap) > 24, "capture written");
        String out = ExternalProcess.run(Duration.ofSeconds(60), "tshark", "-r", pcap.toString(), "-Y",
                "vxlan && icmp && ip.src == " + source, "-T", "fields", "-e", "vxlan.vni", "-e", "udp.srcport");
        List<String> lines = out.lines().filter(l -> !l.isBlank() && l.matches("\\d+\\t\\d+")).toList();
        assertTrue(lines.size() >= 5, "VXLAN ICMP packets from " + source + ": " + out);
        assertTrue(lines.stream().allMatch(l -> l.startsWith("42\t")), "VNI 42 in every one: " + out);
    }

    private static void closeAll(List<AutoCloseable> owned) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                System.err.println("closing " + owned.get(i) + ": " + e);
            }
        }
    }
}
