package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.WorkDir;

/**
 * In the runtime jar: every bad option of {@code vnet:create} is a one-line error and nothing is configured
 * ({@code vnet:list --json} shows the configurations, whatever runs); {@code --help} works on every command and
 * shows the defaults; missing or wrong arguments give a usage line, never Gogo's coercion messages.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CreateValidationTest {

    @Test
    void badCreateOptionsAreRefusedBeforeAnythingIsConfigured() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dvnet.default=false")) {
            assertTrue(vnet.run("vnet:create switch s4 --max-ports 1").contains("created switch s4"));
            assertTrue(vnet.run("vnet:create port s4 a mac=02:00:00:00:04:01").contains("created port s4/a"));
            String[][] cases = {
                    {"vnet:create switch s0 --max-ports 0", "error: --max-ports 0 is out of range 1..4096"},
                    {"vnet:create switch s0 --max-ports 5000", "error: --max-ports 5000 is out of range 1..4096"},
                    {"vnet:create switch s0 --mac-aging 0", "error: --mac-aging 0 is out of range 1.."},
                    {"vnet:create switch s0 --mac-table-size 0", "error: --mac-table-size 0 is out of range 1..1048576"},
                    {"vnet:create switch s0 -p -1", "error: --poll -1 is out of range 0.."},
                    {"vnet:create switch s0 -p x", "error: --poll x is not a number"},
                    {"vnet:create switch s0 -s 300", "error: --size 300 is not a power of 2 in 1..32768"},
                    {"vnet:create switch s0 -d /nonexistent/ds", "error: trusted dataspace /nonexistent/ds does not exist"},
                    {"vnet:create switch s0 --bogus 1", "error: unknown option --bogus; usage: vnet:create switch <name>"},
                    {"vnet:create switch s0 --vlan trunk:all", "error: --vlan applies to ports"},
                    {"vnet:create p2p l0 --max-ports 4", "error: --max-ports applies to switches"},
                    {"vnet:create switch s0 extra", "error: unexpected argument \"extra\"; usage: vnet:create switch"},
                    {"vnet:create switch", "error: missing the switch name; usage: vnet:create switch <name>"},
                    {"vnet:create switch s0 --max-ports", "error: --max-ports needs a value <n>"},
                    {"vnet:create port s4 b", "error: switch \"s4\" has 1 ports already (max.ports=1)"},
                    {"vnet:create port s4 c -t rdma", "error: unknown transport \"rdma\" (installed: inproc, vhost-user, vxlan)"},
                    {"vnet:create port s4 d ds-max=81", "error: ds-max=81 is out of range 1..80"},
                    {"vnet:create port s4 d mac=zz", "error: "},
                    {"vnet:create port s4 d --vlan trunk:5000", "error: "},
                    {"vnet:create port s4 d -p 10", "error: --poll applies to p2p links and switches"},
                    {"vnet:create port s4 d --transport inproc --socket /tmp/x.sock",
                            "error: --socket and --client apply to vhost-user ports, not to inproc"},
                    {"vnet:create port s4", "error: missing the port name; usage: vnet:create port <link> <name>"},
                    {"vnet:create peer peer=s4:hp9", "error: peer=s4:hp9: no port \"hp9\" on \"s4\""},
                    {"vnet:create peer peer=s4:a,mac=020000000999", "differs from port s4/a's mac=02:00:00:00:04:01"},
                    {"vnet:create", "error: missing what to create: p2p, switch, port or peer; usage: vnet:create p2p"},
            };
            for (String[] c : cases) {
                List<String> lines = VnetRuntime.printed(vnet.run(c[0]));
                assertEquals(1, lines.size(), c[0] + " printed " + lines);
                assertTrue(lines.get(0).startsWith(c[1]) || c[1].startsWith("differs") && lines.get(0).contains(c[1]),
                        c[0] + " printed " + lines);
                assertFalse(lines.get(0).contains("coerce"), lines.get(0));
            }
            // Nothing of the above was configured: only s4 and its port a.
            String json = VnetRuntime.printed(vnet.run("vnet:list --json")).get(0);
            assertTrue(json.startsWith("{\"links\":[{\"name\":\"s4\",\"kind\":\"switch\",\"running\":true"), json);
            assertEquals(1, json.split("\"kind\"").length - 1, "one link or switch: " + json);
            assertEquals(1, json.split("\"transport\"").length - 1, "one port: " + json);
            assertTrue(json.endsWith("\"peers\":[]}"), json);
        }
    }

    @Test
    void everyCommandHasHelpAndAUsageLine() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dvnet.default=false")) {
            for (String c : List.of("create", "remove", "list", "stats", "mactable", "queues", "capture", "qemu", "exit")) {
                String help = vnet.run("vnet:" + c + " --help");
                assertTrue(help.contains("usage: vnet:" + c), c + ": " + help);
                assertFalse(help.contains("error: ") || help.contains("coerce"), c + ": " + help);
            }
            String create = vnet.run("vnet:create --help");
            assertTrue(create.contains("--max-ports <n>") && create.contains("(default 256)"), create);
            assertTrue(create.contains("--mac-aging <s>") && create.contains("(default 300)"), create);
            assertTrue(create.contains("--mac-table-size <n>") && create.contains("(default 4096)"), create);
            assertTrue(create.contains("-t, --transport <transport>") && create.contains("(default vhost-user)"), create);
            String stats = vnet.run("vnet:stats --help");
            assertTrue(stats.contains("tx = what the port's client"), stats);
            for (String[] c : new String[][] {
                    {"vnet:list x", "error: unexpected argument \"x\"; usage: vnet:list [--json]"},
                    {"vnet:list --bogus", "error: unknown option --bogus; usage: vnet:list [--json]"},
                    {"vnet:mactable", "error: missing the switch; usage: vnet:mactable <switch>"},
                    {"vnet:queues", "error: missing the link or switch; usage: vnet:queues <link> <port>"},
                    {"vnet:qemu x", "error: missing the port; usage: vnet:qemu <link> <port>"},
                    {"vnet:remove", "error: missing what to remove"},
                    {"vnet:capture", "error: missing start, stop or list"},
                    {"vnet:stats a b c", "error: unexpected argument \"c\""},
                    {"vnet:exit x", "error: exit code \"x\" is not a number in 0..255"}}) {
                List<String> lines = VnetRuntime.printed(vnet.run(c[0]));
                assertEquals(1, lines.size(), c[0] + " printed " + lines);
                assertTrue(lines.get(0).startsWith(c[1]), c[0] + " printed " + lines);
            }
        }
    }

    @Test
    void captureRefusesWhatItCannotDo() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dvnet.default=false")) {
            vnet.run("vnet:create switch sw");
            vnet.run("vnet:create port sw a");
            assertEquals(List.of("error: cannot capture to /nonexistent/ops/x.pcap: folder /nonexistent/ops does not"
                    + " exist"), VnetRuntime.printed(vnet.run("vnet:capture start sw a /nonexistent/ops/x.pcap")));
            assertFalse(java.nio.file.Files.exists(java.nio.file.Path.of("/nonexistent/ops")));
            assertEquals(List.of("error: no capture runs on sw/a"), VnetRuntime.printed(vnet.run("vnet:capture stop sw a")));
            String pcap = dir.resolve("a.pcap").toString();
            assertTrue(vnet.run("vnet:capture start sw a " + pcap).contains("capturing sw/a"));
            assertTrue(VnetRuntime.printed(vnet.run("vnet:capture start sw a " + dir.resolve("b.pcap"))).get(0)
                    .startsWith("error: sw/a is being captured already"));
            String list = vnet.run("vnet:capture list");
            assertTrue(list.contains("capturing sw/a") && list.contains("1 capture running"), list);
            assertTrue(vnet.run("vnet:capture stop sw a").contains("stopped"));
            assertTrue(vnet.run("vnet:capture list").contains("0 captures running"));
        }
    }
}
