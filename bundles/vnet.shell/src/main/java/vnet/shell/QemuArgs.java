package vnet.shell;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU arguments that attach a guest to a vhost-user port. vhost-user needs the guest's memory shared
 * ({@code memory-backend-memfd,share=on}); {@code vectors=0} avoids MSI-X, with which QEMU 7.2 under TCG
 * crashes on vhost-user virtio-net; {@code romfile=} skips the network boot ROM (not needed, often missing).
 */
final class QemuArgs {
    static final String MEMORY = "256M";

    private QemuArgs() {
    }

    /** {@code -m}, {@code -object memory-backend-memfd...}, {@code -numa}: once per guest. */
    static List<String> memory() {
        return List.of("-m", MEMORY, "-object", "memory-backend-memfd,id=mem,size=" + MEMORY + ",share=on",
                "-numa", "node,memdev=mem");
    }

    /**
     * {@code -chardev}, {@code -netdev}, {@code -device} for one NIC.
     *
     * @param port        the port's name (QEMU ids are derived from it)
     * @param socket      the port's socket
     * @param vnetClient  true if vnet connects (QEMU must listen: {@code server=on})
     * @param mac         the MAC to give the guest's NIC, or null
     */
    static List<String> nic(String port, Path socket, boolean vnetClient, String mac) {
        String id = "vnet-" + port;
        String chr = id + "-chr";
        String chardev = "socket,id=" + chr + ",path=" + socket.toString().replace(",", ",,")
                + (vnetClient ? ",server=on,wait=off" : ",reconnect=1");
        String device = "virtio-net-pci,netdev=" + id + ",vectors=0,romfile=" + (mac == null ? "" : ",mac=" + mac);
        List<String> args = new ArrayList<>();
        args.add("-chardev");
        args.add(chardev);
        args.add("-netdev");
        args.add("vhost-user,id=" + id + ",chardev=" + chr);
        args.add("-device");
        args.add(device);
        return args;
    }

    /** Arguments joined for a POSIX shell (quoted where needed). */
    static String join(List<String> args) {
        StringBuilder sb = new StringBuilder();
        for (String a : args) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(a.matches("[A-Za-z0-9_@%+=:,./-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return sb.toString();
    }
}
