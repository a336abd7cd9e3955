package vnet.switching;

/**
 * Ethernet MAC addresses as 48-bit {@code long}s (first octet in bits 40-47): parsing and printing the
 * {@code xx:xx:xx:xx:xx:xx} form of the L4Re {@code mac=} option. Nothing here allocates but {@link #toString(long)}.
 */
public final class MacAddress {
    /** No address (the value of an unset {@code mac=}). */
    public static final long NONE = -1;
    /** ff:ff:ff:ff:ff:ff. */
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private MacAddress() {
    }

    /**
     * Parses {@code xx:xx:xx:xx:xx:xx} (hex digits, either case).
     *
     * @throws IllegalArgumentException with the message {@code mac=<text> is not of the form xx:xx:xx:xx:xx:xx}
     */
    public static long parse(String text) {
        if (text.length() != 17) {
            throw malformed(text);
        }
        long mac = 0;
        for (int i = 0; i < 6; i++) {
            int hi = Character.digit(text.charAt(3 * i), 16);
            int lo = Character.digit(text.charAt(3 * i + 1), 16);
            if (hi < 0 || lo < 0 || (i < 5 && text.charAt(3 * i + 2) != ':')) {
                throw malformed(text);
            }
            mac = mac << 8 | hi << 4 | lo;
        }
        return mac;
    }

    private static IllegalArgumentException malformed(String text) {
        return new IllegalArgumentException("mac=" + text + " is not of the form xx:xx:xx:xx:xx:xx");
    }

    /** Whether the group bit (bit 0 of the first octet) is set: broadcast or multicast. */
    public static boolean isMulticast(long mac) {
        return (mac & 0x0100_0000_0000L) != 0;
    }

    /** {@code xx:xx:xx:xx:xx:xx}, lower case; empty for {@link #NONE}. */
    public static String toString(long mac) {
        if (mac < 0) {
            return "";
        }
        StringBuilder b = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            int octet = (int) (mac >>> (8 * i)) & 0xff;
            b.append(Character.forDigit(octet >> 4, 16)).append(Character.forDigit(octet & 15, 16));
            if (i > 0) {
                b.append(':');
            }
        }
        return b.toString();
    }
}
