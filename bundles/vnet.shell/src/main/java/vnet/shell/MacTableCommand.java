package vnet.shell;

import static vnet.shell.VnetState.out;

import java.io.PrintStream;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.switching.Fabric;
import vnet.switching.MacAddress;
import vnet.switching.MacEntry;

/** {@code vnet:mactable}: a switch's learned addresses. */
@Component(service = MacTableCommand.class, property = {"osgi.command.scope=vnet", "osgi.command.function=mactable"})
public final class MacTableCommand {
    static final Usage USAGE = new Usage("vnet:mactable", "show a switch's MAC table: address, VLAN, port, age",
            List.of("vnet:mactable <switch>"), List.of(), List.of());

    @Reference
    private VnetState vnet;

    @Descriptor("show a switch's MAC table: address, VLAN, port, age\n   vnet:mactable <switch>")
    public void mactable(@Descriptor("the switch") String... args) {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        String name = a.positional(0, "the switch");
        a.atMost(1);
        Fabric f = vnet.requireRunning(name);
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
}
