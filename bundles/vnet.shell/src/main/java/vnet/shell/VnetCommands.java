package vnet.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import vnet.peer.PeerOptions;
import vnet.peer.PeerStatus;
import vnet.switching.Fabric;
import vnet.switching.FabricPort;
import vnet.switching.MacAddress;
import vnet.switching.MacEntry;
import vnet.switching.PortOptions;
import vnet.switching.PortStats;
import vnet.switching.QueueState;
import vnet.switching.VlanMode;
import vnet.virtio.net.Features;
import vnet.virtqueue.RingLayout;

/**
 * The Gogo commands of scope {@code vnet}. What they create and remove are ConfigAdmin configurations
 * ({@code vnet.p2p}, {@code vnet.switch}, {@code vnet.port}, {@code vnet.peer}), exactly what {@code etc/*.cfg}
 * files would hold; what they show comes from the running {@link Fabric} services. Errors are exceptions with
 * a one-line message, which Gogo and Karaf print as one line.
 */
@Component(service = VnetCommands.class, property = {
        "osgi.command.scope=vnet",
        "osgi.command.function=create",
        "osgi.command.function=remove",
        "osgi.command.function=list",
        "osgi.command.function=stats",
        "osgi.command.function=mactable",
        "osgi.command.function=queues",
        "osgi.command.function=capture",
        "osgi.command.function=qemu"})
public final class VnetCommands {
    /** How long create waits for what it configured to come up before saying it is not up yet. */
    static final long UP_WAIT_MILLIS = 5_000;
    /** How long list waits for configurations made a moment ago to come up. */
    static final long SETTLE_MILLIS = 3_000;

    @Reference
    private ConfigurationAdmin cm;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<Fabric> fabrics;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<PeerStatus> peers;

    private Configs configs;
    private String runtimeDir;
    private BundleContext context;

    @Activate
    void activate(BundleContext context) {
        this.context = context;
        configs = new Configs(cm);
        runtimeDir = context.getProperty(Configs.RUNTIME_DIR_PROPERTY);
    }

    // ---- create / remove ---------------------------------------------------------------------------------------

    @Descriptor("create a p2p link, a switch, a port or a host peer (as a ConfigAdmin configuration)\n"
            + "   vnet:create p2p <name> [-p us] [-s size] [-d dataspace,...]\n"
            + "   vnet:create switch <name> [-p us] [-s size] [-d dataspace,...] [--max-ports n] [--mac-aging s] [--mac-table-size n]\n"
            + "   vnet:create port <link> <name> [ds-max=<1..80>] [mac=<xx:xx:xx:xx:xx:xx>] [--transport t] [--socket path] [--client] [--vlan v] [--monitor]\n"
            + "   vnet:create peer peer=<port socket>|peer=<link>:<port>|bind=<socket>[,mac=<xxxxxxxxxxxx>][,name=<prefix>][,legacy][,priority=<n>]")
    public void create(
            @Descriptor("p2p/switch: poll mode, poll interval in microseconds (L4Re --poll); default 0 = guest notifications")
            @Parameter(names = {"-p", "--poll"}, absentValue = "-1") long poll,
            @Descriptor("p2p/switch: largest virtqueue size, a power of 2 in 1..32768 (L4Re --size); default 256")
            @Parameter(names = {"-s", "--size"}, absentValue = "-1") int size,
            @Descriptor("p2p/switch: trusted dataspaces, comma-separated file paths (L4Re --register-ds); clients may then share only those")
            @Parameter(names = {"-d", "--register-ds"}, absentValue = "") String registerDs,
            @Descriptor("switch: most ports")
            @Parameter(names = {"--max-ports"}, absentValue = "-1") int maxPorts,
            @Descriptor("switch: seconds a learned MAC address lives")
            @Parameter(names = {"--mac-aging"}, absentValue = "-1") long macAging,
            @Descriptor("switch: most learned MAC addresses")
            @Parameter(names = {"--mac-table-size"}, absentValue = "-1") int macTableSize,
            @Descriptor("port: transport, vhost-user (default) or inproc (a Java bundle in this framework attaches)")
            @Parameter(names = {"-t", "--transport"}, absentValue = "") String transport,
            @Descriptor("port: socket path; default <runtime.dir>/<link>/<name>.sock")
            @Parameter(names = {"--socket"}, absentValue = "") String socket,
            @Descriptor("port: vnet connects to a listening front-end (QEMU server=on) instead of listening")
            @Parameter(names = {"--client"}, presentValue = "true", absentValue = "false") boolean client,
            @Descriptor("port on a switch: VLAN mode, access:<id>, trunk:<id>,<id>... or trunk:all")
            @Parameter(names = {"--vlan"}, absentValue = "") String vlan,
            @Descriptor("port on a switch: monitor port (gets a copy of all traffic, may not send)")
            @Parameter(names = {"--monitor"}, presentValue = "true", absentValue = "false") boolean monitor,
            @Descriptor("what to create: p2p, switch, port or peer") String kind,
            @Descriptor("names and options, see above") String... args) throws InterruptedException {
        switch (kind(kind)) {
            case "p2p", "switch" -> {
                noPortOptions(kind, transport, socket, client, vlan, monitor);
                if ("p2p".equals(kind) && (maxPorts >= 0 || macAging >= 0 || macTableSize >= 0)) {
                    throw new IllegalArgumentException("--max-ports, --mac-aging and --mac-table-size apply to switches");
                }
                createFabric(kind, args, poll, size, registerDs, maxPorts, macAging, macTableSize);
            }
            case "port" -> {
                if (poll >= 0 || size >= 0 || !registerDs.isEmpty() || maxPorts >= 0 || macAging >= 0 || macTableSize >= 0) {
                    throw new IllegalArgumentException("-p, -s, -d, --max-ports, --mac-aging and --mac-table-size apply to"
                            + " p2p links and switches; a port takes ds-max=<n> and mac=<addr>");
                }
                createPort(args, transport, socket, client, vlan, monitor);
            }
            default -> {
                noPortOptions(kind, transport, socket, client, vlan, monitor);
                createPeer(args);
            }
        }
    }

    @Descriptor("remove a p2p link or switch (with its ports), a port or a host peer\n"
            + "   vnet:remove p2p <name> | vnet:remove switch <name> | vnet:remove port <link> <name> | vnet:remove peer <vpN|path>")
    public void remove(@Descriptor("what to remove: p2p, switch, port or peer") String kind,
            @Descriptor("its name (a port: link and name)") String... args) {
        switch (kind(kind)) {
            case "p2p", "switch" -> {
                String name = oneArg(args, "vnet:remove " + kind + " <name>");
                Configuration c = configs.requireFabric(name);
                if (!c.getFactoryPid().equals(factoryOf(kind))) {
                    throw new IllegalArgumentException("\"" + name + "\" is a " + kindOf(c) + ", not a " + kindName(kind));
                }
                List<Configuration> ports = configs.ports(name);
                for (Configuration p : ports) {
                    Configs.delete(p);
                }
                Configs.delete(c);
                out().println("removed " + kindName(kind) + " " + name + (ports.isEmpty() ? "" : " and its "
                        + ports.size() + " port" + (ports.size() == 1 ? "" : "s")));
            }
            case "port" -> {
                if (args.length != 2) {
                    throw new IllegalArgumentException("usage: vnet:remove port <link> <name>");
                }
                configs.requireFabric(args[0]);
                Configuration p = configs.port(args[0], args[1]);
                if (p == null) {
                    throw new IllegalArgumentException("no port \"" + args[1] + "\" on \"" + args[0] + "\"");
                }
                Configs.delete(p);
                out().println("removed port " + args[0] + "/" + args[1]);
            }
            default -> {
                String which = oneArg(args, "vnet:remove peer <interface-or-path>");
                Configuration peer = findPeer(which);
                Configs.delete(peer);
                out().println("removed host peer " + which);
            }
        }
    }

    private void createFabric(String kind, String[] args, long poll, int size, String registerDs, int maxPorts,
            long macAging, int macTableSize) throws InterruptedException {
        String name = Configs.checkName(kindName(kind), oneArg(args, "vnet:create " + kind + " <name> [options]"));
        Configuration existing = configs.fabric(name);
        if (existing != null) {
            throw new IllegalArgumentException("a " + kindOf(existing) + " called \"" + name + "\" exists already");
        }
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("name", name);
        if (poll >= 0) {
            p.put("poll", poll);
        }
        if (size >= 0) {
            if (!RingLayout.isPowerOfTwoSize(size)) {
                throw new IllegalArgumentException("size " + size + " is not a power of 2 in 1..32768");
            }
            p.put("size", size);
        }
        if (!registerDs.isBlank()) {
            List<String> ds = new ArrayList<>();
            for (String d : registerDs.split(",")) {
                if (!d.isBlank()) {
                    Path path = Path.of(d.trim()).toAbsolutePath();
                    if (!Files.exists(path)) {
                        throw new IllegalArgumentException("trusted dataspace " + path + " does not exist");
                    }
                    ds.add(path.toString());
                }
            }
            p.put("register.ds", ds.toArray(new String[0]));
        }
        if (maxPorts >= 0) {
            p.put("max.ports", maxPorts);
        }
        if (macAging >= 0) {
            p.put("mac.aging", macAging);
        }
        if (macTableSize >= 0) {
            p.put("mac.table.size", macTableSize);
        }
        configs.create(factoryOf(kind), name, p);
        Fabric f = await(() -> fabric(name));
        if (f == null) {
            out().println(kindName(kind) + " " + name + " configured, but not up after " + UP_WAIT_MILLIS / 1000
                    + " s: is vnet.switching running? (see the log)");
            return;
        }
        out().println("created " + describe(f));
    }

    private void createPort(String[] args, String transport, String socket, boolean client, String vlan,
            boolean monitor) throws InterruptedException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: vnet:create port <link> <name> [ds-max=<n>] [mac=<addr>] [--transport t]");
        }
        String link = args[0];
        String name = Configs.checkName("port", args[1]);
        Configuration fabric = configs.requireFabric(link);
        String options = String.join(" ", List.of(args).subList(2, args.length)).trim();
        PortOptions parsed = PortOptions.parse(options);
        if (!vlan.isBlank()) {
            VlanMode.parse(vlan);
        }
        if (Configs.P2P.equals(fabric.getFactoryPid()) && (!vlan.isBlank() || monitor)) {
            throw new IllegalArgumentException("--vlan and --monitor apply to switch ports; \"" + link + "\" is a p2p link");
        }
        if (configs.port(link, name) != null) {
            throw new IllegalArgumentException("port \"" + name + "\" exists already on \"" + link + "\"");
        }
        List<Configuration> siblings = configs.ports(link);
        if (Configs.P2P.equals(fabric.getFactoryPid()) && siblings.size() >= 2) {
            throw new IllegalArgumentException("p2p link \"" + link + "\" has two ports already ("
                    + Configs.string(siblings.get(0), "name", "?") + ", " + Configs.string(siblings.get(1), "name", "?")
                    + "); use a switch for more");
        }
        if (parsed.mac() != MacAddress.NONE) {
            for (Configuration s : siblings) {
                try {
                    if (PortOptions.parse(Configs.string(s, "options", "")).mac() == parsed.mac()) {
                        throw new IllegalArgumentException("mac=" + MacAddress.toString(parsed.mac())
                                + " is used by port \"" + Configs.string(s, "name", "?") + "\" already");
                    }
                } catch (IllegalArgumentException badSibling) {
                    if (badSibling.getMessage().startsWith("mac=" + MacAddress.toString(parsed.mac()))) {
                        throw badSibling;
                    }
                }
            }
        }
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("link", link);
        p.put("name", name);
        if (!options.isEmpty()) {
            p.put("options", parsed.toString());
        }
        if (!transport.isBlank()) {
            p.put("transport", transport);
        }
        if (!socket.isBlank()) {
            p.put("socket", Path.of(socket).toAbsolutePath().toString());
        }
        if (client) {
            p.put("client", Boolean.TRUE);
        }
        if (!vlan.isBlank()) {
            p.put("vlan", vlan);
        }
        if (monitor) {
            p.put("monitor", Boolean.TRUE);
        }
        Configuration port = configs.create(Configs.PORT, link + "." + name, p);
        FabricPort up = await(() -> {
            Fabric f = fabric(link);
            return f == null ? null : f.ports().stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
        });
        String t = transport.isBlank() ? "vhost-user" : transport;
        if (up == null) {
            out().println("port " + link + "/" + name + " configured, but not up after " + UP_WAIT_MILLIS / 1000
                    + " s: is the transport \"" + t + "\" installed? (see the log)");
            return;
        }
        out().println("created port " + link + "/" + name + ": " + up.endpoint() + " " + up.options());
        if ("vhost-user".equals(t)) {
            printQemu(port, fabric, parsed);
        } else if ("inproc".equals(t)) {
            out().println("a bundle attaches to it as the service vnet.transport.shm.inproc.InprocPort with (vnet.port.name="
                    + name + ")");
        }
    }

    private void createPeer(String[] args) throws InterruptedException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: vnet:create peer peer=<socket>|peer=<link>:<port>|bind=<socket>"
                    + "[,mac=<xxxxxxxxxxxx>][,name=<prefix>][,legacy][,priority=<n>] (one argument, no spaces)");
        }
        PeerOptions parsed = PeerOptions.parseOne(args[0].trim());
        for (Configuration c : configs.peers()) {
            PeerOptions other = parsedOrNull(c);
            if (other != null && other.isBind() == parsed.isBind() && other.target().equals(parsed.target())) {
                throw new IllegalArgumentException("a host peer of " + (parsed.isBind() ? "bind=" : "peer=")
                        + parsed.target() + " exists already");
            }
        }
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("options", parsed.toOptionString());
        String id = parsed.target().replaceAll("[^A-Za-z0-9_-]", "_");
        configs.create(Configs.PEER, id, p);
        PeerStatus up = await(() -> peerStatus(parsed));
        if (up == null) {
            out().println("host peer " + parsed.toOptionString() + " configured, but not up after " + UP_WAIT_MILLIS / 1000
                    + " s: is vnet.peer running, may this process create TAP interfaces? (see the log)");
            return;
        }
        out().println("created host peer " + up.interfaceName() + ": " + parsed.toOptionString()
                + (up.isConnected() ? ", connected" : ", not connected yet"));
    }

    private Configuration findPeer(String which) {
        for (Configuration c : configs.peers()) {
            PeerOptions o = parsedOrNull(c);
            PeerStatus s = o == null ? null : peerStatus(o);
            if (which.equals(c.getPid()) || which.equals(Configs.string(c, "options", null)) || o != null
                    && (which.equals(o.target()) || s != null && which.equals(s.interfaceName()))) {
                return c;
            }
        }
        throw new IllegalArgumentException("no host peer \"" + which
                + "\" (give its interface, e.g. vp0, or what its peer= or bind= says; vnet:list shows them)");
    }

    private static PeerOptions parsedOrNull(Configuration c) {
        try {
            return PeerOptions.parseOne(Configs.string(c, "options", ""));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private PeerStatus peerStatus(PeerOptions options) {
        List<PeerStatus> l = peers;
        if (l != null) {
            for (PeerStatus s : l) {
                if (options.equals(s.options())) {
                    return s;
                }
            }
        }
        return null;
    }

    // ---- show ------------------------------------------------------------------------------------------------

    @Descriptor("list p2p links, switches, their ports and the host peers")
    public void list() throws InterruptedException {
        PrintStream out = out();
        // What was configured a moment ago (a script, the default job) may still be coming up: give it a little time.
        await(() -> allUp() ? Boolean.TRUE : null, SETTLE_MILLIS);
        List<Configuration> all = configs.fabrics();
        if (all.isEmpty()) {
            out.println("no p2p links or switches (create one with vnet:create p2p <name>)");
        }
        for (Configuration c : all) {
            String name = Configs.string(c, "name", "?");
            Fabric f = fabric(name);
            if (f == null) {
                out.println(kindOf(c) + " " + name + "  (configured, not running)");
            } else {
                out.println(describe(f));
            }
            List<FabricPort> running = f == null ? List.of() : f.ports();
            for (Configuration pc : configs.ports(name)) {
                String port = Configs.string(pc, "name", "?");
                FabricPort fp = running.stream().filter(x -> x.name().equals(port)).findFirst().orElse(null);
                if (fp == null) {
                    out.printf("  port %-12s (configured, not up: transport %s)%n", port,
                            Configs.string(pc, "transport", "vhost-user"));
                } else {
                    out.printf("  port %-12s %-4s %s  %s%s%s%s%n", port, fp.running() ? "up" : "down", fp.endpoint(),
                            fp.options(), Configs.P2P.equals(c.getFactoryPid()) ? "" : " vlan " + fp.vlan(),
                            fp.monitor() ? " monitor" : "", fp.capturing() ? " capturing" : "");
                }
            }
        }
        for (Configuration c : configs.peers()) {
            PeerOptions o = parsedOrNull(c);
            PeerStatus s = o == null ? null : peerStatus(o);
            if (s == null) {
                out.println("host peer " + Configs.string(c, "options", "?") + "  (configured, not running)");
            } else {
                out.println("host peer " + s.interfaceName() + "  " + (s.isConnected() ? "up" : "down") + "  "
                        + o.toOptionString() + "  " + s.stats());
            }
        }
    }

    @Descriptor("show port counters: frames and bytes each way, drops by reason\n"
            + "   vnet:stats | vnet:stats <link> | vnet:stats <link> <port>")
    public void stats(@Descriptor("link or switch, and port (optional)") String... args) {
        PrintStream out = out();
        List<Fabric> which = new ArrayList<>();
        if (args.length == 0) {
            for (Configuration c : configs.fabrics()) {
                Fabric f = fabric(Configs.string(c, "name", ""));
                if (f != null) {
                    which.add(f);
                }
            }
        } else if (args.length <= 2) {
            which.add(requireRunning(args[0]));
        } else {
            throw new IllegalArgumentException("usage: vnet:stats [<link> [<port>]]");
        }
        out.printf("%-12s %-12s %12s %14s %12s %14s %10s%n", "link", "port", "tx-frames", "tx-bytes", "rx-frames",
                "rx-bytes", "drops");
        for (Fabric f : which) {
            for (FabricPort p : f.ports()) {
                if (args.length == 2 && !p.name().equals(args[1])) {
                    continue;
                }
                PortStats s = f.stats(p.name());
                out.printf("%-12s %-12s %12d %14d %12d %14d %10d%n", f.name(), p.name(), s.txFrames(), s.txBytes(),
                        s.rxFrames(), s.rxBytes(), s.drops());
                if (args.length == 2) {
                    out.printf("drops: no-rx-buffer %d, too-big %d, vlan %d, spoofed %d, queue-error %d, offload %d,"
                                    + " monitor %d, no-peer %d%n", s.dropsNoRxBuffer(), s.dropsTooBig(), s.dropsVlan(),
                            s.dropsSpoofed(), s.dropsQueueError(), s.dropsOffload(), s.dropsMonitor(), s.dropsNoPeer());
                }
            }
            if (args.length == 2 && f.ports().stream().noneMatch(p -> p.name().equals(args[1]))) {
                f.port(args[1]); // throws the fabric's "no port" message
            }
        }
    }

    @Descriptor("show a switch's MAC table: address, VLAN, port, age")
    public void mactable(@Descriptor("the switch") String name) {
        Fabric f = requireRunning(name);
        if (!Fabric.KIND_SWITCH.equals(f.kind())) {
            throw new IllegalArgumentException("\"" + name + "\" is a p2p link: it has no MAC table");
        }
        List<MacEntry> table = f.macTable();
        PrintStream out = out();
        out.printf("%-17s %5s %-12s %8s%n", "mac", "vlan", "port", "age");
        for (MacEntry e : table) {
            out.printf("%-17s %5d %-12s %7ds%n", MacAddress.toString(e.mac()), e.vlan(), e.port(), e.ageMillis() / 1000);
        }
        out.println(table.size() + " address" + (table.size() == 1 ? "" : "es"));
    }

    @Descriptor("show a port's virtqueues: negotiated features, ring sizes and indexes, counters")
    public void queues(@Descriptor("link or switch") String link, @Descriptor("port") String port) {
        Fabric f = requireRunning(link);
        f.port(port);
        List<QueueState> qs = f.queues(port);
        PrintStream out = out();
        if (qs.isEmpty()) {
            out.println(link + "/" + port + ": no driver runs the device (no queue is running)");
            return;
        }
        for (QueueState q : qs) {
            out.printf("queue pair %d: features 0x%x %s%n", q.pair(), q.features(), Features.toString(q.features()));
            out.printf("  header %d bytes%n", q.headerSize());
            ring(out, "rx (queue " + 2 * q.pair() + ")", q.rx());
            ring(out, "tx (queue " + (2 * q.pair() + 1) + ")", q.tx());
            out.println("  " + q.stats());
        }
    }

    private static void ring(PrintStream out, String what, QueueState.Ring r) {
        out.printf("  %-14s size %d %s last_avail_idx %d used_idx %d%s%n", what, r.size(), r.packed() ? "packed" : "split",
                r.lastAvailIndex(), r.usedIndex(), r.brokenReason() == null ? "" : " BROKEN: " + r.brokenReason());
    }

    @Descriptor("start or stop a pcap capture of a port's traffic (tcpdump -r, tshark -r read it)\n"
            + "   vnet:capture start <link> <port> <file.pcap> | vnet:capture stop <link> <port>")
    public void capture(@Descriptor("start or stop") String action, @Descriptor("link, port (and file)") String... args)
            throws IOException {
        switch (action) {
            case "start" -> {
                if (args.length != 3) {
                    throw new IllegalArgumentException("usage: vnet:capture start <link> <port> <file.pcap>");
                }
                Fabric f = requireRunning(args[0]);
                f.port(args[1]);
                Path file = Path.of(args[2]).toAbsolutePath();
                f.startCapture(args[1], file);
                out().println("capturing " + args[0] + "/" + args[1] + " to " + file);
            }
            case "stop" -> {
                if (args.length != 2) {
                    throw new IllegalArgumentException("usage: vnet:capture stop <link> <port>");
                }
                Fabric f = requireRunning(args[0]);
                f.port(args[1]);
                f.stopCapture(args[1]);
                out().println("capture of " + args[0] + "/" + args[1] + " stopped");
            }
            default -> throw new IllegalArgumentException("vnet:capture start ... or vnet:capture stop ..., not \""
                    + action + "\"");
        }
    }

    @Descriptor("print the QEMU arguments that attach a guest to a vhost-user port")
    public void qemu(@Descriptor("link or switch") String link, @Descriptor("port") String port) {
        Configuration fabric = configs.requireFabric(link);
        Configuration pc = configs.port(link, port);
        if (pc == null) {
            throw new IllegalArgumentException("no port \"" + port + "\" on \"" + link + "\"");
        }
        String t = Configs.string(pc, "transport", "vhost-user");
        if (!"vhost-user".equals(t)) {
            throw new IllegalArgumentException("port " + link + "/" + port + " uses transport " + t
                    + "; QEMU attaches to vhost-user ports");
        }
        printQemu(pc, fabric, PortOptions.parse(Configs.string(pc, "options", "")));
    }

    private void printQemu(Configuration port, Configuration fabric, PortOptions options) {
        Path socket = Configs.socketOf(port, fabric, runtimeDir);
        String name = Configs.string(port, "name", "nic");
        String mac = options.mac() == MacAddress.NONE ? null : MacAddress.toString(options.mac());
        PrintStream out = out();
        out.println("socket " + socket);
        out.println("attach a QEMU guest with (memory once per guest, then the NIC):");
        out.println("  memory: " + QemuArgs.join(QemuArgs.memory()));
        out.println("  nic " + name + ": " + QemuArgs.join(QemuArgs.nic(name, socket, Configs.bool(port, "client"), mac)));
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static PrintStream out() {
        return System.out;
    }

    private Fabric fabric(String name) {
        List<Fabric> l = fabrics;
        if (l != null) {
            for (Fabric f : l) {
                if (f.name().equals(name)) {
                    return f;
                }
            }
        }
        return null;
    }

    private Fabric requireRunning(String name) {
        Fabric f = fabric(name);
        if (f == null) {
            configs.requireFabric(name);
            throw new IllegalArgumentException("\"" + name + "\" is configured but not running (see the log)");
        }
        return f;
    }

    /** Whether every configured link, switch and port runs. */
    private boolean allUp() {
        for (Configuration c : configs.fabrics()) {
            String name = Configs.string(c, "name", "");
            Fabric f = fabric(name);
            if (f == null) {
                return false;
            }
            List<FabricPort> ports = f.ports();
            for (Configuration p : configs.ports(name)) {
                String port = Configs.string(p, "name", "");
                if (ports.stream().noneMatch(x -> x.name().equals(port))) {
                    return false;
                }
            }
        }
        return true;
    }

    static <T> T await(Supplier<T> what) throws InterruptedException {
        return await(what, UP_WAIT_MILLIS);
    }

    static <T> T await(Supplier<T> what, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        T t;
        while ((t = what.get()) == null && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return t;
    }

    static String describe(Fabric f) {
        return kindName(f.kind()) + " " + f.name() + "  " + (f.pollMicros() > 0 ? "poll " + f.pollMicros() + " us"
                : "notifications") + ", queue size " + f.maxQueueSize() + ", " + f.ports().size() + " port"
                + (f.ports().size() == 1 ? "" : "s");
    }

    private static String kind(String kind) {
        String k = kind == null ? "" : kind.toLowerCase(Locale.ROOT);
        if (!List.of("p2p", "switch", "port", "peer").contains(k)) {
            throw new IllegalArgumentException("\"" + kind + "\": say p2p, switch, port or peer");
        }
        return k;
    }

    private static String kindName(String kind) {
        return Fabric.KIND_P2P.equals(kind) ? "p2p link" : kind;
    }

    private static String kindOf(Configuration c) {
        return Configs.P2P.equals(c.getFactoryPid()) ? "p2p link" : "switch";
    }

    private static String factoryOf(String kind) {
        return "p2p".equals(kind) ? Configs.P2P : Configs.SWITCH;
    }

    private static String oneArg(String[] args, String usage) {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: " + usage);
        }
        return args[0];
    }

    private static void noPortOptions(String kind, String transport, String socket, boolean client, String vlan,
            boolean monitor) {
        if (!transport.isBlank() || !socket.isBlank() || client || !vlan.isBlank() || monitor) {
            throw new IllegalArgumentException("--transport, --socket, --client, --vlan and --monitor apply to ports, not to "
                    + kind);
        }
    }
}
