package vnet.shell;

import static vnet.shell.Usage.flag;
import static vnet.shell.Usage.option;
import static vnet.shell.VnetState.out;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.cm.Configuration;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.peer.PeerOptions;
import vnet.peer.PeerStatus;
import vnet.switching.Fabric;
import vnet.switching.FabricPort;
import vnet.switching.FabricSettings;
import vnet.switching.MacAddress;
import vnet.switching.PortOptions;
import vnet.switching.Switch;
import vnet.switching.VlanMode;
import vnet.virtqueue.RingLayout;

/**
 * {@code vnet:create}: a p2p link, a switch, a port or a host peer, as a ConfigAdmin configuration (what an
 * {@code etc/*.cfg} file would hold). Every option is checked before anything is configured, so a bad value is a
 * one-line error that leaves nothing behind; the components check again (for {@code etc/*.cfg} and
 * {@code config:} edits), and when one refuses anyway its reason is the error and its configuration is removed.
 */
@Component(service = CreateCommand.class, property = {"osgi.command.scope=vnet", "osgi.command.function=create"})
public final class CreateCommand {
    static final Usage USAGE = new Usage("vnet:create",
            "create a p2p link, a switch, a port or a host peer (as a ConfigAdmin configuration)",
            List.of("vnet:create p2p <name> [-p <us> | --busy-poll] [-s <size>] [-d <file,...>] [--workers 1|2] [--cpus <list>]",
                    "vnet:create switch <name> [-p <us> | --busy-poll] [-s <size>] [-d <file,...>] [--max-ports <n>] [--mac-aging <s>]"
                            + " [--mac-table-size <n>] [--workers <n>] [--cpus <list>]",
                    "vnet:create port <link> <name> [ds-max=<1..80>] [mac=<xx:xx:xx:xx:xx:xx>] [max-macs=<n>]"
                            + " [flood-limit=<frames/s>] [offloads=on|off] [mtu=<68..65535>] [queues=<1..64>]"
                            + " [-t <transport>] [--socket <path>] [--client] [--vlan <mode>]"
                            + " [--monitor]",
                    "vnet:create port <switch> <name> -t vxlan vni=<1..16777215> local=<IPv4> remote=<IPv4>[,<IPv4>...]"
                            + " [dstport=<port>]",
                    "vnet:create peer peer=<port socket>|peer=<link>:<port>|bind=<socket>[,mac=<xxxxxxxxxxxx>]"
                            + "[,name=<prefix>][,legacy][,priority=<n>]"),
            List.of(option("-p", "--poll", "us", "p2p/switch: poll the queues every that many microseconds, guest"
                            + " notifications off (L4Re --poll); 0 = notification mode", "0"),
                    flag(null, "--busy-poll", "p2p/switch: busy-poll mode for a dedicated core: the worker polls without"
                            + " pause (no syscall, no sleep while frames flow), guest notifications off; excludes -p"),
                    option("-s", "--size", "size", "p2p/switch: largest virtqueue size, a power of 2 in 1..32768"
                            + " (L4Re --size)", "256"),
                    option("-d", "--register-ds", "file,...", "p2p/switch: trusted dataspaces: clients may share only"
                            + " these files as memory (L4Re --register-ds)", "any"),
                    option(null, "--workers", "n", "p2p/switch: data-path threads, 1.." + FabricSettings.MAX_WORKERS
                            + " (a switch spreads its ports over them; a p2p link takes 1 or 2, one per direction)", "1"),
                    option(null, "--cpus", "list", "p2p/switch: pin worker i to the i-th CPU of the list (e.g. 2,3 or"
                            + " 2-5), round-robin", "not pinned"),
                    option(null, "--max-ports", "n", "switch: most ports, 1.." + Switch.MAX_PORTS_LIMIT,
                            Integer.toString(Switch.DEFAULT_MAX_PORTS)),
                    option(null, "--mac-aging", "s", "switch: seconds a learned MAC address lives unseen, >= 1",
                            Integer.toString(Switch.DEFAULT_MAC_AGING_SECONDS)),
                    option(null, "--mac-table-size", "n", "switch: most learned MAC addresses, 1.."
                            + Switch.MAC_TABLE_SIZE_LIMIT, Integer.toString(Switch.DEFAULT_MAC_TABLE_SIZE)),
                    option("-t", "--transport", "transport", "port: vhost-user, inproc (a Java bundle in this"
                            + " framework attaches) or vxlan (a tunnel to other hosts)", "vhost-user"),
                    option(null, "--socket", "path", "port: the vhost-user socket", "<runtime.dir>/<link>/<name>.sock"),
                    flag(null, "--client", "port: vnet connects to a listening front-end (QEMU server=on) instead of"
                            + " listening"),
                    option(null, "--vlan", "mode", "port on a switch: access:<id>, trunk:<id>,<id>... or trunk:all",
                            "access:1"),
                    flag(null, "--monitor", "port on a switch: a monitor port (gets a copy of all traffic, may not"
                            + " send)")),
            List.of("port options: ds-max=<n> most memory regions its front-end may share (default 2);"
                            + " mac=<addr> the guest's MAC (the switch drops frames from other sources)",
                    "peer options: see README, host peers; peer=<link>:<port> attaches in-process to a port of this vnet"));

    private static final String[] FABRIC_OPTIONS = {"--poll", "--busy-poll", "--size", "--register-ds", "--workers",
        "--cpus"};
    private static final String[] SWITCH_OPTIONS = {"--max-ports", "--mac-aging", "--mac-table-size"};
    private static final String[] PORT_OPTIONS = {"--transport", "--socket", "--client", "--vlan", "--monitor"};

    @Reference
    private VnetState vnet;

    @Descriptor("create a p2p link, a switch, a port or a host peer; vnet:create --help shows the options and defaults\n"
            + "   vnet:create p2p <name> [-p|--poll us] [-s|--size size] [-d|--register-ds dataspace,...]\n"
            + "   vnet:create switch <name> [-p us] [-s size] [-d dataspace,...] [--max-ports n] [--mac-aging s] [--mac-table-size n]\n"
            + "   vnet:create port <link> <name> [ds-max=<1..80>] [mac=<xx:xx:xx:xx:xx:xx>] [--transport t] [--socket path] [--client] [--vlan v] [--monitor]\n"
            + "   vnet:create peer peer=<port socket>|peer=<link>:<port>|bind=<socket>[,mac=<xxxxxxxxxxxx>][,name=<prefix>][,legacy][,priority=<n>]")
    public void create(@Descriptor("p2p|switch|port|peer, names and options (vnet:create --help)") String... args)
            throws InterruptedException {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        String kind = a.positional(0, "what to create: p2p, switch, port or peer").toLowerCase(Locale.ROOT);
        switch (kind) {
            case "p2p", "switch" -> {
                a.refuse("applies to ports", PORT_OPTIONS);
                if ("p2p".equals(kind)) {
                    a.refuse("applies to switches", SWITCH_OPTIONS);
                }
                createFabric(kind, a);
            }
            case "port" -> {
                a.refuse("applies to p2p links and switches; a port takes ds-max=<n> and mac=<addr>", FABRIC_OPTIONS);
                a.refuse("applies to switches; a port takes ds-max=<n> and mac=<addr>", SWITCH_OPTIONS);
                createPort(a);
            }
            case "peer" -> {
                a.refuse("applies to p2p links and switches", FABRIC_OPTIONS);
                a.refuse("applies to switches", SWITCH_OPTIONS);
                a.refuse("applies to ports", PORT_OPTIONS);
                createPeer(a);
            }
            default -> throw a.error("\"" + a.positional().get(0) + "\": say p2p, switch, port or peer");
        }
    }

    private void createFabric(String kind, Usage.Parsed a) throws InterruptedException {
        Configs configs = vnet.configs();
        String name = Configs.checkName(VnetState.kindName(kind), a.positional(1, "the " + VnetState.kindName(kind)
                + " name"));
        a.atMost(2);
        Configuration existing = configs.fabric(name);
        if (existing != null) {
            throw new IllegalArgumentException("a " + VnetState.kindOf(existing) + " called \"" + name
                    + "\" exists already");
        }
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("name", name);
        long poll = a.number("--poll", 0, 60_000_000, -1);
        boolean busyPoll = a.has("--busy-poll");
        if (busyPoll && poll > 0) {
            throw a.valueError("--busy-poll and -p " + poll + " exclude each other: busy polling has no interval");
        }
        if (poll >= 0) {
            p.put("poll", poll);
        }
        if (busyPoll) {
            p.put("busy.poll", Boolean.TRUE);
        }
        long size = a.number("--size", 1, 32768, -1);
        if (size >= 0) {
            if (!RingLayout.isPowerOfTwoSize((int) size)) {
                throw a.valueError("--size " + size + " is not a power of 2 in 1..32768");
            }
            p.put("size", (int) size);
        }
        if (a.has("--register-ds")) {
            List<String> ds = new ArrayList<>();
            for (String d : a.get("--register-ds").split(",")) {
                if (!d.isBlank()) {
                    Path path = Path.of(d.trim()).toAbsolutePath();
                    if (!Files.exists(path)) {
                        throw new IllegalArgumentException("trusted dataspace " + path + " does not exist");
                    }
                    ds.add(path.toString());
                }
            }
            if (ds.isEmpty()) {
                throw a.valueError("--register-ds names no file");
            }
            FabricSettings.identify(ds.toArray(new String[0])); // the component's own check: each file usable
            p.put("register.ds", ds.toArray(new String[0]));
        }
        long workers = a.number("--workers", 1, "p2p".equals(kind) ? 2 : FabricSettings.MAX_WORKERS, -1);
        if (workers >= 0) {
            p.put("workers", (int) workers);
        }
        if (a.has("--cpus")) {
            String cpus = a.get("--cpus");
            try {
                FabricSettings.parseCpus(cpus);
            } catch (IllegalArgumentException e) {
                throw a.valueError("--cpus " + cpus + " is not a CPU list (e.g. 0-3,6)");
            }
            p.put("cpus", cpus);
        }
        long maxPorts = a.number("--max-ports", 1, Switch.MAX_PORTS_LIMIT, -1);
        if (maxPorts >= 0) {
            p.put("max.ports", (int) maxPorts);
        }
        long aging = a.number("--mac-aging", 1, Integer.MAX_VALUE, -1);
        if (aging >= 0) {
            p.put("mac.aging", (int) aging);
        }
        long tableSize = a.number("--mac-table-size", 1, Switch.MAC_TABLE_SIZE_LIMIT, -1);
        if (tableSize >= 0) {
            p.put("mac.table.size", (int) tableSize);
        }
        Configuration c = configs.create(VnetState.factoryOf(kind), name, p);
        Fabric f = vnet.awaitUp(() -> vnet.fabric(name), c, VnetState.UP_WAIT_MILLIS);
        if (f == null) {
            refused(c, VnetState.kindName(kind) + " " + name, "is vnet.switching running?");
            return;
        }
        out().println("created " + VnetState.describe(f));
    }

    private void createPort(Usage.Parsed a) throws InterruptedException {
        Configs configs = vnet.configs();
        String link = a.positional(1, "the link or switch of the port");
        String name = Configs.checkName("port", a.positional(2, "the port name"));
        Configuration fabric = configs.requireFabric(link);
        String options = String.join(" ", a.positional().subList(3, a.positional().size())).trim();
        boolean p2p = Configs.P2P.equals(fabric.getFactoryPid());
        String vlan = a.get("--vlan");
        boolean monitor = a.has("--monitor");
        if (vlan != null) {
            VlanMode.parse(vlan);
        }
        if (p2p && (vlan != null || monitor)) {
            throw new IllegalArgumentException("--vlan and --monitor apply to switch ports; \"" + link
                    + "\" is a p2p link");
        }
        String transport = a.has("--transport") ? a.get("--transport").trim() : "vhost-user";
        TreeSet<String> installed = vnet.transports();
        if (!installed.contains(transport)) {
            throw a.valueError("unknown transport \"" + transport + "\" (installed: "
                    + (installed.isEmpty() ? "none" : String.join(", ", installed)) + ")");
        }
        PortOptions parsed = vnet.portOptions(options, transport);
        if (!"vhost-user".equals(transport) && (a.has("--socket") || a.has("--client"))) {
            throw a.valueError("--socket and --client apply to vhost-user ports, not to " + transport);
        }
        if (a.has("--socket")) {
            Path dir = Path.of(a.get("--socket")).toAbsolutePath().getParent();
            if (dir == null || !Files.isDirectory(dir) && Files.exists(dir)) {
                throw new IllegalArgumentException("--socket " + a.get("--socket") + ": " + dir + " is not a folder");
            }
        }
        if (configs.port(link, name) != null) {
            throw new IllegalArgumentException("port \"" + name + "\" exists already on \"" + link + "\"");
        }
        List<Configuration> siblings = configs.ports(link);
        if (p2p && siblings.size() >= 2) {
            throw new IllegalArgumentException("p2p link \"" + link + "\" has two ports already ("
                    + Configs.string(siblings.get(0), "name", "?") + ", " + Configs.string(siblings.get(1), "name", "?")
                    + "); use a switch for more");
        }
        if (!p2p) {
            int maxPorts = Configs.integer(fabric, "max.ports", Switch.DEFAULT_MAX_PORTS);
            if (siblings.size() >= maxPorts) {
                throw new IllegalArgumentException("switch \"" + link + "\" has " + siblings.size()
                        + " ports already (max.ports=" + maxPorts + ")");
            }
        }
        if (parsed.mac() != MacAddress.NONE) {
            for (Configuration s : siblings) {
                PortOptions other = portOptionsOrNull(s);
                if (other != null && other.mac() == parsed.mac()) {
                    throw new IllegalArgumentException("mac=" + MacAddress.toString(parsed.mac())
                            + " is used by port \"" + Configs.string(s, "name", "?") + "\" already");
                }
            }
        }
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("link", link);
        p.put("name", name);
        if (!options.isEmpty()) {
            p.put("options", parsed.toString());
        }
        if (a.has("--transport")) {
            p.put("transport", transport);
        }
        if (a.has("--socket")) {
            p.put("socket", Path.of(a.get("--socket")).toAbsolutePath().toString());
        }
        if (a.has("--client")) {
            p.put("client", Boolean.TRUE);
        }
        if (vlan != null) {
            p.put("vlan", vlan);
        }
        if (monitor) {
            p.put("monitor", Boolean.TRUE);
        }
        Configuration port = configs.create(Configs.PORT, link + "." + name, p);
        FabricPort up = vnet.awaitUp(() -> vnet.port(link, name), port, VnetState.UP_WAIT_MILLIS);
        if (up == null) {
            refused(port, "port " + link + "/" + name, "is \"" + link + "\" running? (vnet:list)");
            return;
        }
        out().println("created port " + link + "/" + name + ": " + up.endpoint() + " " + up.options());
        if ("vhost-user".equals(transport)) {
            QemuCommand.printQemu(port, fabric, parsed, vnet.runtimeDir());
        } else if (!parsed.transport().isEmpty()) {
            out().println("a " + transport + " tunnel port: " + up.options());
        } else if ("inproc".equals(transport)) {
            out().println("a bundle attaches to it as the service vnet.transport.shm.inproc.InprocPort with"
                    + " (vnet.port.name=" + name + ")");
        }
    }

    private void createPeer(Usage.Parsed a) throws InterruptedException {
        Configs configs = vnet.configs();
        String text = a.positional(1, "the peer's options: peer=<socket>, peer=<link>:<port> or bind=<socket>");
        if (a.positional().size() > 2) {
            throw a.error("the peer's options are one argument without spaces (comma-separated)");
        }
        PeerOptions parsed = PeerOptions.parseOne(text.trim());
        for (Configuration c : configs.peers()) {
            PeerOptions other = VnetState.parsedOrNull(c);
            if (other != null && other.isBind() == parsed.isBind() && other.target().equals(parsed.target())) {
                throw new IllegalArgumentException("a host peer of " + (parsed.isBind() ? "bind=" : "peer=")
                        + parsed.target() + " exists already");
            }
        }
        if (parsed.isSwitchPort()) {
            checkPeerPort(configs, parsed);
        }
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("options", parsed.toOptionString());
        String id = parsed.target().replaceAll("[^A-Za-z0-9_-]", "_");
        Configuration c = configs.create(Configs.PEER, id, p);
        PeerStatus up = vnet.awaitUp(() -> vnet.peerStatus(parsed), c, VnetState.UP_WAIT_MILLIS);
        if (up == null) {
            refused(c, "host peer " + parsed.toOptionString(), "is vnet.peer running, may this process create TAP"
                    + " interfaces?");
            return;
        }
        out().println("created host peer " + up.interfaceName() + ": " + parsed.toOptionString()
                + (up.isConnected() ? ", connected" : ", not connected yet"));
        out().println("the TAP " + up.interfaceName() + " is down and has no address: ip link set " + up.interfaceName()
                + " up; ip addr add <address>/<prefix> dev " + up.interfaceName());
    }

    /** peer=<link>:<port>: the port must be configured, and a mac= must be the port's (else all is "spoofed"). */
    private static void checkPeerPort(Configs configs, PeerOptions parsed) {
        String link = parsed.peerPort().link();
        String port = parsed.peerPort().port();
        configs.requireFabric(link);
        Configuration pc = configs.port(link, port);
        if (pc == null) {
            throw new IllegalArgumentException("peer=" + link + ":" + port + ": no port \"" + port + "\" on \"" + link
                    + "\" (create it first: vnet:create port " + link + " " + port + " --transport inproc)");
        }
        PortOptions po = portOptionsOrNull(pc);
        if (po != null && po.mac() != MacAddress.NONE && parsed.mac() != PeerOptions.NO_MAC && parsed.mac() != po.mac()) {
            throw new IllegalArgumentException("mac=" + parsed.macString() + " differs from port " + link + "/" + port
                    + "'s mac=" + MacAddress.toString(po.mac()) + ": the switch would drop every frame of this peer"
                    + " as spoofed; give the port's MAC or leave mac= out");
        }
    }

    private static PortOptions portOptionsOrNull(Configuration port) {
        try {
            return PortOptions.parseAnyTransport(Configs.string(port, "options", ""));
        } catch (IllegalArgumentException bad) {
            return null;
        }
    }

    /**
     * What was configured is not up: when its component refused it (SCR says why), the configuration is removed and
     * the reason is the error; else it may still come up, and the user is told where to look.
     */
    private void refused(Configuration c, String what, String hint) {
        String why = vnet.failure(c);
        if (why != null) {
            Configs.delete(c);
            throw new IllegalArgumentException(what + " refused: " + why + " (its configuration is removed)");
        }
        out().println(what + " configured, but not up after " + VnetState.UP_WAIT_MILLIS / 1000 + " s: " + hint
                + " (vnet:list, the log)");
    }
}
