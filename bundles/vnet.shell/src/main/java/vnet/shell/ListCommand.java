package vnet.shell;

import static vnet.shell.Usage.flag;
import static vnet.shell.VnetState.out;

import java.io.PrintStream;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.cm.Configuration;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.peer.PeerOptions;
import vnet.peer.PeerStatus;
import vnet.switching.Fabric;
import vnet.switching.FabricPort;

/** {@code vnet:list}: every configured link, switch, port and host peer, whether it runs, and why not. */
@Component(service = ListCommand.class, property = {"osgi.command.scope=vnet", "osgi.command.function=list"})
public final class ListCommand {
    static final Usage USAGE = new Usage("vnet:list", "list p2p links, switches, their ports and the host peers;"
            + " what is configured but not running says why", List.of("vnet:list [--json]"),
            List.of(flag(null, "--json", "one JSON object: links (with their ports) and peers")), List.of());

    @Reference
    private VnetState vnet;

    @Descriptor("list p2p links, switches, their ports and the host peers\n   vnet:list [--json]")
    public void list(@Descriptor("--json") String... args) throws InterruptedException {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        a.atMost(0);
        // What was configured a moment ago (a script, the default job) may still be coming up: give it a little time.
        vnet.awaitUp(() -> vnet.allUp() ? Boolean.TRUE : null, null, VnetState.SETTLE_MILLIS);
        if (a.has("--json")) {
            out().println(json());
        } else {
            text(out());
        }
    }

    private void text(PrintStream out) {
        Configs configs = vnet.configs();
        List<Configuration> all = configs.fabrics();
        if (all.isEmpty()) {
            out.println("no p2p links or switches (create one with vnet:create p2p <name>)");
        }
        for (Configuration c : all) {
            String name = Configs.string(c, "name", "?");
            Fabric f = vnet.fabric(name);
            if (f == null) {
                String why = vnet.failure(c);
                out.println(VnetState.kindOf(c) + " " + name + "  (configured, not running: "
                        + (why == null ? "see the log" : why) + ")");
            } else {
                out.println(VnetState.describe(f));
            }
            for (Configuration pc : configs.ports(name)) {
                String port = Configs.string(pc, "name", "?");
                FabricPort fp = vnet.port(name, port);
                if (fp == null) {
                    String why = vnet.failure(pc);
                    out.printf("  port %-12s (configured, not up: %s)%n", port, why != null ? why
                            : f == null ? "its " + VnetState.kindOf(c) + " is not running"
                            : "transport " + Configs.string(pc, "transport", "vhost-user") + " not attached; see the log");
                } else {
                    out.printf("  port %-12s %-4s %s  %s%s%s%s%n", port, fp.running() ? "up" : "down",
                            endpoint(fp), fp.options(), Configs.P2P.equals(c.getFactoryPid()) ? "" : " vlan " + fp.vlan(),
                            fp.monitor() ? " monitor" : "", fp.capturing() ? " capturing" : "");
                }
            }
        }
        for (Configuration c : configs.peers()) {
            PeerOptions o = VnetState.parsedOrNull(c);
            PeerStatus s = o == null ? null : vnet.peerStatus(o);
            if (s == null) {
                String why = vnet.failure(c);
                out.println("host peer " + Configs.string(c, "options", "?") + "  (configured, not running: "
                        + (why == null ? "see the log" : why) + ")");
            } else {
                out.println("host peer " + s.interfaceName() + "  " + (s.isConnected() ? "up" : "down") + "  "
                        + o.toOptionString() + "  " + s.stats());
            }
        }
    }

    /** An inproc port has no socket: say just "inproc". */
    static String endpoint(FabricPort fp) {
        return fp.endpoint().startsWith("inproc ") ? "inproc" : fp.endpoint();
    }

    private String json() {
        Configs configs = vnet.configs();
        Json j = new Json().open('{').key("links").open('[');
        for (Configuration c : configs.fabrics()) {
            String name = Configs.string(c, "name", "?");
            Fabric f = vnet.fabric(name);
            j.open('{').field("name", name).field("kind", Configs.P2P.equals(c.getFactoryPid()) ? "p2p" : "switch")
                    .field("running", f != null);
            if (f == null) {
                j.field("failure", vnet.failure(c));
            } else {
                j.field("poll_us", f.pollMicros()).field("queue_size", f.maxQueueSize());
            }
            j.key("ports").open('[');
            for (Configuration pc : configs.ports(name)) {
                String port = Configs.string(pc, "name", "?");
                FabricPort fp = vnet.port(name, port);
                j.open('{').field("name", port).field("transport", Configs.string(pc, "transport", "vhost-user"))
                        .field("attached", fp != null);
                if (fp == null) {
                    j.field("failure", vnet.failure(pc));
                } else {
                    j.field("up", fp.running()).field("endpoint", endpoint(fp)).field("options", fp.options().toString())
                            .field("vlan", fp.vlan().toString()).field("monitor", fp.monitor())
                            .field("capturing", fp.capturing());
                }
                j.close('}');
            }
            j.close(']').close('}');
        }
        j.close(']').key("peers").open('[');
        for (Configuration c : configs.peers()) {
            PeerOptions o = VnetState.parsedOrNull(c);
            PeerStatus s = o == null ? null : vnet.peerStatus(o);
            j.open('{').field("options", Configs.string(c, "options", "")).field("running", s != null);
            if (s != null) {
                j.field("interface", s.interfaceName()).field("connected", s.isConnected());
            } else {
                j.field("failure", vnet.failure(c));
            }
            j.close('}');
        }
        return j.close(']').close('}').toString();
    }
}
