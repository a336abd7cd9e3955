package vnet.switching;

import vnet.transport.shm.DataspaceRegistry;

/**
 * What a client asks for when its port is created: the key=value pairs of the L4Re p2p server's
 * {@code create(0, "ds-max=<max>", "mac=<addr>")}, each optional, in any order.
 *
 * @param dsMax most dataspaces the client may register, 1..80 (default 2)
 * @param mac   the port's MAC address, or {@link MacAddress#NONE}
 */
public record PortOptions(int dsMax, long mac) {
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
    }

    /**
     * Parses options separated by spaces and/or commas, e.g. {@code "ds-max=4 mac=02:00:00:00:00:01"}; null or
     * blank gives {@link #DEFAULTS}. Anything else is refused with a message naming the bad part:
     * <ul>
     * <li>{@code malformed option "<part>" (expected key=value)}</li>
     * <li>{@code unknown option "<part>" (expected ds-max=<1..80> or mac=<xx:xx:xx:xx:xx:xx>)}</li>
     * <li>{@code option "<key>" given twice}</li>
     * <li>{@code ds-max=<value> is not a number}, {@code ds-max=<n> is out of range 1..80}</li>
     * <li>{@code mac=<value> is not of the form xx:xx:xx:xx:xx:xx}, {@code mac=<value> is a multicast address}</li>
     * </ul>
     */
    public static PortOptions parse(String text) {
        int dsMax = DataspaceRegistry.DS_MAX_DEFAULT;
        long mac = MacAddress.NONE;
        boolean sawDsMax = false;
        boolean sawMac = false;
        if (text == null) {
            return DEFAULTS;
        }
        for (String part : text.trim().split("[\\s,]+")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
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
                default -> throw new IllegalArgumentException("unknown option \"" + part
                        + "\" (expected ds-max=<1..80> or mac=<xx:xx:xx:xx:xx:xx>)");
            }
        }
        return new PortOptions(dsMax, mac);
    }

    /** The canonical form, e.g. {@code ds-max=2 mac=02:00:00:00:00:01}. */
    @Override
    public String toString() {
        return "ds-max=" + dsMax + (mac == MacAddress.NONE ? "" : " mac=" + MacAddress.toString(mac));
    }
}
