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
 */
public record PortOptions(int dsMax, long mac, Map<String, String> transport) {
    /** ds-max=2, no MAC. */
    public static final PortOptions DEFAULTS = new PortOptions(DataspaceRegistry.DS_MAX_DEFAULT, MacAddress.NONE);

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
    }

    /** Options without transport options. */
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
     * <li>{@code unknown option "<part>" (expected ds-max=<1..80> or mac=<xx:xx:xx:xx:xx:xx>)}; with transport
     * options: {@code (expected ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx> or a <transport> option: <keys>)}</li>
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
                    default -> {
                        if (!isTransportKey.test(key)) {
                            throw new IllegalArgumentException("unknown option \"" + part + "\" (expected "
                                    + (transportKeys.isEmpty() ? "ds-max=<1..80> or mac=<xx:xx:xx:xx:xx:xx>)"
                                            : "ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx> or a " + transport + " option: "
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
        return new PortOptions(dsMax, mac, own);
    }

    /** The canonical form, e.g. {@code ds-max=2 mac=02:00:00:00:00:01 vni=42}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ds-max=").append(dsMax);
        if (mac != MacAddress.NONE) {
            b.append(" mac=").append(MacAddress.toString(mac));
        }
        transport.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        return b.toString();
    }
}
