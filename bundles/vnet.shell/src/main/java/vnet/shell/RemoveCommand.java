package vnet.shell;

import static vnet.shell.VnetState.out;

import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.cm.Configuration;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.peer.PeerOptions;
import vnet.peer.PeerStatus;

/** {@code vnet:remove}: deletes a link's or switch's configuration (and its ports'), a port's or a host peer's. */
@Component(service = RemoveCommand.class, property = {"osgi.command.scope=vnet", "osgi.command.function=remove"})
public final class RemoveCommand {
    static final Usage USAGE = new Usage("vnet:remove", "remove a p2p link or switch (with its ports), a port or a"
            + " host peer", List.of("vnet:remove p2p <name>", "vnet:remove switch <name>",
                    "vnet:remove port <link> <name>", "vnet:remove peer <vpN|peer=/bind= target>"),
            List.of(), List.of());

    @Reference
    private VnetState vnet;

    @Descriptor("remove a p2p link or switch (with its ports), a port or a host peer (vnet:remove --help)\n"
            + "   vnet:remove p2p <name> | vnet:remove switch <name> | vnet:remove port <link> <name> | vnet:remove peer <vpN|path>")
    public void remove(@Descriptor("p2p|switch|port|peer and its name") String... args) {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        Configs configs = vnet.configs();
        String kind = a.positional(0, "what to remove: p2p, switch, port or peer").toLowerCase(Locale.ROOT);
        switch (kind) {
            case "p2p", "switch" -> {
                String name = a.positional(1, "the name");
                a.atMost(2);
                Configuration c = configs.requireFabric(name);
                if (!c.getFactoryPid().equals(VnetState.factoryOf(kind))) {
                    throw new IllegalArgumentException("\"" + name + "\" is a " + VnetState.kindOf(c) + ", not a "
                            + VnetState.kindName(kind));
                }
                List<Configuration> ports = configs.ports(name);
                for (Configuration p : ports) {
                    Configs.delete(p);
                }
                Configs.delete(c);
                out().println("removed " + VnetState.kindName(kind) + " " + name + (ports.isEmpty() ? "" : " and its "
                        + ports.size() + " port" + (ports.size() == 1 ? "" : "s")));
            }
            case "port" -> {
                String link = a.positional(1, "the link or switch");
                String name = a.positional(2, "the port name");
                a.atMost(3);
                configs.requireFabric(link);
                Configuration p = configs.port(link, name);
                if (p == null) {
                    throw new IllegalArgumentException("no port \"" + name + "\" on \"" + link + "\"");
                }
                Configs.delete(p);
                out().println("removed port " + link + "/" + name);
            }
            case "peer" -> {
                String which = a.positional(1, "the peer's interface (vpN) or what its peer= or bind= says");
                a.atMost(2);
                Configs.delete(findPeer(which));
                out().println("removed host peer " + which);
            }
            default -> throw a.error("\"" + a.positional().get(0) + "\": say p2p, switch, port or peer");
        }
    }

    private Configuration findPeer(String which) {
        for (Configuration c : vnet.configs().peers()) {
            PeerOptions o = VnetState.parsedOrNull(c);
            PeerStatus s = o == null ? null : vnet.peerStatus(o);
            if (which.equals(c.getPid()) || which.equals(Configs.string(c, "options", null)) || o != null
                    && (which.equals(o.target()) || s != null && which.equals(s.interfaceName()))) {
                return c;
            }
        }
        throw new IllegalArgumentException("no host peer \"" + which
                + "\" (give its interface, e.g. vp0, or what its peer= or bind= says; vnet:list shows them)");
    }
}
