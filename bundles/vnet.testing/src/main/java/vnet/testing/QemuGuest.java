package vnet.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * One Linux guest in QEMU (TCG, 1 vCPU by default) with vhost-user virtio-net NICs, booted from {@link GuestImage}.
 * What the guest does is set by {@code vnet.*} kernel arguments (see build-guest.sh); its serial console and
 * QEMU's own messages go to {@code <workDir>/<name>.log}.
 *
 * <pre>{@code
 * try (QemuGuest g = QemuGuest.builder("a").workDir(dir)
 *         .nic(QemuGuest.VhostUserNic.client(dir.resolve("a.sock")).mac("52:54:00:00:00:01"))
 *         .ip("192.0.2.1/24").ping("192.0.2.2", 5).start()) {
 *     QemuGuest.PingResult r = g.awaitPing(Duration.ofMinutes(2));
 * }
 * }</pre>
 */
public final class QemuGuest implements AutoCloseable {

    public static final Pattern READY = Pattern.compile("VNET-READY");
    public static final Pattern DONE = Pattern.compile("VNET-DONE");
    public static final Pattern PING_RESULT = Pattern.compile("VNET-RESULT ping sent=(\\d+) received=(\\d+)");
    public static final Pattern CMD_RESULT = Pattern.compile("VNET-RESULT cmd rc=(\\d+)");

    /** Kernel arguments every guest gets. */
    public static final String BASE_KERNEL_ARGS = "console=ttyS0 panic=-1 acpi=off quiet";

    private final String name;
    private final ExternalProcess process;
    private final List<Path> ownedFiles;
    private final Path ownedDir;

    private QemuGuest(String name, ExternalProcess process, List<Path> ownedFiles, Path ownedDir) {
        this.name = name;
        this.process = process;
        this.ownedFiles = ownedFiles;
        this.ownedDir = ownedDir;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** The QEMU arguments that give a guest shared memory, as vhost-user needs: {@code -m}, {@code -object}, {@code -numa}. */
    public static List<String> memoryArgs(String size) {
        return List.of("-m", size,
                "-object", "memory-backend-memfd,id=mem,size=" + size + ",share=on",
                "-numa", "node,memdev=mem");
    }

    /** The {@code -chardev}, {@code -netdev} and {@code -device} arguments that attach {@code nic} as device {@code id}. */
    public static List<String> qemuArgsFor(VhostUserNic nic, String id) {
        return nic.qemuArgs(id);
    }

    /** One virtio-net-pci NIC whose back-end is reached over a vhost-user socket. */
    public static final class VhostUserNic {
        private final Path socket;
        private final boolean server;
        private String mac;
        private int queues = 1;
        private int reconnectSeconds = 1;
        private Boolean packed;
        private Boolean mrgRxbuf;
        private Boolean csum;
        private final Map<String, String> properties = new LinkedHashMap<>();

        private VhostUserNic(Path socket, boolean server) {
            this.socket = Objects.requireNonNull(socket);
            this.server = server;
        }

        /** QEMU connects to a back-end listening on {@code socket}; it retries until the socket is there. */
        public static VhostUserNic client(Path socket) {
            return new VhostUserNic(socket, false);
        }

        /** QEMU listens on {@code socket} ({@code server=on}) and the back-end connects; QEMU waits for it at start. */
        public static VhostUserNic server(Path socket) {
            return new VhostUserNic(socket, true);
        }

        public VhostUserNic mac(String mac) {
            this.mac = mac;
            return this;
        }

        /** Queue pairs ({@code queues=N}, and {@code mq=on} when N > 1). */
        public VhostUserNic queues(int queues) {
            if (queues < 1) {
                throw new IllegalArgumentException("queues " + queues);
            }
            this.queues = queues;
            return this;
        }

        /** Client mode: seconds between connection attempts ({@code reconnect=}); 0 fails at once. */
        public VhostUserNic reconnect(int seconds) {
            this.reconnectSeconds = seconds;
            return this;
        }

        /** Offer VIRTIO_F_RING_PACKED ({@code packed=on}) or not; unset keeps QEMU's default (off). */
        public VhostUserNic packed(boolean packed) {
            this.packed = packed;
            return this;
        }

        /** Offer VIRTIO_NET_F_MRG_RXBUF or not; unset keeps QEMU's default (on). */
        public VhostUserNic mrgRxbuf(boolean on) {
            this.mrgRxbuf = on;
            return this;
        }

        /** Checksum offload and everything that depends on it (TSO, UFO, ECN) on or off; unset keeps QEMU's defaults. */
        public VhostUserNic csum(boolean on) {
            this.csum = on;
            return this;
        }

        /** Any other virtio-net-pci property, e.g. {@code ("host_mtu", "9000")}. */
        public VhostUserNic property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        public Path socket() {
            return socket;
        }

        public boolean isServer() {
            return server;
        }

        public String mac() {
            return mac;
        }

        List<String> qemuArgs(String id) {
            return qemuArgs(id, mac);
        }

        List<String> qemuArgs(String id, String mac) {
            String chr = "chr-" + id;
            StringBuilder chardev = new StringBuilder("socket,id=").append(chr).append(",path=").append(escape(socket));
            if (server) {
                chardev.append(",server=on,wait=off");
            } else if (reconnectSeconds > 0) {
                chardev.append(",reconnect=").append(reconnectSeconds);
            }
            String netdev = "vhost-user,id=" + id + ",chardev=" + chr + ",queues=" + queues;
            // vectors=0: QEMU 7.2 under TCG segfaults when a vhost-user virtio-net device starts with MSI-X.
            // romfile=: no option ROM (not needed with -kernel, and ipxe may be missing).
            StringBuilder device = new StringBuilder("virtio-net-pci,netdev=").append(id).append(",vectors=0,romfile=");
            if (mac != null) {
                device.append(",mac=").append(mac);
            }
            if (queues > 1) {
                device.append(",mq=on");
            }
            if (packed != null) {
                device.append(",packed=").append(onOff(packed));
            }
            if (mrgRxbuf != null) {
                device.append(",mrg_rxbuf=").append(onOff(mrgRxbuf));
            }
            if (csum != null) {
                String v = onOff(csum);
                for (String f : List.of("csum", "guest_csum", "host_tso4", "host_tso6", "host_ecn", "host_ufo",
                        "guest_tso4", "guest_tso6", "guest_ecn", "guest_ufo")) {
                    device.append(',').append(f).append('=').append(v);
                }
            }
            properties.forEach((k, v) -> device.append(',').append(k).append('=').append(v));
            return List.of("-chardev", chardev.toString(), "-netdev", netdev, "-device", device.toString());
        }

        private static String onOff(boolean b) {
            return b ? "on" : "off";
        }

        private static String escape(Path p) {
            return p.toString().replace(",", ",,");
        }
    }

    public static final class Builder {
        private final String name;
        private Path workDir;
        private String memory = "256M";
        private int cpus = 1;
        private Duration timeLimit = Duration.ofMinutes(5);
        private final List<VhostUserNic> nics = new ArrayList<>();
        private final Map<String, String> kernelArgs = new LinkedHashMap<>();
        private final List<String> extraQemuArgs = new ArrayList<>();

        private Builder(String name) {
            if (!name.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("guest name " + name);
            }
            this.name = name;
            kernelArgs.put("vnet.name", name);
        }

        /** Folder for the console log; default a temporary folder removed by {@link QemuGuest#close()}. */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        /** Guest memory, e.g. "256M" (default). */
        public Builder memory(String memory) {
            this.memory = memory;
            return this;
        }

        /** vCPUs (default 1). The guest uses min(cpus, queues) queue pairs of a multiqueue NIC. */
        public Builder cpus(int cpus) {
            this.cpus = cpus;
            return this;
        }

        /** QEMU is killed after this long (default 5 min); the guest powers itself off a little earlier. */
        public Builder timeLimit(Duration timeLimit) {
            this.timeLimit = timeLimit;
            return this;
        }

        /** Adds a NIC: the first is eth0 in the guest, the next eth1, and so on. */
        public Builder nic(VhostUserNic nic) {
            nics.add(nic);
            return this;
        }

        /** A kernel argument {@code key=value} (or just {@code key} when value is null). No spaces. */
        public Builder kernelArg(String key, String value) {
            if (key.contains(" ") || (value != null && value.contains(" "))) {
                throw new IllegalArgumentException("spaces in kernel argument " + key + "=" + value);
            }
            kernelArgs.put(key, value);
            return this;
        }

        /** Shorthand for {@code kernelArg("vnet." + key, value)}. */
        public Builder vnet(String key, String value) {
            return kernelArg("vnet." + key, value);
        }

        /** Address of eth0, e.g. "192.0.2.1/24". */
        public Builder ip(String cidr) {
            return vnet("ip", cidr);
        }

        /** Address of eth{@code index}. */
        public Builder ip(int index, String cidr) {
            return vnet(index == 0 ? "ip" : "ip" + index, cidr);
        }

        /** Mode ping: wait for {@code peer} to answer, then ping it {@code count} times and print the result. */
        public Builder ping(String peer, int count) {
            return vnet("mode", "ping").vnet("peer", peer).vnet("count", Integer.toString(count));
        }

        /** Mode wait: stay up for {@code seconds} (0: until stopped), answering pings. */
        public Builder waitSeconds(int seconds) {
            return vnet("mode", "wait").vnet("wait", Integer.toString(seconds));
        }

        /** Mode serve: like wait, plus an HTTP server on :80 and a TCP echo server on :7. */
        public Builder serve(int seconds) {
            return vnet("mode", "serve").vnet("wait", Integer.toString(seconds));
        }

        /**
         * A shell script the guest runs after its NICs are up (mode cmd unless a mode is set). It travels base64
         * encoded on the kernel command line, so keep it short (the whole line is limited to 2 KiB).
         */
        public Builder command(String script) {
            return vnet("cmd64", Base64.getEncoder().encodeToString(script.getBytes(StandardCharsets.UTF_8)));
        }

        public Builder qemuArgs(String... args) {
            extraQemuArgs.addAll(List.of(args));
            return this;
        }

        /** The full QEMU command line (without the {@code timeout} wrapper). */
        public List<String> commandLine(GuestImage image) {
            List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-name", name,
                    "-accel", "tcg", "-nographic", "-nodefaults", "-no-user-config", "-serial", "stdio",
                    "-no-reboot", "-smp", Integer.toString(cpus)));
            cmd.addAll(memoryArgs(memory));
            cmd.addAll(List.of("-kernel", image.kernel().toString(), "-initrd", image.initrd().toString(),
                    "-append", appendLine()));
            for (int i = 0; i < nics.size(); i++) {
                VhostUserNic nic = nics.get(i);
                cmd.addAll(nic.qemuArgs("net" + i, nic.mac() != null ? nic.mac() : defaultMac(i)));
            }
            cmd.addAll(extraQemuArgs);
            return cmd;
        }

        /** QEMU would give every NIC 52:54:00:12:34:56; derive a distinct locally administered one instead. */
        private String defaultMac(int index) {
            int h = (name.hashCode() * 31 + index) & 0xffffff;
            return String.format("52:54:%02x:%02x:%02x:%02x", 0x80 | index, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
        }

        private String appendLine() {
            Map<String, String> args = new LinkedHashMap<>(kernelArgs);
            args.putIfAbsent("vnet.deadline", Long.toString(Math.max(10, timeLimit.toSeconds() - 5)));
            // The Debian cloud kernel has no MP-table support: a second vCPU is found only through ACPI.
            StringBuilder sb = new StringBuilder(cpus > 1 ? BASE_KERNEL_ARGS.replace(" acpi=off", "") : BASE_KERNEL_ARGS);
            args.forEach((k, v) -> sb.append(' ').append(k).append(v == null ? "" : "=" + v));
            if (sb.length() > 2000) { // x86 COMMAND_LINE_SIZE is 2048
                throw new IllegalArgumentException("kernel command line too long (" + sb.length() + " chars)");
            }
            return sb.toString();
        }

        public QemuGuest start() throws IOException {
            GuestImage image = GuestImage.get();
            Path dir = workDir;
            Path ownedDir = null;
            if (dir == null) {
                dir = Files.createTempDirectory("vnet-guest-" + name + "-");
                ownedDir = dir;
            } else {
                Files.createDirectories(dir);
            }
            List<Path> owned = new ArrayList<>();
            for (VhostUserNic nic : nics) {
                if (nic.isServer()) {
                    Files.deleteIfExists(nic.socket()); // a stale socket from a killed run
                    owned.add(nic.socket());
                }
            }
            ExternalProcess p = ExternalProcess.command(commandLine(image)).name("qemu-" + name)
                    .log(dir.resolve(name + ".log")).timeLimit(timeLimit).start();
            return new QemuGuest(name, p, owned, ownedDir);
        }
    }

    /** Result of mode ping. */
    public record PingResult(int sent, int received) {
    }

    public String name() {
        return name;
    }

    /** PID of the QEMU process. */
    public long pid() {
        return process.pid();
    }

    public Path log() {
        return process.log();
    }

    public ExternalProcess process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public MatchResult awaitLine(Pattern pattern, Duration limit) throws TimeoutException, InterruptedException {
        return process.awaitLine(pattern, limit);
    }

    /** Waits for "VNET-READY" (NICs configured). */
    public MatchResult awaitReady(Duration limit) throws TimeoutException, InterruptedException {
        return awaitLine(READY, limit);
    }

    /** Waits for the result line of mode ping. */
    public PingResult awaitPing(Duration limit) throws TimeoutException, InterruptedException {
        MatchResult m = awaitLine(PING_RESULT, limit);
        return new PingResult(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    /** Waits for QEMU to exit; returns its exit code. */
    public int waitFor(Duration limit) throws TimeoutException, InterruptedException {
        return process.waitFor(limit);
    }

    /** The console log so far. */
    public String console() {
        return process.output();
    }

    /** Kills QEMU by PID and removes the sockets it listened on (and its temporary folder, if it made one). */
    @Override
    public void close() {
        process.close();
        for (Path f : ownedFiles) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // best effort
            }
        }
        if (ownedDir != null) {
            WorkDir.deleteTree(ownedDir);
        }
    }

    @Override
    public String toString() {
        return "QemuGuest[" + name + ", " + process + "]";
    }
}
