package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * Host peers made and removed with {@code vnet:create peer} and the QNX option string, for real: the whole
 * runtime runs inside a network namespace this test creates, so its TAP interfaces appear there and nowhere
 * else. One host peer attaches to a switch's vhost-user port by socket path, one in-process to an inproc port
 * ({@code peer=<switch>:<port>}).
 */
@Tag("real-peer")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HostPeerCommandsTest {

    @Test
    void createListAndRemoveHostPeersInANamespace() throws Exception {
        String ns = "vnetst-" + ProcessHandle.current().pid();
        ip("netns", "add", ns);
        try (WorkDir dir = WorkDir.create("vnet-st-");
                VnetRuntime vnet = VnetRuntime.startIn(ns, dir.path(), dir.resolve("run"), "-Dvnet.default=false")) {
            vnet.run("vnet:create switch sw");
            vnet.run("vnet:create port sw up mac=02:00:00:00:20:01");
            vnet.run("vnet:create port sw hp --transport inproc mac=02:00:00:00:20:02");
            String bySocket = vnet.run("vnet:create peer peer=" + dir.resolve("run/sw/up.sock") + ",mac=020000002003,priority=5");
            assertTrue(bySocket.contains("created host peer vp0"), bySocket);
            String byPort = vnet.run("vnet:create peer peer=sw:hp,name=hp");
            assertTrue(byPort.contains("created host peer hp0"), byPort);

            List<String> again = VnetRuntime.printed(vnet.run("vnet:create peer peer=sw:hp,name=hq"));
            assertEquals(List.of("error: a host peer of peer=sw:hp exists already"), again);

            String list = vnet.run("vnet:list");
            assertTrue(list.contains("host peer vp0  up"), list);
            assertTrue(list.contains("host peer hp0  up"), list);
            String links = ip("netns", "exec", ns, "ip", "-o", "link", "show");
            assertTrue(links.contains(" vp0: ") && links.contains(" hp0: "), links);
            assertTrue(links.contains("02:00:00:00:20:03"), "vp0 has its mac=\n" + links);

            vnet.run("vnet:remove peer vp0");
            vnet.run("vnet:remove peer sw:hp");
            links = ip("netns", "exec", ns, "ip", "-o", "link", "show");
            assertFalse(links.contains(" vp0: ") || links.contains(" hp0: "), "removed peers take their TAPs along\n" + links);
        } finally {
            ip("netns", "delete", ns);
        }
    }

    private static String ip(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return ExternalProcess.run(Duration.ofSeconds(20), cmd);
    }
}
