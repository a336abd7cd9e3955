package vnet.shell;

import static vnet.shell.VnetState.out;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import vnet.switching.Fabric;
import vnet.switching.FabricPort;

/** {@code vnet:capture}: pcap captures of ports' traffic. */
@Component(service = CaptureCommand.class, property = {"osgi.command.scope=vnet", "osgi.command.function=capture"})
public final class CaptureCommand {
    static final Usage USAGE = new Usage("vnet:capture", "start, stop or list pcap captures of ports' traffic"
            + " (tcpdump -r, tshark -r read them)", List.of("vnet:capture start <link> <port> <file.pcap>",
                    "vnet:capture stop <link> <port>", "vnet:capture list"), List.of(),
            List.of("the file's folder must exist; a port has at most one capture (stop it before starting another)"));

    @Reference
    private VnetState vnet;

    @Descriptor("start, stop or list pcap captures of a port's traffic (tcpdump -r, tshark -r read them)\n"
            + "   vnet:capture start <link> <port> <file.pcap> | vnet:capture stop <link> <port> | vnet:capture list")
    public void capture(@Descriptor("start|stop|list, link, port (and file)") String... args) throws IOException {
        Usage.Parsed a = USAGE.parse(out(), args);
        if (a == null) {
            return;
        }
        String action = a.positional(0, "start, stop or list");
        switch (action) {
            case "start" -> {
                String link = a.positional(1, "the link or switch");
                String port = a.positional(2, "the port");
                String file = a.positional(3, "the pcap file");
                a.atMost(4);
                Fabric f = vnet.requireRunning(link);
                FabricPort p = f.port(port);
                Path path = Path.of(file).toAbsolutePath();
                if (path.getParent() == null || !Files.isDirectory(path.getParent())) {
                    throw new IllegalArgumentException("cannot capture to " + path + ": folder " + path.getParent()
                            + " does not exist");
                }
                if (Files.isDirectory(path)) {
                    throw new IllegalArgumentException("cannot capture to " + path + ": it is a folder");
                }
                if (p.capturing()) {
                    throw new IllegalArgumentException(link + "/" + port + " is being captured already; stop it first:"
                            + " vnet:capture stop " + link + " " + port);
                }
                f.startCapture(port, path);
                out().println("capturing " + link + "/" + port + " to " + path);
            }
            case "stop" -> {
                String link = a.positional(1, "the link or switch");
                String port = a.positional(2, "the port");
                a.atMost(3);
                Fabric f = vnet.requireRunning(link);
                if (!f.port(port).capturing()) {
                    throw new IllegalArgumentException("no capture runs on " + link + "/" + port);
                }
                f.stopCapture(port);
                out().println("capture of " + link + "/" + port + " stopped");
            }
            case "list" -> {
                a.atMost(1);
                int n = 0;
                for (Fabric f : vnet.running()) {
                    for (FabricPort p : f.ports()) {
                        if (p.capturing()) {
                            out().println("capturing " + f.name() + "/" + p.name());
                            n++;
                        }
                    }
                }
                out().println(n + " capture" + (n == 1 ? "" : "s") + " running");
            }
            default -> throw a.error("\"" + action + "\": say start, stop or list");
        }
    }
}
