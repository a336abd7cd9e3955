package vnet.shell;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import vnet.switching.Fabric;
import vnet.switching.FabricPort;
import vnet.switching.RuntimeDir;

/**
 * The runtime's default job: when the framework property {@value #PROPERTY} is {@code true} (vnet.bndrun sets
 * it) and no {@code vnet.p2p} configuration exists, it configures the p2p link {@value #LINK} with the two
 * vhost-user ports {@code a} and {@code b}, through ConfigAdmin like any user would, and once their sockets
 * are there prints how to attach a QEMU guest to each.
 */
@Component(immediate = true)
public final class DefaultJob {
    /** Framework property that turns the default job on. */
    static final String PROPERTY = "vnet.default";
    static final String LINK = "default";
    /** The ports and the MACs their guests get. */
    static final List<String[]> PORTS = List.of(new String[] {"a", "02:00:00:00:00:01"},
            new String[] {"b", "02:00:00:00:00:02"});
    /** How long to wait for the link to come up before saying that it did not. */
    static final long UP_WAIT_MILLIS = 30_000;

    @Reference
    private ConfigurationAdmin cm;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<Fabric> fabrics;

    private Thread announcer;

    @Activate
    void activate(BundleContext context) {
        if (!"true".equalsIgnoreCase(context.getProperty(PROPERTY))) {
            return;
        }
        Configs configs = new Configs(cm);
        if (!configs.list(Configs.P2P, null).isEmpty()) {
            return;
        }
        Hashtable<String, Object> link = new Hashtable<>();
        link.put("name", LINK);
        Configuration fabric = configs.create(Configs.P2P, LINK, link);
        for (String[] p : PORTS) {
            Hashtable<String, Object> port = new Hashtable<>();
            port.put("link", LINK);
            port.put("name", p[0]);
            port.put("options", "mac=" + p[1]);
            configs.create(Configs.PORT, LINK + "." + p[0], port);
        }
        String runtimeDir = context.getProperty(RuntimeDir.PROPERTY);
        announcer = new Thread(() -> announce(configs, fabric, runtimeDir), "vnet-default-job");
        announcer.setDaemon(true);
        announcer.start();
    }

    @Deactivate
    void deactivate() {
        if (announcer != null) {
            announcer.interrupt();
        }
    }

    private void announce(Configs configs, Configuration fabric, String runtimeDir) {
        PrintStream out = System.out;
        long deadline = System.nanoTime() + UP_WAIT_MILLIS * 1_000_000L;
        try {
            while (!up(configs, fabric, runtimeDir)) {
                if (System.nanoTime() > deadline) {
                    out.println("vnet: the default p2p link is configured but not up after " + UP_WAIT_MILLIS / 1000
                            + " s; vnet:list shows what runs, the log says why");
                    return;
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            return;
        }
        out.print(banner(configs, fabric, runtimeDir));
        out.flush();
    }

    private boolean up(Configs configs, Configuration fabric, String runtimeDir) {
        List<Fabric> l = fabrics;
        Fabric f = l == null ? null : l.stream().filter(x -> x.name().equals(LINK)).findFirst().orElse(null);
        if (f == null) {
            return false;
        }
        for (String[] p : PORTS) {
            FabricPort fp = f.ports().stream().filter(x -> x.name().equals(p[0])).findFirst().orElse(null);
            Configuration pc = configs.port(LINK, p[0]);
            if (fp == null || pc == null || !Files.exists(Configs.socketOf(pc, fabric, runtimeDir))) {
                return false;
            }
        }
        return true;
    }

    /** What the runtime prints once the default link is up. */
    static String banner(Configs configs, Configuration fabric, String runtimeDir) {
        StringBuilder sb = new StringBuilder();
        sb.append("vnet: p2p link \"").append(LINK).append("\" is up with two vhost-user ports; attach one QEMU guest to each:\n");
        for (String[] p : PORTS) {
            Configuration pc = configs.port(LINK, p[0]);
            sb.append("  socket ").append(p[0]).append(": ").append(Configs.socketOf(pc, fabric, runtimeDir)).append('\n');
        }
        sb.append("  memory (each guest): ").append(QemuArgs.join(QemuArgs.memory())).append('\n');
        for (String[] p : PORTS) {
            Configuration pc = configs.port(LINK, p[0]);
            Path socket = Configs.socketOf(pc, fabric, runtimeDir);
            sb.append("  guest ").append(p[0]).append(": ")
                    .append(QemuArgs.join(QemuArgs.nic(p[0], socket, Configs.bool(pc, "client"), p[1]))).append('\n');
        }
        sb.append("  e.g. qemu-system-x86_64 -accel tcg -nographic -kernel vmlinuz -initrd initrd.gz <memory> <guest a>\n");
        sb.append("vnet: commands: vnet:list, vnet:stats, vnet:create, vnet:remove ... (each with --help)\n");
        return sb.toString();
    }
}
