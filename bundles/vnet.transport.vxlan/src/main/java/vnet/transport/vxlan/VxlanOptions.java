package vnet.transport.vxlan;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * A VXLAN port's options, as in {@code vnet:create port sw up -t vxlan vni=42 local=192.0.2.101 remote=192.0.2.102}:
 * the VXLAN network identifier, the local tunnel address (IPv4, an address of this host), the remote tunnel
 * endpoints (a comma-separated list; broadcast, multicast and unknown unicast go to each) and the UDP destination port
 * (default 4789, IANA's). Addresses are host-order {@code int}s.
 *
 * @param vni     1..16777215
 * @param local   the local IPv4 address
 * @param remotes the remote endpoints' IPv4 addresses, 1..{@value #MAX_REMOTES}, distinct, none the local one
 * @param dstport the UDP port to send to and to receive on, 1..65535
 */
public record VxlanOptions(int vni, int local, int[] remotes, int dstport) {
    /** The transport type. */
    public static final String TYPE = "vxlan";
    /** The IANA port for VXLAN. */
    public static final int DEFAULT_DSTPORT = 4789;
    public static final int VNI_MAX = 0xFF_FFFF;
    /** Most remotes: each broadcast frame is sent once per remote. */
    public static final int MAX_REMOTES = 32;
    /** The option keys. */
    public static final Set<String> KEYS = Set.of("vni", "local", "remote", "dstport");

    public VxlanOptions {
        remotes = remotes.clone();
    }

    @Override
    public int[] remotes() {
        return remotes.clone();
    }

    /**
     * Reads the options; each bad one is refused with a one-line message naming it: {@code vni=0 is out of range
     * 1..16777215}, {@code vni=x is not a number}, {@code local=1.2.3 is not an IPv4 address},
     * {@code remote=192.0.2.102,x: "x" is not an IPv4 address}, {@code vxlan port needs local=<IPv4 address>} (and
     * vni=, remote=), {@code dstport=0 is out of range 1..65535}, a remote given twice or equal to local, more than
     * {@value #MAX_REMOTES} remotes, and {@code mac=} (a tunnel port carries every remote station's address).
     *
     * @param options key to value, keys from {@link #KEYS}
     * @param mac     the port's {@code mac=}, -1 for none
     */
    public static VxlanOptions parse(Map<String, String> options, long mac) {
        for (String key : options.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown vxlan option \"" + key + "\" (expected vni, local, remote, dstport)");
            }
        }
        if (mac >= 0) {
            throw new IllegalArgumentException("mac= does not apply to a vxlan port: it carries the addresses of every "
                    + "station behind its remotes");
        }
        String vniText = required(options, "vni", "vni=<1.." + VNI_MAX + ">");
        String localText = required(options, "local", "local=<IPv4 address>");
        String remoteText = required(options, "remote", "remote=<IPv4 address>[,<IPv4 address>...]");
        int vni = number("vni", vniText, 1, VNI_MAX);
        int local = address("local=" + localText, localText);
        String[] parts = remoteText.split(",", -1);
        if (parts.length > MAX_REMOTES) {
            throw new IllegalArgumentException("remote= lists " + parts.length + " addresses; at most " + MAX_REMOTES);
        }
        int[] remotes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String what = "remote=" + remoteText + (parts.length > 1 ? ": \"" + parts[i] + "\"" : "");
            remotes[i] = address(what, parts[i]);
            if (remotes[i] == local) {
                throw new IllegalArgumentException("remote=" + parts[i] + " is the local address");
            }
            for (int j = 0; j < i; j++) {
                if (remotes[j] == remotes[i]) {
                    throw new IllegalArgumentException("remote=" + remoteText + " lists " + parts[i] + " twice");
                }
            }
        }
        int dstport = options.containsKey("dstport") ? number("dstport", options.get("dstport"), 1, 65535) : DEFAULT_DSTPORT;
        return new VxlanOptions(vni, local, remotes, dstport);
    }

    private static String required(Map<String, String> options, String key, String form) {
        String v = options.get(key);
        if (v == null) {
            throw new IllegalArgumentException("a vxlan port needs " + form);
        }
        return v;
    }

    private static int number(String key, String text, int min, int max) {
        if (!text.matches("[0-9]{1,9}")) {
            throw new IllegalArgumentException(key + "=" + text + (text.matches("-?[0-9]+")
                    ? " is out of range " + min + ".." + max : " is not a number"));
        }
        int v = Integer.parseInt(text);
        if (v < min || v > max) {
            throw new IllegalArgumentException(key + "=" + text + " is out of range " + min + ".." + max);
        }
        return v;
    }

    /** A dotted-quad IPv4 literal (never a host name: nothing is looked up); not 0.0.0.0, multicast or broadcast. */
    static int address(String what, String text) {
        String[] q = text.split("\\.", -1);
        boolean ok = q.length == 4;
        int a = 0;
        for (int i = 0; ok && i < 4; i++) {
            ok = q[i].matches("[0-9]{1,3}") && Integer.parseInt(q[i]) <= 255;
            a = ok ? a << 8 | Integer.parseInt(q[i]) : 0;
        }
        if (!ok) {
            throw new IllegalArgumentException(what + " is not an IPv4 address");
        }
        if (a == 0 || a == -1 || (a >>> 28) == 0xE) {
            throw new IllegalArgumentException(what + " is not a unicast IPv4 address");
        }
        return a;
    }

    /** Dotted quad of a host-order address. */
    public static String format(int ipv4) {
        return (ipv4 >>> 24) + "." + (ipv4 >>> 16 & 0xFF) + "." + (ipv4 >>> 8 & 0xFF) + "." + (ipv4 & 0xFF);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VxlanOptions v && v.vni == vni && v.local == local && Arrays.equals(v.remotes, remotes)
                && v.dstport == dstport;
    }

    @Override
    public int hashCode() {
        return (vni * 31 + local) * 31 + Arrays.hashCode(remotes) + dstport;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("vni=").append(vni).append(" local=").append(format(local)).append(" remote=");
        for (int i = 0; i < remotes.length; i++) {
            b.append(i == 0 ? "" : ",").append(format(remotes[i]));
        }
        return b.append(" dstport=").append(dstport).toString();
    }
}
