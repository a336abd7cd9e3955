package vnet.metrics;

import java.util.List;

import vnet.peer.PeerStats;
import vnet.peer.PeerStatus;
import vnet.switching.Fabric;
import vnet.switching.FabricPort;
import vnet.switching.PortStats;

/**
 * The Prometheus text exposition format (version 0.0.4) of every link's, switch's, port's and host peer's counters,
 * named by Prometheus conventions: {@code vnet_port_rx_frames_total{link="default",port="a"}}.
 */
final class Prometheus {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private Prometheus() {
    }

    static String render(List<Fabric> fabrics, List<PeerStatus> peers) {
        StringBuilder sb = new StringBuilder();
        family(sb, "vnet_fabric_ports", "gauge", "Ports of a p2p link or switch.");
        family(sb, "vnet_fabric_ports_up", "gauge", "Ports of a p2p link or switch whose device a driver runs.");
        family(sb, "vnet_switch_mac_table_entries", "gauge", "Learned MAC addresses of a switch.");
        for (Fabric f : fabrics) {
            String l = "{name=\"" + esc(f.name()) + "\",kind=\"" + esc(f.kind()) + "\"}";
            List<FabricPort> ports = f.ports();
            sb.append("vnet_fabric_ports").append(l).append(' ').append(ports.size()).append('\n');
            sb.append("vnet_fabric_ports_up").append(l).append(' ')
                    .append(ports.stream().filter(FabricPort::running).count()).append('\n');
            if (Fabric.KIND_SWITCH.equals(f.kind())) {
                sb.append("vnet_switch_mac_table_entries{switch=\"").append(esc(f.name())).append("\"} ")
                        .append(f.macTable().size()).append('\n');
            }
        }
        String[][] port = {
                {"vnet_port_up", "gauge", "1 if a driver runs the port's device."},
                {"vnet_port_tx_frames_total", "counter", "Frames the port's client transmitted into vnet."},
                {"vnet_port_tx_bytes_total", "counter", "Ethernet bytes the port's client transmitted into vnet."},
                {"vnet_port_rx_frames_total", "counter", "Frames vnet delivered to the port's client."},
                {"vnet_port_rx_bytes_total", "counter", "Ethernet bytes vnet delivered to the port's client."},
                {"vnet_port_tx_dropped_total", "counter", "Frames from the port's client that vnet dropped, by reason."},
                {"vnet_port_rx_dropped_total", "counter", "Frames for the port's client that could not be delivered, by"
                        + " reason."}};
        StringBuilder[] rows = new StringBuilder[port.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = new StringBuilder();
        }
        for (Fabric f : fabrics) {
            for (FabricPort p : f.ports()) {
                PortStats s;
                try {
                    s = f.stats(p.name());
                } catch (IllegalArgumentException | IllegalStateException gone) {
                    continue;
                }
                String l = "link=\"" + esc(f.name()) + "\",port=\"" + esc(p.name()) + "\"";
                row(rows[0], port[0][0], l, p.running() ? 1 : 0);
                row(rows[1], port[1][0], l, s.txFrames());
                row(rows[2], port[2][0], l, s.txBytes());
                row(rows[3], port[3][0], l, s.rxFrames());
                row(rows[4], port[4][0], l, s.rxBytes());
                row(rows[5], port[5][0], l + ",reason=\"vlan\"", s.dropsVlan());
                row(rows[5], port[5][0], l + ",reason=\"spoofed\"", s.dropsSpoofed());
                row(rows[5], port[5][0], l + ",reason=\"monitor\"", s.dropsMonitor());
                row(rows[5], port[5][0], l + ",reason=\"no_peer\"", s.dropsNoPeer());
                row(rows[5], port[5][0], l + ",reason=\"mac_limit\"", s.dropsMacLimit());
                row(rows[5], port[5][0], l + ",reason=\"flood_limit\"", s.dropsFloodLimit());
                row(rows[6], port[6][0], l + ",reason=\"no_rx_buffer\"", s.dropsNoRxBuffer());
                row(rows[6], port[6][0], l + ",reason=\"too_big\"", s.dropsTooBig());
                row(rows[6], port[6][0], l + ",reason=\"offload\"", s.dropsOffload());
                row(rows[6], port[6][0], l + ",reason=\"queue_error\"", s.dropsQueueError());
            }
        }
        for (int i = 0; i < port.length; i++) {
            family(sb, port[i][0], port[i][1], port[i][2]);
            sb.append(rows[i]);
        }
        String[][] peer = {
                {"vnet_peer_connected", "gauge", "1 if the host peer's virtio side is connected."},
                {"vnet_peer_tap_read_frames_total", "counter", "Frames read from the host peer's TAP."},
                {"vnet_peer_to_virtio_frames_total", "counter", "Frames the host peer passed to its virtio side."},
                {"vnet_peer_to_virtio_dropped_total", "counter", "TAP frames the virtio side could not take."},
                {"vnet_peer_virtio_taken_frames_total", "counter", "Frames taken from the host peer's virtio side."},
                {"vnet_peer_to_tap_frames_total", "counter", "Frames the host peer wrote to its TAP."},
                {"vnet_peer_to_tap_dropped_total", "counter", "Frames the TAP did not take."}};
        for (int i = 0; i < peer.length; i++) {
            family(sb, peer[i][0], peer[i][1], peer[i][2]);
            for (PeerStatus p : peers) {
                PeerStats s = p.stats();
                long v = switch (i) {
                    case 0 -> p.isConnected() ? 1 : 0;
                    case 1 -> s.tapFramesRead();
                    case 2 -> s.toVirtio();
                    case 3 -> s.toVirtioDropped();
                    case 4 -> s.virtioFramesTaken();
                    case 5 -> s.toTap();
                    default -> s.toTapDropped();
                };
                row(sb, peer[i][0], "interface=\"" + esc(p.interfaceName()) + "\"", v);
            }
        }
        return sb.toString();
    }

    private static void family(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void row(StringBuilder sb, String name, String labels, long value) {
        sb.append(name).append('{').append(labels).append("} ").append(value).append('\n');
    }

    /** A label value: backslash, double quote and line feed escaped. */
    static String esc(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
