package vnet.shell;

import static vnet.shell.VnetState.out;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.cm.Configuration;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.switching.MacAddress;
import vnet.switching.PortOptions;

/** {@code vnet:qemu}: the QEMU arguments that attach a guest to a vhost-user port. */
@Component(service = QemuCommand.class, property = {"osgi.command.scope=vnet", "osgi.command.function=qemu"})
public final class QemuCommand {
    static final Usage USAGE = new Usage("vnet:qemu", "print the QEMU arguments that attach a guest to a vhost-user"
            + " port", List.of("vnet:qemu <link> <port>"), List.of(), List.of());

    @Reference
    private VnetState vnet;

    @Descriptor("print the QEMU arguments that attach a guest to a vhost-user port\n   vnet:qemu <link> <port>")
    public void qemu(@Descriptor("link or switch, and port") String... args) {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        String link = a.positional(0, "the link or switch");
        String port = a.positional(1, "the port");
        a.atMost(2);
        Configs configs = vnet.configs();
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
        printQemu(pc, fabric, PortOptions.parse(Configs.string(pc, "options", "")), vnet.runtimeDir());
    }

    static void printQemu(Configuration port, Configuration fabric, PortOptions options, String runtimeDir) {
        Path socket = Configs.socketOf(port, fabric, runtimeDir);
        String name = Configs.string(port, "name", "nic");
        String mac = options.mac() == MacAddress.NONE ? null : MacAddress.toString(options.mac());
        PrintStream out = out();
        out.println("socket " + socket);
        out.println("attach a QEMU guest with (memory once per guest, then the NIC):");
        out.println("  memory: " + QemuArgs.join(QemuArgs.memory()));
        out.println("  nic " + name + ": " + QemuArgs.join(QemuArgs.nic(name, socket, Configs.bool(port, "client"), mac)));
    }
}
