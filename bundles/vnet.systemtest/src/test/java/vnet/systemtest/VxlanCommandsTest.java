package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.ExternalProcess;
import vnet.testing.WorkDir;

/**
 * {@code vnet:create port sw up -t vxlan ...} in the runtime jar, run inside a network namespace this test creates
 * ({@code vx-cmd}, with 192.0.2.101 on a veth): a good tunnel port comes up; each bad option is a one-line error
 * and the switch is as it was.
 */
@Tag("real-peer")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class VxlanCommandsTest {
    private static final String NS = "vx-cmd";

    @Test
    void aTunnelPortFromTheShellAndEveryBadOptionInOneLine() throws Exception {
        ip("netns", "del", NS, "ignore");
        ip("netns", "add", NS);
        try (WorkDir dir = WorkDir.create("vnet-st-vxlan-")) {
            ip("netns", "exec", NS, "ip", "link", "set", "lo", "up");
            ip("netns", "exec", NS, "ip", "link", "add", "vx-c0", "type", "veth", "peer", "name", "vx-c1");
            ip("netns", "exec", NS, "ip", "addr", "add", "192.0.2.101/24", "dev", "vx-c0");
            ip("netns", "exec", NS, "ip", "link", "set", "vx-c0", "up");
            ip("netns", "exec", NS, "ip", "link", "set", "vx-c1", "up");
            try (VnetRuntime vnet = VnetRuntime.startIn(NS, dir.path(), dir.resolve("run"), "-Dvnet.default=false")) {
                vnet.run("vnet:create switch sw");
                vnet.run("vnet:create port sw g mac=02:00:00:00:00:01");
                String created = vnet.run("vnet:create port sw up -t vxlan vni=42 local=192.0.2.101 remote=192.0.2.102,192.0.2.103");
                assertTrue(created.contains("created port sw/up: vxlan ds-max=2 vni=42 local=192.0.2.101 "
                        + "remote=192.0.2.102,192.0.2.103"), created);
                String sockets = ip("netns", "exec", NS, "ss", "-uan");
                assertTrue(sockets.contains("192.0.2.101:4789"), "the tunnel listens on local:4789\n" + sockets);
                String before = vnet.run("vnet:list");
                assertTrue(before.contains("port up") && before.contains("port g"), before);

                String[][] cases = {
                        {"vni=0 local=192.0.2.101 remote=192.0.2.102", "vni=0 is out of range 1..16777215"},
                        {"vni=16777216 local=192.0.2.101 remote=192.0.2.102", "vni=16777216 is out of range 1..16777215"},
                        {"vni=42 local=192.0.2.1O1 remote=192.0.2.102", "local=192.0.2.1O1 is not an IPv4 address"},
                        {"vni=42 local=192.0.2.101 remote=192.0.2.102,192.0.2", "remote=192.0.2.102,192.0.2: \"192.0.2\" is not an IPv4 address"},
                        {"vni=42 remote=192.0.2.102", "a vxlan port needs local=<IPv4 address>"},
                        {"vni=42 local=192.0.2.101", "a vxlan port needs remote=<IPv4 address>[,<IPv4 address>...]"},
                        {"vni=42 local=192.0.2.101 remote=192.0.2.102 dstport=70000", "dstport=70000 is out of range 1..65535"},
                        {"vni=42 local=192.0.2.101 remote=192.0.2.102 ttl=3", "unknown option \"ttl=3\""},
                };
                for (String[] c : cases) {
                    List<String> lines = VnetRuntime.printed(vnet.run("vnet:create port sw up2 -t vxlan " + c[0]));
                    assertEquals(1, lines.size(), c[0] + " printed " + lines);
                    assertTrue(lines.get(0).startsWith("error: " + c[1]), c[0] + " printed " + lines);
                }
                List<String> vhost = VnetRuntime.printed(vnet.run("vnet:create port sw v2 vni=42"));
                assertEquals(List.of("error: unknown option \"vni=42\" (expected ds-max=<1..80>, "
                        + "mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>, flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535> or queues=<1..64>)"), vhost, "a vhost-user port takes no vxlan options");
                assertEquals(before, vnet.run("vnet:list"), "nothing on the switch changed");
                // The transport is hot-removed and added like any bundle: its port goes down and comes back.
                java.util.regex.Matcher id = java.util.regex.Pattern.compile("(?m)^\\s*(\\d+)\\|.*vnet\\.transport\\.vxlan")
                        .matcher(vnet.run("lb -s"));
                assertTrue(id.find(), "the vxlan bundle is installed");
                vnet.run("stop " + id.group(1));
                Thread.sleep(1000);
                sockets = ip("netns", "exec", NS, "ss", "-uan");
                assertTrue(!sockets.contains("192.0.2.101:4789"), "stopping the transport closed the tunnel\n" + sockets);
                String down = vnet.run("vnet:list");
                assertTrue(down.contains("port g") && down.contains("(configured, not up: transport vxlan"), down);
                List<String> missing = VnetRuntime.printed(vnet.run("vnet:create port sw up3 -t vxlan vni=42 local=192.0.2.101 "
                        + "remote=192.0.2.102"));
                assertEquals(1, missing.size(), "one line: " + missing);
                assertTrue(missing.get(0).startsWith("error: unknown transport \"vxlan\" (installed: "), missing.get(0));
                vnet.run("start " + id.group(1));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!ip("netns", "exec", NS, "ss", "-uan").contains("192.0.2.101:4789") && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                assertTrue(ip("netns", "exec", NS, "ss", "-uan").contains("192.0.2.101:4789"), "the tunnel is back");
                vnet.run("vnet:remove port sw up");
                sockets = ip("netns", "exec", NS, "ss", "-uan");
                assertTrue(!sockets.contains("192.0.2.101:4789"), "the removed tunnel closed its socket\n" + sockets);
            }
        } finally {
            ip("netns", "del", NS);
        }
    }

    private static String ip(String... args) throws Exception {
        boolean ignore = args[args.length - 1].equals("ignore");
        String[] a = ignore ? java.util.Arrays.copyOf(args, args.length - 1) : args;
        String[] cmd = new String[a.length + 1];
        cmd[0] = "ip";
        System.arraycopy(a, 0, cmd, 1, a.length);
        try {
            return ExternalProcess.run(Duration.ofSeconds(30), cmd);
        } catch (java.io.IOException e) {
            if (ignore) {
                return "";
            }
            throw e;
        }
    }
}
