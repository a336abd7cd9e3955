package vnet.switching;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

import vnet.transport.shm.DataspaceRegistry;

/**
 * What a client asks for when its port is created: the key=value pairs of the L4Re p2p server's
 * {@code create(0, "ds-max=<max>", "mac=<addr>")}, each optional, in any order, and the options of the port's
 * transport when it takes some (a {@code vxlan} port's {@code vni=42 local=... remote=...}): those are kept as
 * given, in order, for the transport to check ({@code Transport.checkOptions}).
 *
 * @param dsMax     most dataspaces the client may register, 1..80 (default 2)
 * @param mac       the port's MAC address, or {@link MacAddress#NONE}
 * @param transport the transport's own options, key to value as given
 * @param maxMacs    switch ports: most MAC addresses the switch learns on the port (0: no limit); frames from further
 *                   addresses are dropped and counted, so one guest cannot fill the MAC table
 * @param floodLimit switch ports: most flooded frames (broadcast, multicast, unknown unicast) per second the port may
 *                   send (0: no limit); more are dropped and counted, so one guest cannot starve the switch
 * @param offloads   whether the port offers the checksum and segmentation offloads (default on; {@code offloads=off})
 * @param mtu        the port's MTU ({@code mtu=68..65535}: VIRTIO_NET_F_MTU, config {@code mtu}, longer non-GSO
 *                   frames the client sends are dropped), or {@link #NO_MTU}
 * @param queues     queue pairs offered ({@code queues=1..64}, default 1; more than one offers VIRTIO_NET_F_MQ)
 */
public record PortOptions(int dsMax, long mac, Map<String, String> transport, int maxMacs, int floodLimit,
                          boolean offloads, int mtu, int queues) {
    /** ds-max=2, no MAC. */
    public static final PortOptions DEFAULTS = new PortOptions(DataspaceRegistry.DS_MAX_DEFAULT, MacAddress.NONE);
    /** Largest {@code max-macs}. */
    public static final int MAX_MACS_MAX = 1 << 20;
    /** Largest {@code flood-limit} (frames per second). */
    public static final int FLOOD_LIMIT_MAX = 100_000_000;
    /** {@code mtu}: none set (no VIRTIO_NET_F_MTU, no limit but the largest frame). */
    public static final int NO_MTU = 0;
    public static final int MTU_MIN = 68;
    public static final int MTU_MAX = 65535;
    /** Most queue pairs of a port (the data path keeps a 64-bit mask of the pairs it wrote to). */
    public static final int QUEUES_MAX = 64;

    /** Checks the ranges (same messages as {@link #parse}). */
    public PortOptions {
        if (!DataspaceRegistry.isValidDsMax(dsMax)) {
            throw new IllegalArgumentException("ds-max=" + dsMax + " is out of range "
                    + DataspaceRegistry.DS_MAX_MIN + ".." + DataspaceRegistry.DS_MAX_MAX);
        }
        if (mac != MacAddress.NONE && (mac < 0 || mac > MacAddress.BROADCAST)) {
            throw new IllegalArgumentException("mac=" + Long.toHexString(mac) + " is not a 48-bit address");
        }
        if (mac != MacAddress.NONE && MacAddress.isMulticast(mac)) {
            throw new IllegalArgumentException("mac=" + MacAddress.toString(mac) + " is a multicast address");
        }
        transport = Collections.unmodifiableMap(new LinkedHashMap<>(transport));
        if (maxMacs < 0 || maxMacs > MAX_MACS_MAX) {
            throw new IllegalArgumentException("max-macs=" + maxMacs + " is out of range 1.." + MAX_MACS_MAX);
        }
        if (floodLimit < 0 || floodLimit > FLOOD_LIMIT_MAX) {
            throw new IllegalArgumentException("flood-limit=" + floodLimit + " is out of range 1.." + FLOOD_LIMIT_MAX);
        }
        if (mtu != NO_MTU && (mtu < MTU_MIN || mtu > MTU_MAX)) {
            throw new IllegalArgumentException("mtu=" + mtu + " is out of range " + MTU_MIN + ".." + MTU_MAX);
        }
        if (queues < 1 || queues > QUEUES_MAX) {
            throw new IllegalArgumentException("queues=" + queues + " is out of range 1.." + QUEUES_MAX);
        }
    }

    /** Options with the default offloads (on), no MTU and one queue pair. */
    public PortOptions(int dsMax, long mac, Map<String, String> transport, int maxMacs, int floodLimit) {
        this(dsMax, mac, transport, maxMacs, floodLimit, true, NO_MTU, 1);
    }

    /** Options without port-security limits. */
    public PortOptions(int dsMax, long mac, Map<String, String> transport) {
        this(dsMax, mac, transport, 0, 0);
    }

    /** Options without transport options or limits. */
    public PortOptions(int dsMax, long mac) {
        this(dsMax, mac, Map.of());
    }

    /** {@link #parse(String, String, Set)} for a transport that takes no options of its own. */
    public static PortOptions parse(String text) {
        return parse(text, null, Set.of());
    }

    /**
     * Parses options separated by spaces and/or commas, e.g. {@code "ds-max=4 mac=02:00:00:00:00:01"}; null or
     * blank gives {@link #DEFAULTS}. Keys in {@code transportKeys} are the transport's: kept as given, and a
     * comma-separated list continues their value ({@code remote=192.0.2.102,192.0.2.103}). Anything else is refused
     * with a message naming the bad part:
     * <ul>
     * <li>{@code malformed option "<part>" (expected key=value)}</li>
     * <li>{@code unknown option "<part>" (expected ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>,
     * flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535> or queues=<1..64>)}; with transport options:
     * {@code (expected ..., queues=<1..64> or a <transport> option: <keys>)}</li>
     * <li>{@code offloads=<value> is not on or off}</li>
     * <li>{@code mtu=<value> is not a number}, {@code mtu=<n> is out of range 68..65535}</li>
     * <li>{@code queues=<value> is not a number}, {@code queues=<n> is out of range 1..64}</li>
     * <li>{@code max-macs=<value> is not a number}, {@code max-macs=<n> is out of range 1..1048576}; the same for
     * {@code flood-limit} (1..100000000)</li>
     * <li>{@code option "<key>" given twice}</li>
     * <li>{@code ds-max=<value> is not a number}, {@code ds-max=<n> is out of range 1..80}</li>
     * <li>{@code mac=<value> is not of the form xx:xx:xx:xx:xx:xx}, {@code mac=<value> is a multicast address}</li>
     * </ul>
     *
     * @param transport     the transport's type, for messages (null when it takes no options)
     * @param transportKeys the keys of the transport's options
     */
    public static PortOptions parse(String text, String transport, Set<String> transportKeys) {
        return parse(text, transport, transportKeys::contains, transportKeys);
    }

    /**
     * Like {@link #parse(String, String, Set)} while the transport is not known yet: every key but ds-max and mac is
     * kept as a transport option, to be checked once the transport is there.
     */
    public static PortOptions parseAnyTransport(String text) {
        return parse(text, "transport", key -> true, Set.of());
    }

    private static PortOptions parse(String text, String transport, Predicate<String> isTransportKey,
            Set<String> transportKeys) {
        int dsMax = DataspaceRegistry.DS_MAX_DEFAULT;
        long mac = MacAddress.NONE;
        boolean sawDsMax = false;
        boolean sawMac = false;
        int maxMacs = 0;
        int floodLimit = 0;
        boolean offloads = true;
        boolean sawOffloads = false;
        int mtu = NO_MTU;
        int queues = 1;
        boolean sawQueues = false;
        Map<String, String> own = new LinkedHashMap<>();
        if (text == null) {
            return DEFAULTS;
        }
        String listKey = null; // the transport option a comma-separated piece without '=' continues
        for (String word : text.trim().split("\\s+")) {
            String[] pieces = word.split(",");
            for (int i = 0; i < pieces.length; i++) {
                String part = pieces[i];
                if (part.isEmpty()) {
                    continue;
                }
                int eq = part.indexOf('=');
                if (eq < 0 && i > 0 && listKey != null) {
                    own.put(listKey, own.get(listKey) + "," + part);
                    continue;
                }
                listKey = null;
                if (eq <= 0) {
                    throw new IllegalArgumentException("malformed option \"" + part + "\" (expected key=value)");
                }
                String key = part.substring(0, eq);
                String value = part.substring(eq + 1);
                switch (key) {
                    case "ds-max" -> {
                        if (sawDsMax) {
                            throw new IllegalArgumentException("option \"ds-max\" given twice");
                        }
                        sawDsMax = true;
                        if (!value.matches("-?[0-9]+")) {
                            throw new IllegalArgumentException("ds-max=" + value + " is not a number");
                        }
                        dsMax = value.length() > 9 ? -1 : Integer.parseInt(value);
                        if (!DataspaceRegistry.isValidDsMax(dsMax)) {
                            throw new IllegalArgumentException("ds-max=" + value + " is out of range "
                                    + DataspaceRegistry.DS_MAX_MIN + ".." + DataspaceRegistry.DS_MAX_MAX);
                        }
                    }
                    case "mac" -> {
                        if (sawMac) {
                            throw new IllegalArgumentException("option \"mac\" given twice");
                        }
                        sawMac = true;
                        mac = MacAddress.parse(value);
                        if (MacAddress.isMulticast(mac)) {
                            throw new IllegalArgumentException("mac=" + value + " is a multicast address");
                        }
                    }
                    case "max-macs" -> {
                        if (maxMacs != 0) {
                            throw new IllegalArgumentException("option \"max-macs\" given twice");
                        }
                        maxMacs = positive("max-macs", value, MAX_MACS_MAX);
                    }
                    case "flood-limit" -> {
                        if (floodLimit != 0) {
                            throw new IllegalArgumentException("option \"flood-limit\" given twice");
                        }
                        floodLimit = positive("flood-limit", value, FLOOD_LIMIT_MAX);
                    }
                    case "offloads" -> {
                        if (sawOffloads) {
                            throw new IllegalArgumentException("option \"offloads\" given twice");
                        }
                        sawOffloads = true;
                        if (!value.equals("on") && !value.equals("off")) {
                            throw new IllegalArgumentException("offloads=" + value + " is not on or off");
                        }
                        offloads = value.equals("on");
                    }
                    case "mtu" -> {
                        if (mtu != NO_MTU) {
                            throw new IllegalArgumentException("option \"mtu\" given twice");
                        }
                        mtu = inRange("mtu", value, MTU_MIN, MTU_MAX);
                    }
                    case "queues" -> {
                        if (sawQueues) {
                            throw new IllegalArgumentException("option \"queues\" given twice");
                        }
                        sawQueues = true;
                        queues = inRange("queues", value, 1, QUEUES_MAX);
                    }
                    default -> {
                        if (!isTransportKey.test(key)) {
                            throw new IllegalArgumentException("unknown option \"" + part + "\" (expected "
                                    + (transportKeys.isEmpty()
                                            ? OWN_OPTIONS + " or queues=<1..64>)"
                                            : OWN_OPTIONS + ", queues=<1..64> or a "
                                                    + transport + " option: "
                                                    + String.join(", ", new TreeSet<>(transportKeys)) + ")"));
                        }
                        if (own.containsKey(key)) {
                            throw new IllegalArgumentException("option \"" + key + "\" given twice");
                        }
                        own.put(key, value);
                        listKey = key;
                    }
                }
            }
        }
        return new PortOptions(dsMax, mac, own, maxMacs, floodLimit, offloads, mtu, queues);
    }

    /** The options of every port, for the unknown-option message (the last one follows). */
    private static final String OWN_OPTIONS = "ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>, "
            + "flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535>";

    private static int positive(String key, String value, int max) {
        return inRange(key, value, 1, max);
    }

    private static int inRange(String key, String value, int min, int max) {
        if (!value.matches("-?[0-9]+")) {
            throw new IllegalArgumentException(key + "=" + value + " is not a number");
        }
        long n = value.length() > 10 ? -1 : Long.parseLong(value);
        if (n < min || n > max) {
            throw new IllegalArgumentException(key + "=" + value + " is out of range " + min + ".." + max);
        }
        return (int) n;
    }

    /** The canonical form, e.g. {@code ds-max=2 mac=02:00:00:00:00:01 vni=42}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ds-max=").append(dsMax);
        if (mac != MacAddress.NONE) {
            b.append(" mac=").append(MacAddress.toString(mac));
        }
        if (maxMacs > 0) {
            b.append(" max-macs=").append(maxMacs);
        }
        if (floodLimit > 0) {
            b.append(" flood-limit=").append(floodLimit);
        }
        if (!offloads) {
            b.append(" offloads=off");
        }
        if (mtu != NO_MTU) {
            b.append(" mtu=").append(mtu);
        }
        if (queues != 1) {
            b.append(" queues=").append(queues);
        }
        transport.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        return b.toString();
    }
}
