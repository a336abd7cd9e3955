package vnet.virtio.net;

import java.util.Arrays;

import vnet.virtio.net.internal.LittleEndian;

/**
 * The device configuration space of the network device, {@code struct virtio_net_config} (VIRTIO 1.2 §5.1.4), all
 * little-endian:
 *
 * <pre>
 *  0  u8   mac[6]
 *  6  le16 status                           (STATUS)
 *  8  le16 max_virtqueue_pairs              (MQ or RSS)
 * 10  le16 mtu                              (MTU)
 * 12  le32 speed                            (SPEED_DUPLEX)
 * 16  u8   duplex                           (SPEED_DUPLEX)
 * 17  u8   rss_max_key_size                 (RSS or HASH_REPORT)
 * 18  le16 rss_max_indirection_table_length (RSS)
 * 20  le32 supported_hash_types             (RSS or HASH_REPORT)
 * 24  le32 supported_tunnel_types           (HASH_TUNNEL, VIRTIO 1.3)
 * </pre>
 *
 * Used to answer vhost-user {@code GET_CONFIG} (any offset and size) and by drivers to parse it. Mutable, for the
 * control plane; not thread safe.
 */
public final class NetConfig {

    /** Offset of {@code mac}. */
    public static final int OFFSET_MAC = 0;
    /** Offset of {@code status}. */
    public static final int OFFSET_STATUS = 6;
    /** Offset of {@code max_virtqueue_pairs}. */
    public static final int OFFSET_MAX_VIRTQUEUE_PAIRS = 8;
    /** Offset of {@code mtu}. */
    public static final int OFFSET_MTU = 10;
    /** Offset of {@code speed}. */
    public static final int OFFSET_SPEED = 12;
    /** Offset of {@code duplex}. */
    public static final int OFFSET_DUPLEX = 16;
    /** Offset of {@code rss_max_key_size}. */
    public static final int OFFSET_RSS_MAX_KEY_SIZE = 17;
    /** Offset of {@code rss_max_indirection_table_length}. */
    public static final int OFFSET_RSS_MAX_INDIRECTION_TABLE_LENGTH = 18;
    /** Offset of {@code supported_hash_types}. */
    public static final int OFFSET_SUPPORTED_HASH_TYPES = 20;
    /** Offset of {@code supported_tunnel_types}. */
    public static final int OFFSET_SUPPORTED_TUNNEL_TYPES = 24;
    /** Size of the whole layout, up to and including {@code supported_tunnel_types}. */
    public static final int SIZE = 28;

    /** {@code status}: the link is up. */
    public static final int S_LINK_UP = 1;
    /** {@code status}: the driver should send gratuitous packets (GUEST_ANNOUNCE). */
    public static final int S_ANNOUNCE = 2;

    /** {@code duplex}: half duplex. */
    public static final int DUPLEX_HALF = 0x00;
    /** {@code duplex}: full duplex. */
    public static final int DUPLEX_FULL = 0x01;
    /** {@code duplex}: unknown. */
    public static final int DUPLEX_UNKNOWN = 0xFF;
    /** {@code speed}: unknown. */
    public static final int SPEED_UNKNOWN = 0xFFFFFFFF;

    /** {@code supported_hash_types}: IPv4. */
    public static final int HASH_TYPE_IPV4 = 1;
    /** {@code supported_hash_types}: TCP/IPv4. */
    public static final int HASH_TYPE_TCPV4 = 1 << 1;
    /** {@code supported_hash_types}: UDP/IPv4. */
    public static final int HASH_TYPE_UDPV4 = 1 << 2;
    /** {@code supported_hash_types}: IPv6. */
    public static final int HASH_TYPE_IPV6 = 1 << 3;
    /** {@code supported_hash_types}: TCP/IPv6. */
    public static final int HASH_TYPE_TCPV6 = 1 << 4;
    /** {@code supported_hash_types}: UDP/IPv6. */
    public static final int HASH_TYPE_UDPV6 = 1 << 5;
    /** {@code supported_hash_types}: IPv6 with extension headers. */
    public static final int HASH_TYPE_IP_EX = 1 << 6;
    /** {@code supported_hash_types}: TCP/IPv6 with extension headers. */
    public static final int HASH_TYPE_TCP_EX = 1 << 7;
    /** {@code supported_hash_types}: UDP/IPv6 with extension headers. */
    public static final int HASH_TYPE_UDP_EX = 1 << 8;

    private final byte[] mac = new byte[6];
    private int status;
    private int maxVirtqueuePairs = 1;
    private int mtu;
    private int speed = SPEED_UNKNOWN;
    private int duplex = DUPLEX_UNKNOWN;
    private int rssMaxKeySize;
    private int rssMaxIndirectionTableLength;
    private int supportedHashTypes;
    private int supportedTunnelTypes;

    /** Creates a configuration with a zero MAC, status 0, one queue pair, mtu 0, unknown speed and duplex. */
    public NetConfig() {
    }

    /**
     * Returns how many bytes of the layout exist for a feature set: each field exists only with its feature, and
     * the space ends after the last existing field (the MAC always exists).
     *
     * @param features the device's features
     * @return 6 to {@link #SIZE}
     */
    public static int configSize(long features) {
        if ((features & Features.HASH_TUNNEL) != 0) {
            return SIZE;
        }
        if ((features & (Features.RSS | Features.HASH_REPORT)) != 0) {
            return OFFSET_SUPPORTED_TUNNEL_TYPES;
        }
        if ((features & Features.SPEED_DUPLEX) != 0) {
            return OFFSET_RSS_MAX_KEY_SIZE;
        }
        if ((features & Features.MTU) != 0) {
            return OFFSET_SPEED;
        }
        if ((features & (Features.MQ | Features.RSS)) != 0) {
            return OFFSET_MTU;
        }
        if ((features & Features.STATUS) != 0) {
            return OFFSET_MAX_VIRTQUEUE_PAIRS;
        }
        return OFFSET_STATUS;
    }

    /**
     * Encodes the whole layout ({@link #SIZE} bytes).
     *
     * @param dst destination
     * @param offset where the layout starts
     */
    public void encode(byte[] dst, int offset) {
        read(0, dst, offset, SIZE);
    }

    /**
     * Reads part of the configuration space as a driver (or vhost-user {@code GET_CONFIG}) would: bytes
     * {@code [configOffset, configOffset + length)}; bytes past {@link #SIZE} read as 0.
     *
     * @param configOffset offset in the configuration space
     * @param dst destination
     * @param dstOffset where to write in {@code dst}
     * @param length number of bytes
     */
    public void read(int configOffset, byte[] dst, int dstOffset, int length) {
        if (configOffset < 0 || length < 0) {
            throw new IllegalArgumentException("negative config offset or length");
        }
        byte[] all = new byte[SIZE];
        System.arraycopy(mac, 0, all, OFFSET_MAC, 6);
        LittleEndian.putU16(all, OFFSET_STATUS, status);
        LittleEndian.putU16(all, OFFSET_MAX_VIRTQUEUE_PAIRS, maxVirtqueuePairs);
        LittleEndian.putU16(all, OFFSET_MTU, mtu);
        LittleEndian.putI32(all, OFFSET_SPEED, speed);
        all[OFFSET_DUPLEX] = (byte) duplex;
        all[OFFSET_RSS_MAX_KEY_SIZE] = (byte) rssMaxKeySize;
        LittleEndian.putU16(all, OFFSET_RSS_MAX_INDIRECTION_TABLE_LENGTH, rssMaxIndirectionTableLength);
        LittleEndian.putI32(all, OFFSET_SUPPORTED_HASH_TYPES, supportedHashTypes);
        LittleEndian.putI32(all, OFFSET_SUPPORTED_TUNNEL_TYPES, supportedTunnelTypes);
        for (int i = 0; i < length; i++) {
            int at = configOffset + i;
            dst[dstOffset + i] = at < SIZE ? all[at] : 0;
        }
    }

    /**
     * Decodes a layout; fields beyond {@code length} keep their values (a short config space lacks them).
     *
     * @param src source
     * @param offset where the layout starts
     * @param length bytes available, at least 6
     * @return this
     */
    public NetConfig decode(byte[] src, int offset, int length) {
        if (length < 6) {
            throw new IllegalArgumentException("config space shorter than the MAC: " + length);
        }
        System.arraycopy(src, offset + OFFSET_MAC, mac, 0, 6);
        if (length >= OFFSET_STATUS + 2) {
            status = LittleEndian.getU16(src, offset + OFFSET_STATUS);
        }
        if (length >= OFFSET_MAX_VIRTQUEUE_PAIRS + 2) {
            maxVirtqueuePairs = LittleEndian.getU16(src, offset + OFFSET_MAX_VIRTQUEUE_PAIRS);
        }
        if (length >= OFFSET_MTU + 2) {
            mtu = LittleEndian.getU16(src, offset + OFFSET_MTU);
        }
        if (length >= OFFSET_SPEED + 4) {
            speed = LittleEndian.getI32(src, offset + OFFSET_SPEED);
        }
        if (length >= OFFSET_DUPLEX + 1) {
            duplex = src[offset + OFFSET_DUPLEX] & 0xFF;
        }
        if (length >= OFFSET_RSS_MAX_KEY_SIZE + 1) {
            rssMaxKeySize = src[offset + OFFSET_RSS_MAX_KEY_SIZE] & 0xFF;
        }
        if (length >= OFFSET_RSS_MAX_INDIRECTION_TABLE_LENGTH + 2) {
            rssMaxIndirectionTableLength = LittleEndian.getU16(src, offset + OFFSET_RSS_MAX_INDIRECTION_TABLE_LENGTH);
        }
        if (length >= OFFSET_SUPPORTED_HASH_TYPES + 4) {
            supportedHashTypes = LittleEndian.getI32(src, offset + OFFSET_SUPPORTED_HASH_TYPES);
        }
        if (length >= OFFSET_SUPPORTED_TUNNEL_TYPES + 4) {
            supportedTunnelTypes = LittleEndian.getI32(src, offset + OFFSET_SUPPORTED_TUNNEL_TYPES);
        }
        return this;
    }





    /** @return a copy of {@code mac} */
    public byte[] mac() {
        return mac.clone();
    }

    /**
     * Sets {@code mac}.
     *
     * @param value six bytes
     * @return this
     */
    public NetConfig mac(byte[] value) {
        if (value.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes: " + value.length);
        }
        System.arraycopy(value, 0, mac, 0, 6);
        return this;
    }

    /**
     * Sets {@code mac} from its text form, {@code 52:54:00:12:34:56} (also with {@code -}).
     *
     * @param text six hex octets separated by {@code :} or {@code -}
     * @return this
     */
    public NetConfig mac(String text) {
        String[] parts = text.split("[:-]");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (parts[i].isEmpty() || parts[i].length() > 2) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            try {
                b[i] = (byte) Integer.parseInt(parts[i], 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a MAC address: " + text, e);
            }
        }
        return mac(b);
    }

    /** @return {@code mac} as {@code 52:54:00:12:34:56} */
    public String macString() {
        StringBuilder sb = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                sb.append(':');
            }
            sb.append(Character.forDigit((mac[i] >> 4) & 0xF, 16)).append(Character.forDigit(mac[i] & 0xF, 16));
        }
        return sb.toString();
    }

    /** @return {@code status}: {@link #S_LINK_UP}, {@link #S_ANNOUNCE} */
    public int status() {
        return status;
    }

    /**
     * Sets {@code status}.
     *
     * @param value le16
     * @return this
     */
    public NetConfig status(int value) {
        status = value & 0xFFFF;
        return this;
    }

    /** @return {@code max_virtqueue_pairs} */
    public int maxVirtqueuePairs() {
        return maxVirtqueuePairs;
    }

    /**
     * Sets {@code max_virtqueue_pairs}.
     *
     * @param value 1 to 0x8000
     * @return this
     */
    public NetConfig maxVirtqueuePairs(int value) {
        if (value < 1 || value > 0x8000) {
            throw new IllegalArgumentException("max_virtqueue_pairs must be 1..0x8000: " + value);
        }
        maxVirtqueuePairs = value;
        return this;
    }

    /** @return {@code mtu} */
    public int mtu() {
        return mtu;
    }

    /**
     * Sets {@code mtu}.
     *
     * @param value 68 to 65535 (0 while MTU is not offered)
     * @return this
     */
    public NetConfig mtu(int value) {
        if (value != 0 && (value < 68 || value > 65535)) {
            throw new IllegalArgumentException("mtu must be 68..65535: " + value);
        }
        mtu = value;
        return this;
    }

    /** @return {@code speed} in Mbit/s, or {@link #SPEED_UNKNOWN} */
    public int speed() {
        return speed;
    }

    /**
     * Sets {@code speed}.
     *
     * @param value Mbit/s, 0 to 0x7fffffff, or {@link #SPEED_UNKNOWN}
     * @return this
     */
    public NetConfig speed(int value) {
        speed = value;
        return this;
    }

    /** @return {@code duplex}: {@link #DUPLEX_FULL}, {@link #DUPLEX_HALF} or {@link #DUPLEX_UNKNOWN} */
    public int duplex() {
        return duplex;
    }

    /**
     * Sets {@code duplex}.
     *
     * @param value u8
     * @return this
     */
    public NetConfig duplex(int value) {
        duplex = value & 0xFF;
        return this;
    }

    /** @return {@code rss_max_key_size} */
    public int rssMaxKeySize() {
        return rssMaxKeySize;
    }

    /**
     * Sets {@code rss_max_key_size}.
     *
     * @param value u8 (at least 40 with RSS or HASH_REPORT)
     * @return this
     */
    public NetConfig rssMaxKeySize(int value) {
        rssMaxKeySize = value & 0xFF;
        return this;
    }

    /** @return {@code rss_max_indirection_table_length} */
    public int rssMaxIndirectionTableLength() {
        return rssMaxIndirectionTableLength;
    }

    /**
     * Sets {@code rss_max_indirection_table_length}.
     *
     * @param value le16 (at least 128 with RSS)
     * @return this
     */
    public NetConfig rssMaxIndirectionTableLength(int value) {
        rssMaxIndirectionTableLength = value & 0xFFFF;
        return this;
    }

    /** @return {@code supported_hash_types}, {@code HASH_TYPE_*} bits */
    public int supportedHashTypes() {
        return supportedHashTypes;
    }

    /**
     * Sets {@code supported_hash_types}.
     *
     * @param value le32 of {@code HASH_TYPE_*} bits
     * @return this
     */
    public NetConfig supportedHashTypes(int value) {
        supportedHashTypes = value;
        return this;
    }

    /** @return {@code supported_tunnel_types} */
    public int supportedTunnelTypes() {
        return supportedTunnelTypes;
    }

    /**
     * Sets {@code supported_tunnel_types}.
     *
     * @param value le32
     * @return this
     */
    public NetConfig supportedTunnelTypes(int value) {
        supportedTunnelTypes = value;
        return this;
    }

    /** @return true if every field is equal */
    @Override
    public boolean equals(Object o) {
        return o instanceof NetConfig c && Arrays.equals(c.mac, mac) && c.status == status
                && c.maxVirtqueuePairs == maxVirtqueuePairs && c.mtu == mtu && c.speed == speed && c.duplex == duplex
                && c.rssMaxKeySize == rssMaxKeySize && c.rssMaxIndirectionTableLength == rssMaxIndirectionTableLength
                && c.supportedHashTypes == supportedHashTypes && c.supportedTunnelTypes == supportedTunnelTypes;
    }

    /** @return a hash of every field */
    @Override
    public int hashCode() {
        return Arrays.hashCode(mac) * 31 + status * 17 + mtu * 7 + maxVirtqueuePairs;
    }

    /** @return the fields, for logs */
    @Override
    public String toString() {
        return "NetConfig{mac=" + macString() + ", status=" + status + ", maxVirtqueuePairs=" + maxVirtqueuePairs
                + ", mtu=" + mtu + ", speed=" + Integer.toUnsignedString(speed) + ", duplex=" + duplex
                + ", rssMaxKeySize=" + rssMaxKeySize + ", rssMaxIndirectionTableLength="
                + rssMaxIndirectionTableLength + ", supportedHashTypes=0x" + Integer.toHexString(supportedHashTypes)
                + ", supportedTunnelTypes=0x" + Integer.toHexString(supportedTunnelTypes) + '}';
    }
}
