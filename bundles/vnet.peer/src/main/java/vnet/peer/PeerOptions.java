package vnet.peer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import vnet.transport.shm.Names;

/**
 * The options of one host peer, in the syntax of QNX {@code devnp-vdevpeer-net.so}:
 * {@code peer=path,mac=XXXXXXXXXXXX,name=prefix,bind=path,legacy,priority=level}.
 *
 * <h2>Grammar, as {@link #parse} implements it</h2>
 * The string is split at every comma (no quoting, no white space trimmed). Each part is {@code key=value}, or
 * {@code legacy} alone. Options are read left to right: {@code peer=} always begins a new host peer (as in QNX);
 * {@code bind=} begins a new one when the current one already has a {@code bind=}, else it belongs to the current
 * one; every other option belongs to the current host peer. Each host peer must end up with exactly one of:
 * <ul>
 * <li>{@code peer=path}: the vhost-user socket of the vnet port to attach to; the host peer is the vhost-user
 * front-end (the driver side) there. A value containing '/' is a socket path (write {@code ./name.sock} for one in the
 * working directory);</li>
 * <li>{@code peer=<link>:<port>}: a value without '/' names a port of a vnet switch or p2p link, e.g.
 * {@code peer=sw:hp}; the host peer attaches in-process to that port's in-framework ({@code inproc}) transport as its
 * driver. Both names are 1..64 letters, digits, '.', '_' or '-', as vnet.switching names are; exactly one ':';</li>
 * <li>{@code bind=path}: where this host peer listens for a guest's vhost-user front-end (QEMU connects to it, no
 * switch between); the host peer is the vhost-user back-end (the device side).</li>
 * </ul>
 * The other options: {@code mac=} the TAP interface's MAC address as 12 hexadecimal digits (unicast, not all zero;
 * default: the kernel's random one); {@code name=} the interface name prefix (default {@value #DEFAULT_NAME}; the
 * interface is the prefix plus an index, {@code vp0}, {@code vp1}); {@code legacy} a 10-byte virtio_net_hdr
 * (without {@code num_buffers}) on the TAP and the virtio side instead of 12 bytes; {@code priority=} the nice value
 * (-20 highest .. 19 lowest) of the peer's TX thread. Any other key, a repeated key, or a malformed value is
 * refused with a {@link PeerOptionException} naming the bad part.
 *
 * @param peer     the vnet port's socket path, or null (then {@code peerPort} or {@code bind} is set)
 * @param bind     the socket path this host peer listens at, or null (then {@code peer} or {@code peerPort} is set)
 * @param mac      the TAP interface's MAC address (48 bits), or {@link #NO_MAC}
 * @param name     the interface name prefix
 * @param legacy   10-byte virtio_net_hdr (no {@code num_buffers}) instead of 12
 * @param priority the TX thread's nice value, or null to leave it as inherited
 * @param peerPort the vnet switch or link port of {@code peer=<link>:<port>}, or null (then {@code peer} or
 *                 {@code bind} is set)
 */
public record PeerOptions(Path peer, Path bind, long mac, String name, boolean legacy, Integer priority,
        SwitchPort peerPort) {
    /** The interface name prefix when {@code name=} is not given (QNX's default). */
    public static final String DEFAULT_NAME = "vp";
    /** {@link #mac()} when {@code mac=} is not given. */
    public static final long NO_MAC = -1;
    /** The highest priority (lowest nice value). */
    public static final int NICE_MIN = -20;
    /** The lowest priority (highest nice value). */
    public static final int NICE_MAX = 19;
    /** Linux's IFNAMSIZ: an interface name has at most 15 characters plus the terminating NUL. */
    public static final int IFNAMSIZ = 16;
    /** Bytes of a Unix socket path ({@code sun_path} is 108 bytes with the terminating NUL). */
    public static final int MAX_SOCKET_PATH = 107;

    private static final String KNOWN = "peer, bind, mac, name, legacy, priority";

    /** Checks the combination (the parser reports bad input before this, with the part that was written). */
    public PeerOptions {
        if ((peer != null ? 1 : 0) + (peerPort != null ? 1 : 0) + (bind != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("exactly one of peer (a path), peerPort and bind must be set: peer=" + peer
                    + ", peerPort=" + peerPort + ", bind=" + bind);
        }
        Objects.requireNonNull(name, "name");
        if (mac != NO_MAC && (mac < 0 || mac > 0xFFFF_FFFF_FFFFL)) {
            throw new IllegalArgumentException("mac " + Long.toHexString(mac) + " is not 48 bits");
        }
        if (priority != null && (priority < NICE_MIN || priority > NICE_MAX)) {
            throw new IllegalArgumentException("priority " + priority + " is not a nice value");
        }
    }

    /** Options with a socket path ({@code peer}) or a bind path, as before switch ports: {@code peerPort} is null. */
    public PeerOptions(Path peer, Path bind, long mac, String name, boolean legacy, Integer priority) {
        this(peer, bind, mac, name, legacy, priority, null);
    }

    /** A host peer that attaches to the vnet port at {@code socket} (as its vhost-user front-end), with defaults. */
    public static PeerOptions peer(Path socket) {
        return new PeerOptions(socket, null, NO_MAC, DEFAULT_NAME, false, null);
    }

    /** A host peer that attaches in-process to the vnet switch or link port {@code port}, with defaults. */
    public static PeerOptions peer(SwitchPort port) {
        return new PeerOptions(null, null, NO_MAC, DEFAULT_NAME, false, null, port);
    }

    /** A host peer that listens at {@code socket} for a guest's vhost-user front-end, with defaults. */
    public static PeerOptions bind(Path socket) {
        return new PeerOptions(null, socket, NO_MAC, DEFAULT_NAME, false, null);
    }

    /**
     * Whether this peer is a vhost-user back-end listening at {@link #bind()} (else it attaches to {@link #peer()} or
     * {@link #peerPort()}).
     */
    public boolean isBind() {
        return bind != null;
    }

    /** Whether this peer attaches in-process to a switch or link port ({@code peer=<link>:<port>}, {@link #peerPort()}). */
    public boolean isSwitchPort() {
        return peerPort != null;
    }

    /** What {@code peer=} or {@code bind=} says: the socket path, {@code link:port}, or the bind path. */
    public String target() {
        return peer != null ? peer.toString() : peerPort != null ? peerPort.toString() : bind.toString();
    }

    /** The virtio_net_hdr size on the TAP: 10 with {@code legacy}, else 12. */
    public int headerSize() {
        return legacy ? 10 : 12;
    }

    /**
     * The interface name for {@code index}: the prefix plus the index.
     *
     * @throws PeerOptionException if the name exceeds 15 characters (IFNAMSIZ 16 with the NUL)
     */
    public String interfaceName(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("interface index " + index + " is negative");
        }
        return checkNameLength(name, name + index);
    }

    /** This options' QNX string, in canonical order. */
    public String toOptionString() {
        StringBuilder sb = new StringBuilder();
        sb.append(bind != null ? "bind=" : "peer=").append(target());
        if (mac != NO_MAC) {
            sb.append(",mac=").append(String.format("%012x", mac));
        }
        if (!DEFAULT_NAME.equals(name)) {
            sb.append(",name=").append(name);
        }
        if (legacy) {
            sb.append(",legacy");
        }
        if (priority != null) {
            sb.append(",priority=").append(priority);
        }
        return sb.toString();
    }

    /** The MAC address as {@code aa:bb:cc:dd:ee:ff}, or null without {@code mac=}. */
    public String macString() {
        return mac == NO_MAC ? null : formatMac(mac);
    }

    /** {@code aa:bb:cc:dd:ee:ff} for a 48-bit address. */
    public static String formatMac(long mac) {
        StringBuilder sb = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            sb.append(String.format("%02x", (mac >>> (8 * i)) & 0xFF));
            if (i > 0) {
                sb.append(':');
            }
        }
        return sb.toString();
    }

    // ---- parsing -----------------------------------------------------------------------------------------------

    /**
     * Parses a QNX option string holding one host peer.
     *
     * @throws PeerOptionException if the string is malformed or holds several host peers
     */
    public static PeerOptions parseOne(String options) {
        List<PeerOptions> all = parse(options);
        if (all.size() != 1) {
            throw new PeerOptionException(options, "the options hold " + all.size()
                    + " host peers; a vnet.peer configuration holds one (make one configuration per peer)");
        }
        return all.get(0);
    }

    /**
     * Parses a QNX option string holding one or more host peers (see the class comment for the grammar).
     *
     * @throws PeerOptionException naming the first bad part
     */
    public static List<PeerOptions> parse(String options) {
        Objects.requireNonNull(options, "options");
        if (options.isEmpty()) {
            throw new PeerOptionException("", "no host peer: the options are empty (a host peer starts with peer=path or bind=path)");
        }
        String[] parts = options.split(",", -1);
        List<Group> groups = new ArrayList<>();
        Group current = null;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty()) {
                throw new PeerOptionException("", "empty option at position " + (i + 1) + " of \"" + options
                        + "\" (two commas in a row, or a comma at an end)");
            }
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            String value = eq < 0 ? null : part.substring(eq + 1);
            switch (key) {
                case "peer" -> {
                    current = new Group(groups.size() + 1);
                    groups.add(current);
                    String v = requireValue(part, key, value, "peer=path or peer=<link>:<port>");
                    if (v.indexOf('/') >= 0) {
                        current.peer = socketPath(part, key, v);
                    } else {
                        current.peerPort = switchPort(part, v);
                    }
                }
                case "bind" -> {
                    if (current == null || current.bind != null) {
                        current = new Group(groups.size() + 1);
                        groups.add(current);
                    }
                    current.bind = socketPath(part, key, requireValue(part, key, value, "bind=path"));
                }
                case "mac", "name", "priority", "legacy" -> {
                    if (current == null) {
                        current = new Group(groups.size() + 1);
                        groups.add(current);
                    }
                    current.set(part, key, value);
                }
                default -> throw new PeerOptionException(part, "unknown option \"" + part + "\" (known: " + KNOWN + ")");
            }
            current.parts.add(part);
        }
        List<PeerOptions> result = new ArrayList<>(groups.size());
        for (Group g : groups) {
            result.add(g.build());
        }
        return List.copyOf(result);
    }

    /** One host peer's options while parsing. */
    private static final class Group {
        final int number;
        final List<String> parts = new ArrayList<>();
        Path peer;
        SwitchPort peerPort;
        Path bind;
        long mac = NO_MAC;
        String name;
        boolean legacy;
        Integer priority;

        Group(int number) {
            this.number = number;
        }

        void set(String part, String key, String value) {
            boolean repeated = switch (key) {
                case "mac" -> mac != NO_MAC;
                case "name" -> name != null;
                case "priority" -> priority != null;
                default -> legacy;
            };
            if (repeated) {
                throw new PeerOptionException(part, "option \"" + part + "\" repeats " + key + " for host peer " + number);
            }
            switch (key) {
                case "mac" -> mac = parseMac(part, requireValue(part, key, value, "mac=XXXXXXXXXXXX"));
                case "name" -> name = parseName(part, requireValue(part, key, value, "name=prefix"));
                case "priority" -> priority = parsePriority(part, requireValue(part, key, value, "priority=level"));
                default -> {
                    if (value != null) {
                        throw new PeerOptionException(part, "option \"" + part + "\": legacy takes no value");
                    }
                    legacy = true;
                }
            }
        }

        PeerOptions build() {
            String text = String.join(",", parts);
            boolean hasPeer = peer != null || peerPort != null;
            if (!hasPeer && bind == null) {
                throw new PeerOptionException(text, "host peer " + number + " (\"" + text
                        + "\") has neither peer=path nor bind=path");
            }
            if (hasPeer && bind != null) {
                throw new PeerOptionException(text, "host peer " + number + " has both peer="
                        + (peer != null ? peer : peerPort) + " and bind=" + bind
                        + ": it attaches to a vnet port (peer=) or waits for a guest's vhost-user front-end (bind=), not both");
            }
            return new PeerOptions(peer, bind, mac, name == null ? DEFAULT_NAME : name, legacy, priority, peerPort);
        }
    }

    private static String requireValue(String part, String key, String value, String form) {
        if (value == null || value.isEmpty()) {
            throw new PeerOptionException(part, "option \"" + part + "\" needs a value: " + form);
        }
        return value;
    }

    private static Path socketPath(String part, String key, String v) {
        int bytes = v.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH) {
            throw new PeerOptionException(part, key + "=" + v + ": a Unix socket path has at most " + MAX_SOCKET_PATH
                    + " bytes, this one " + bytes);
        }
        if (v.indexOf('\0') >= 0) {
            throw new PeerOptionException(part, key + "=: a path may not contain a NUL character");
        }
        return Path.of(v);
    }

    /** {@code <link>:<port>}: a {@code peer=} value without '/'. */
    private static SwitchPort switchPort(String part, String v) {
        String form = " (peer=<link>:<port>, e.g. peer=sw:hp)";
        int colon = v.indexOf(':');
        if (colon < 0) {
            throw new PeerOptionException(part, part + " is neither a socket path (a path contains '/', e.g. peer=./" + v
                    + ") nor a switch port" + form);
        }
        if (v.indexOf(':', colon + 1) >= 0) {
            throw new PeerOptionException(part, part + ": a switch port has one ':' between the switch or link name and "
                    + "the port name" + form);
        }
        String link = v.substring(0, colon);
        String port = v.substring(colon + 1);
        if (link.isEmpty()) {
            throw new PeerOptionException(part, part + ": the switch or link name before ':' is empty" + form);
        }
        if (port.isEmpty()) {
            throw new PeerOptionException(part, part + ": the port name after ':' is empty" + form);
        }
        if (!Names.isValid(link)) {
            throw new PeerOptionException(part, part + ": the switch or link name \"" + link + "\" is not a valid name ("
                    + Names.RULE + ")");
        }
        if (!Names.isValid(port)) {
            throw new PeerOptionException(part, part + ": the port name \"" + port + "\" is not a valid name ("
                    + Names.RULE + ")");
        }
        return new SwitchPort(link, port);
    }

    private static long parseMac(String part, String v) {
        if (v.length() != 12 || !v.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new PeerOptionException(part, part + " is not 12 hexadecimal digits (mac=XXXXXXXXXXXX, e.g. mac=a0b0c0d0e0f0)");
        }
        long mac = Long.parseLong(v, 16);
        if (mac == 0) {
            throw new PeerOptionException(part, part + " is the all-zero address: an interface needs a unicast MAC");
        }
        if ((mac & (1L << 40)) != 0) {
            throw new PeerOptionException(part, part + " is a multicast address (the first byte is odd): an interface needs a unicast MAC");
        }
        return mac;
    }

    private static String parseName(String part, String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '/' || c == ':' || c == '%' || Character.isWhitespace(c) || c < 0x20 || c > 0x7e) {
                throw new PeerOptionException(part, part + ": an interface name has printable ASCII characters but no '/', ':', '%' or space");
            }
        }
        checkNameLength(v, v + "0"); // the index adds at least one digit
        return v;
    }

    private static String checkNameLength(String prefix, String interfaceName) {
        if (interfaceName.length() > IFNAMSIZ - 1) {
            throw new PeerOptionException("name=" + prefix, "name=" + prefix + ": interface name " + interfaceName + " has "
                    + interfaceName.length() + " characters; Linux allows " + (IFNAMSIZ - 1) + " (IFNAMSIZ " + IFNAMSIZ
                    + " with the terminating NUL)");
        }
        return interfaceName;
    }

    private static Integer parsePriority(String part, String v) {
        if (!v.matches("[+-]?[0-9]{1,9}")) {
            throw new PeerOptionException(part, part + " is not a nice value (an integer from " + NICE_MIN + ", highest, to "
                    + NICE_MAX + ", lowest)");
        }
        int nice = Integer.parseInt(v);
        if (nice < NICE_MIN || nice > NICE_MAX) {
            throw new PeerOptionException(part, part + " is out of range: a nice value is from " + NICE_MIN
                    + " (highest) to " + NICE_MAX + " (lowest)");
        }
        return nice;
    }

    @Override
    public String toString() {
        return toOptionString();
    }
}
