package vnet.shell;

import static vnet.shell.Usage.flag;
import static vnet.shell.Usage.option;
import static vnet.shell.VnetState.out;

import java.io.IOException;
import java.io.PrintStream;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.switching.Fabric;
import vnet.switching.FabricPort;
import vnet.switching.PortStats;

/**
 * {@code vnet:stats}: port counters, seen from the port's client as in virtio: {@code tx} is what the client (the
 * guest, the peer) transmitted into vnet, {@code rx} what vnet delivered into its receive queue. Drops are split by
 * side: {@code tx-drops} are frames from this client that vnet dropped (VLAN, spoofed source, monitor port, no
 * peer), {@code rx-drops} frames for it that could not be delivered (no RX buffer, too big, offload, broken queue).
 * {@code --reset} makes what this command shows start from 0 again, with a baseline ({@link Baselines}): the
 * counters behind {@code /metrics} and JMX keep running.
 */
// Immediate: a delayed component is disposed whenever Gogo ungets it after a command, and --reset's baselines with it.
@Component(service = StatsCommand.class, immediate = true,
        property = {"osgi.command.scope=vnet", "osgi.command.function=stats"})
public final class StatsCommand {
    static final Usage USAGE = new Usage("vnet:stats", "show port counters: frames and bytes each way, drops by side"
            + " and reason", List.of("vnet:stats [<link> [<port>]] [--json] [--watch [--interval <s>] [--count <n>]]",
                    "vnet:stats --reset [<link> [<port>]] [--json]"),
            List.of(flag(null, "--json", "one JSON object with every counter, and since when (\"since\")"),
                    flag("-w", "--watch", "rates (frames/s, Mbit/s, drops/s per port) every interval, until a key"
                            + " (Enter) or --count"),
                    option(null, "--interval", "s", "--watch: seconds between samples, 1..3600", "1"),
                    option(null, "--count", "n", "--watch: samples to print", "until a key"),
                    flag(null, "--reset", "from now on show the ports' counters from 0 (all ports, a link's or one);"
                            + " a baseline in the shell: /metrics, JMX and vnet:queues keep their running totals")),
            List.of("tx = what the port's client (guest, peer) transmitted into vnet; rx = what vnet delivered to it",
                    "tx-drops: from the client, dropped (vlan, spoofed, monitor, no-peer, mac-limit, flood-limit, mtu);"
                            + " rx-drops: for the client, not deliverable (no-rx-buffer, too-big, offload, queue-error)",
                    "--reset holds for this vnet (every console and vnetctl) until the shell bundle restarts, and ends"
                            + " when the port or link is re-created; \"since\" is null for counters since the port came up"));

    /** The baselines of --reset: one set for every console, as this immediate component is one instance. */
    private final Baselines baselines = new Baselines(Clock.systemUTC());

    @Reference
    private VnetState vnet;

    @Descriptor("show port counters: frames and bytes each way, drops by side; --watch for rates, --json, --reset\n"
            + "   vnet:stats [<link> [<port>]] [--json] [--watch [--interval s] [--count n]]\n"
            + "   vnet:stats --reset [<link> [<port>]] [--json]")
    public void stats(@Descriptor("link or switch, and port (optional); --json, --watch, --reset") String... args)
            throws InterruptedException {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        a.atMost(2);
        String link = a.positional().isEmpty() ? null : a.positional().get(0);
        String port = a.positional().size() < 2 ? null : a.positional().get(1);
        List<Fabric> which = link == null ? vnet.running() : List.of(vnet.requireRunning(link));
        if (port != null) {
            which.get(0).port(port); // the fabric's "no port" error
        }
        if (a.has("--reset")) {
            a.refuse("does not go with --reset", "--watch", "--interval", "--count");
            reset(which, link, port, a.has("--json"));
            return;
        }
        if (a.has("--json") && a.has("--watch")) {
            throw a.valueError("--json and --watch do not go together");
        }
        if (a.has("--watch")) {
            watch(which, port, a.number("--interval", 1, 3600, 1), a.number("--count", 1, Long.MAX_VALUE, Long.MAX_VALUE));
            return;
        }
        a.refuse("applies to --watch", "--interval", "--count");
        Map<String, Baselines.View> now = shown(which, link, port);
        PrintStream out = out();
        if (a.has("--json")) {
            out.println(json(now));
            return;
        }
        out.printf("%-12s %-12s %12s %14s %12s %14s %9s %9s%n", "link", "port", "tx-frames", "tx-bytes", "rx-frames",
                "rx-bytes", "tx-drops", "rx-drops");
        Map<Instant, List<String>> since = new TreeMap<>();
        for (Map.Entry<String, Baselines.View> e : now.entrySet()) {
            String[] lp = e.getKey().split("/", 2);
            PortStats s = e.getValue().stats();
            if (e.getValue().since() != null) {
                since.computeIfAbsent(e.getValue().since(), t -> new ArrayList<>()).add(e.getKey());
            }
            out.printf("%-12s %-12s %12d %14d %12d %14d %9d %9d%n", lp[0], lp[1], s.txFrames(), s.txBytes(),
                    s.rxFrames(), s.rxBytes(), txDrops(s), rxDrops(s));
            if (port != null) {
                out.printf("tx-drops: vlan %d, spoofed %d, monitor %d, no-peer %d, mac-limit %d, flood-limit %d, mtu %d;"
                                + " rx-drops: no-rx-buffer %d, too-big %d, offload %d, queue-error %d%n", s.dropsVlan(),
                        s.dropsSpoofed(), s.dropsMonitor(), s.dropsNoPeer(), s.dropsMacLimit(), s.dropsFloodLimit(),
                        s.dropsMtu(), s.dropsNoRxBuffer(), s.dropsTooBig(), s.dropsOffload(), s.dropsQueueError());
            }
        }
        for (Map.Entry<Instant, List<String>> e : since.entrySet()) {
            out.println("since vnet:stats --reset at " + e.getKey() + ": " + String.join(", ", e.getValue()));
        }
    }

    /** --reset: the ports' counters now become their baselines; one line says which and when. */
    private void reset(List<Fabric> which, String link, String port, boolean json) {
        Instant time = baselines.now();
        List<String> done = new ArrayList<>();
        for (Fabric f : which) {
            for (FabricPort p : f.ports()) {
                if (port == null || p.name().equals(port)) {
                    String key = f.name() + "/" + p.name();
                    baselines.reset(f, key, f.stats(p.name()), time);
                    done.add(key);
                }
            }
        }
        if (link == null) {
            baselines.retain(Set.copyOf(done)); // every running port was reset: forget the ones gone
        }
        PrintStream out = out();
        if (json) {
            Json j = new Json().open('{').field("since", time.toString()).key("reset").open('[');
            for (String key : done) {
                String[] lp = key.split("/", 2);
                j.open('{').field("link", lp[0]).field("port", lp[1]).close('}');
            }
            out.println(j.close(']').close('}'));
            return;
        }
        if (done.isEmpty()) {
            out.println("no ports to reset");
            return;
        }
        String names = done.size() <= 8 ? String.join(", ", done) : String.join(", ", done.subList(0, 8)) + ", ...";
        out.println("vnet:stats counts from 0 since " + time + " for " + done.size() + " port"
                + (done.size() == 1 ? "" : "s") + " (" + names + "); /metrics and JMX keep their totals");
    }

    /** The ports' counters as shown: since their baseline, if any. */
    private Map<String, Baselines.View> shown(List<Fabric> which, String link, String port) {
        Map<String, Baselines.View> m = new LinkedHashMap<>();
        for (Fabric f : which) {
            for (FabricPort p : f.ports()) {
                if (port == null || p.name().equals(port)) {
                    String key = f.name() + "/" + p.name();
                    m.put(key, baselines.view(f, key, f.stats(p.name())));
                }
            }
        }
        if (link == null) {
            baselines.retain(m.keySet());
        }
        return m;
    }

    /** Frames from the client that vnet dropped. */
    static long txDrops(PortStats s) {
        return s.dropsVlan() + s.dropsSpoofed() + s.dropsMonitor() + s.dropsNoPeer() + s.dropsMacLimit()
                + s.dropsFloodLimit() + s.dropsMtu();
    }

    /** Frames for the client that vnet could not deliver. */
    static long rxDrops(PortStats s) {
        return s.dropsNoRxBuffer() + s.dropsTooBig() + s.dropsOffload() + s.dropsQueueError();
    }

    /** Counters of the ports, by {@code link/port}, in order. */
    private static Map<String, PortStats> sample(List<Fabric> which, String port) {
        Map<String, PortStats> m = new LinkedHashMap<>();
        for (Fabric f : which) {
            for (FabricPort p : f.ports()) {
                if (port == null || p.name().equals(port)) {
                    m.put(f.name() + "/" + p.name(), f.stats(p.name()));
                }
            }
        }
        return m;
    }

    private static void watch(List<Fabric> which, String port, long intervalSeconds, long count)
            throws InterruptedException {
        PrintStream out = out();
        Map<String, PortStats> before = sample(which, port);
        long t0 = System.nanoTime();
        for (long n = 0; n < count; n++) {
            long deadline = t0 + intervalSeconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (keyPressed()) {
                    return;
                }
                Thread.sleep(Math.min(50, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            }
            Map<String, PortStats> now = sample(which, port);
            long t1 = System.nanoTime();
            double secs = (t1 - t0) / 1e9;
            out.printf("%-25s %12s %12s %10s %10s %10s %10s%n", "link/port", "tx-frames/s", "rx-frames/s", "tx-Mbit/s",
                    "rx-Mbit/s", "tx-drops/s", "rx-drops/s");
            for (Map.Entry<String, PortStats> e : now.entrySet()) {
                PortStats s = e.getValue();
                PortStats b = before.getOrDefault(e.getKey(), s);
                out.printf("%-25s %12.0f %12.0f %10.2f %10.2f %10.0f %10.0f%n", e.getKey(),
                        (s.txFrames() - b.txFrames()) / secs, (s.rxFrames() - b.rxFrames()) / secs,
                        (s.txBytes() - b.txBytes()) * 8 / secs / 1e6, (s.rxBytes() - b.rxBytes()) * 8 / secs / 1e6,
                        (txDrops(s) - txDrops(b)) / secs, (rxDrops(s) - rxDrops(b)) / secs);
            }
            out.flush();
            if (out.checkError()) {
                return; // the reader went away (a control socket client stopped)
            }
            before = now;
            t0 = t1;
        }
    }

    private static boolean keyPressed() {
        try {
            if (System.in.available() > 0) {
                while (System.in.available() > 0 && System.in.read() != '\n') {
                    // eat the line
                }
                return true;
            }
        } catch (IOException e) {
            return true;
        }
        return false;
    }

    static String json(Map<String, Baselines.View> now) {
        Json j = new Json().open('{').key("ports").open('[');
        for (Map.Entry<String, Baselines.View> e : now.entrySet()) {
            String[] lp = e.getKey().split("/", 2);
            PortStats s = e.getValue().stats();
            Instant since = e.getValue().since();
            j.open('{').field("link", lp[0]).field("port", lp[1])
                    .field("since", since == null ? null : since.toString()).field("tx_frames", s.txFrames())
                    .field("tx_bytes", s.txBytes()).field("rx_frames", s.rxFrames()).field("rx_bytes", s.rxBytes())
                    .key("tx_drops").open('{').field("vlan", s.dropsVlan()).field("spoofed", s.dropsSpoofed())
                    .field("monitor", s.dropsMonitor()).field("no_peer", s.dropsNoPeer())
                    .field("mac_limit", s.dropsMacLimit()).field("flood_limit", s.dropsFloodLimit())
                    .field("mtu", s.dropsMtu()).close('}')
                    .key("rx_drops").open('{').field("no_rx_buffer", s.dropsNoRxBuffer())
                    .field("too_big", s.dropsTooBig()).field("offload", s.dropsOffload())
                    .field("queue_error", s.dropsQueueError()).close('}').close('}');
        }
        return j.close(']').close('}').toString();
    }

}
