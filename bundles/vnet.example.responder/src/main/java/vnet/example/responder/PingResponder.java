package vnet.example.responder;

/**
 * Answers, for one IPv4 address, ARP requests and ICMP echo requests (ping): given a received Ethernet frame,
 * writes the answer into a buffer. Plain Java, no allocation per frame.
 */
public final class PingResponder {
    static final int ETH_HEADER = 14;
    static final int TYPE_ARP = 0x0806;
    static final int TYPE_IPV4 = 0x0800;
    static final int ICMP = 1;
    static final int ECHO_REQUEST = 8;
    static final int ECHO_REPLY = 0;
    static final int MIN_FRAME = 60;

    private final byte[] mac;
    private final byte[] ip;

    /**
     * @param mac this station's MAC address (6 bytes)
     * @param ip  the IPv4 address to answer for (4 bytes)
     */
    public PingResponder(byte[] mac, byte[] ip) {
        if (mac.length != 6 || ip.length != 4) {
            throw new IllegalArgumentException("a MAC has 6 bytes, an IPv4 address 4");
        }
        this.mac = mac.clone();
        this.ip = ip.clone();
    }

    /**
     * The answer to {@code frame[0, length)}, written to {@code out} (at least as long as the frame, and 60 bytes).
     *
     * @return the answer's length, or 0 if the frame asks nothing of this address
     */
    public int answer(byte[] frame, int length, byte[] out) {
        if (length < ETH_HEADER) {
            return 0;
        }
        int type = u16(frame, 12);
        if (type == TYPE_ARP) {
            return arp(frame, length, out);
        }
        if (type == TYPE_IPV4) {
            return echo(frame, length, out);
        }
        return 0;
    }

    /** ARP request (Ethernet, IPv4) for our address: an ARP reply to the asker. */
    private int arp(byte[] f, int length, byte[] out) {
        int a = ETH_HEADER;
        if (length < a + 28 || u16(f, a) != 1 || u16(f, a + 2) != TYPE_IPV4 || f[a + 4] != 6 || f[a + 5] != 4
                || u16(f, a + 6) != 1 || !equal(f, a + 24, ip, 4)) {
            return 0;
        }
        java.util.Arrays.fill(out, 0, MIN_FRAME, (byte) 0);
        System.arraycopy(f, a + 8, out, 0, 6); // to the sender's hardware address
        System.arraycopy(mac, 0, out, 6, 6);
        put16(out, 12, TYPE_ARP);
        put16(out, a, 1);
        put16(out, a + 2, TYPE_IPV4);
        out[a + 4] = 6;
        out[a + 5] = 4;
        put16(out, a + 6, 2); // reply
        System.arraycopy(mac, 0, out, a + 8, 6);
        System.arraycopy(ip, 0, out, a + 14, 4);
        System.arraycopy(f, a + 8, out, a + 18, 10); // target = the asker's hardware and protocol address
        return MIN_FRAME;
    }

    /** ICMP echo request to our address (unfragmented): an echo reply with the same identifier, sequence and data. */
    private int echo(byte[] f, int length, byte[] out) {
        int ipAt = ETH_HEADER;
        if (length < ipAt + 20 || (f[ipAt] & 0xf0) != 0x40) {
            return 0;
        }
        int ihl = (f[ipAt] & 0x0f) * 4;
        int total = u16(f, ipAt + 2);
        if (ihl < 20 || total < ihl + 8 || ipAt + total > length || f[ipAt + 9] != ICMP
                || (u16(f, ipAt + 6) & 0x3fff) != 0 || !equal(f, ipAt + 16, ip, 4)) {
            return 0;
        }
        int icmpAt = ipAt + ihl;
        if ((f[icmpAt] & 0xff) != ECHO_REQUEST || checksum(f, icmpAt, total - ihl) != 0) {
            return 0;
        }
        int n = ipAt + total;
        System.arraycopy(f, 0, out, 0, n);
        System.arraycopy(f, 6, out, 0, 6);
        System.arraycopy(mac, 0, out, 6, 6);
        System.arraycopy(f, ipAt + 16, out, ipAt + 12, 4); // source = us
        System.arraycopy(f, ipAt + 12, out, ipAt + 16, 4); // destination = the asker
        out[ipAt + 8] = 64; // TTL
        put16(out, ipAt + 10, 0);
        put16(out, ipAt + 10, checksum(out, ipAt, ihl));
        out[icmpAt] = ECHO_REPLY;
        put16(out, icmpAt + 2, 0);
        put16(out, icmpAt + 2, checksum(out, icmpAt, total - ihl));
        if (n < MIN_FRAME) {
            java.util.Arrays.fill(out, n, MIN_FRAME, (byte) 0);
            n = MIN_FRAME;
        }
        return n;
    }

    /** The Internet checksum (RFC 1071) of {@code b[at, at + len)}. */
    static int checksum(byte[] b, int at, int len) {
        long sum = 0;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            sum += u16(b, at + i);
        }
        if (i < len) {
            sum += (b[at + i] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static boolean equal(byte[] a, int at, byte[] b, int len) {
        for (int i = 0; i < len; i++) {
            if (a[at + i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    /** "a.b.c.d" as 4 bytes. */
    public static byte[] parseIp(String text) {
        String[] p = text.trim().split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IPv4 address");
        }
        byte[] ip = new byte[4];
        for (int i = 0; i < 4; i++) {
            int v;
            try {
                v = Integer.parseInt(p[i]);
            } catch (NumberFormatException e) {
                v = -1;
            }
            if (v < 0 || v > 255) {
                throw new IllegalArgumentException("\"" + text + "\" is not an IPv4 address");
            }
            ip[i] = (byte) v;
        }
        return ip;
    }

    /** "xx:xx:xx:xx:xx:xx" as 6 bytes. */
    public static byte[] parseMac(String text) {
        String[] p = text.trim().split(":");
        if (p.length != 6) {
            throw new IllegalArgumentException("\"" + text + "\" is not a MAC address");
        }
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (!p[i].matches("[0-9A-Fa-f]{2}")) {
                throw new IllegalArgumentException("\"" + text + "\" is not a MAC address");
            }
            mac[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return mac;
    }

    /** A 48-bit MAC (as {@code long}) as 6 bytes. */
    public static byte[] macBytes(long mac) {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (mac >>> (40 - 8 * i));
        }
        return b;
    }

    static String format(byte[] mac) {
        StringBuilder sb = new StringBuilder();
        for (byte x : mac) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }
}
