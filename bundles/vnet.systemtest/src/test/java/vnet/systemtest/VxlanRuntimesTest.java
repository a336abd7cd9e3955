package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.ExternalProcess;
import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;

/**
 * Two vnet runtimes (the jar, as a user runs it), one in each of two network namespaces this test creates, standing
 * for two hosts joined by a veth ({@code vx-r1} 192.0.2.101, {@code vx-r2} 192.0.2.102). Each has a switch with a
 * guest port and a VXLAN port to the other, made with {@code vnet:create}; a QEMU guest on each (198.51.100.0/24,
 * MTU 1450) pings the other and exchanges TCP with it both ways.
 */
@Tag("real-peer")
@Timeout(value = 7, unit = TimeUnit.MINUTES)
class VxlanRuntimesTest {
    private static final Pattern PING = Pattern.compile("VXLAN-PING (\\d+) packets transmitted, (\\d+) (?:packets )?received");
    private static final Pattern TCP = Pattern.compile("VXLAN-TCP (\\S*)");

    @Test
    void guestsOnTwoRuntimesTalkAcrossTheTunnel() throws Exception {
        GuestImage.get();
        for (String ns : List.of("vx-r1", "vx-r2")) {
            ipQuiet("netns", "del", ns);
            ip("netns", "add", ns);
        }
        try (WorkDir dir = WorkDir.create("vnet-st-vxlan2-")) {
            ip("netns", "exec", "vx-r1", "ip", "link", "add", "vx-rv1", "type", "veth", "peer", "name", "vx-rv2", "netns", "vx-r2");
            ip("netns", "exec", "vx-r1", "ip", "addr", "add", "192.0.2.101/24", "dev", "vx-rv1");
            ip("netns", "exec", "vx-r1", "ip", "link", "set", "vx-rv1", "up");
            ip("netns", "exec", "vx-r2", "ip", "addr", "add", "192.0.2.102/24", "dev", "vx-rv2");
            ip("netns", "exec", "vx-r2", "ip", "link", "set", "vx-rv2", "up");
            Path run1 = dir.resolve("run1");
            Path run2 = dir.resolve("run2");
            java.nio.file.Files.createDirectories(dir.resolve("w1"));
            java.nio.file.Files.createDirectories(dir.resolve("w2"));
            try (VnetRuntime r1 = VnetRuntime.startIn("vx-r1", dir.resolve("w1"), run1, "-Dvnet.default=false");
                    VnetRuntime r2 = VnetRuntime.startIn("vx-r2", dir.resolve("w2"), run2, "-Dvnet.default=false")) {
                setUp(r1, "g1", "02:00:00:00:42:01", "192.0.2.101", "192.0.2.102");
                setUp(r2, "g2", "02:00:00:00:42:02", "192.0.2.102", "192.0.2.101");
                try (QemuGuest g1 = guest(dir, "g1", run1.resolve("sw/g1.sock"), "02:00:00:00:42:01", "198.51.100.1", "198.51.100.2");
                        QemuGuest g2 = guest(dir, "g2", run2.resolve("sw/g2.sock"), "02:00:00:00:42:02", "198.51.100.2", "198.51.100.1")) {
                    for (QemuGuest g : List.of(g1, g2)) {
                        MatchResult ping = g.awaitLine(PING, Duration.ofMinutes(4));
                        assertEquals("5 5", ping.group(1) + " " + ping.group(2), () -> g.name() + " ping; console:\n" + g.console());
                        MatchResult tcp = g.awaitLine(TCP, Duration.ofSeconds(90));
                        assertEquals("from-" + g.name(), tcp.group(1), () -> g.name() + " TCP echo; console:\n" + g.console());
                    }
                }
                String stats = r1.run("vnet:stats sw up");
                assertTrue(stats.contains("up"), stats);
                String list = r2.run("vnet:list");
                assertTrue(list.contains("port up") && list.contains("vxlan"), list);
            }
        } finally {
            ipQuiet("netns", "del", "vx-r1");
            ipQuiet("netns", "del", "vx-r2");
        }
    }

    private static void setUp(VnetRuntime r, String guest, String mac, String local, String remote) throws Exception {
        r.run("vnet:create switch sw");
        String g = r.run("vnet:create port sw " + guest + " mac=" + mac);
        assertTrue(g.contains("created port sw/" + guest), g);
        String up = r.run("vnet:create port sw up -t vxlan vni=42 local=" + local + " remote=" + remote);
        assertTrue(up.contains("created port sw/up: vxlan"), up);
    }

    /** Echo server on :7; waits for the peer, pings it 5 times, sends "from-name" to its echo server. */
    private static QemuGuest guest(WorkDir dir, String name, Path socket, String mac, String ip, String peer) throws Exception {
        String script = "nc -ll -p 7 -e cat &\n"
                + "i=0; until ping -c 1 -W 1 " + peer + " >/dev/null 2>&1; do i=$((i+1)); [ $i -ge 120 ] && break; sleep 0.5; done\n"
                + "echo \"VXLAN-PING $(ping -c 5 -W 2 " + peer + " | grep transmitted)\"\n"
                + "sleep 2\n"
                + "echo \"VXLAN-TCP $(echo from-" + name + " | nc -w 5 " + peer + " 7)\"\n";
        return QemuGuest.builder(name).workDir(dir.path()).nic(QemuGuest.VhostUserNic.client(socket).mac(mac))
                .ip(ip + "/24").vnet("mtu", "1450").command(script).waitSeconds(90)
                .timeLimit(Duration.ofMinutes(4)).start();
    }

    private static String ip(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return ExternalProcess.run(Duration.ofSeconds(30), cmd);
    }

    private static void ipQuiet(String... args) {
        try {
            ip(args);
        } catch (Exception absent) {
            // nothing to delete
        }
    }
}
