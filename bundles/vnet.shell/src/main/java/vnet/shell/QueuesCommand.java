package vnet.shell;

import static vnet.shell.VnetState.out;

import java.io.PrintStream;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.switching.Fabric;
import vnet.switching.QueueState;
import vnet.virtio.net.Features;

/** {@code vnet:queues}: a port's virtqueues as its driver set them up. */
@Component(service = QueuesCommand.class, property = {"osgi.command.scope=vnet", "osgi.command.function=queues"})
public final class QueuesCommand {
    static final Usage USAGE = new Usage("vnet:queues", "show a port's virtqueues: negotiated features, ring sizes"
            + " and indexes, counters", List.of("vnet:queues <link> <port>"), List.of(), List.of());

    @Reference
    private VnetState vnet;

    @Descriptor("show a port's virtqueues: negotiated features, ring sizes and indexes, counters\n"
            + "   vnet:queues <link> <port>")
    public void queues(@Descriptor("link or switch, and port") String... args) {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        String link = a.positional(0, "the link or switch");
        String port = a.positional(1, "the port");
        a.atMost(2);
        Fabric f = vnet.requireRunning(link);
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
}
