package vnet.transport.shm.vhost;

/** Constants of the vhost-user wire format: header flags, protocol feature bits, limits. */
public final class VhostUserProtocol {
    private VhostUserProtocol() {
    }

    /** Header: request u32, flags u32, size u32, all little-endian. */
    public static final int HEADER_SIZE = 12;
    /** The only protocol version, in flags bits 0..1. */
    public static final int VERSION = 0x1;
    public static final int VERSION_MASK = 0x3;
    public static final int FLAG_REPLY = 1 << 2;
    public static final int FLAG_NEED_REPLY = 1 << 3;

    /** Largest payload accepted; anything larger is a protocol error (QEMU's largest is a config space). */
    public static final int MAX_PAYLOAD = 4096;
    /** Memory regions in one SET_MEM_TABLE (VHOST_MEMORY_BASELINE_NREGIONS). */
    public static final int MAX_MEM_TABLE_REGIONS = 8;
    /** Descriptor files that may come with one message. */
    public static final int MAX_FDS = 8;
    /** In SET_VRING_KICK/CALL/ERR: bits 0..7 are the queue index, bit 8 says no fd was sent (polling). */
    public static final long VRING_IDX_MASK = 0xff;
    public static final long VRING_NOFD_MASK = 1L << 8;

    /** The feature bit in GET_FEATURES that says protocol features exist. */
    public static final long F_PROTOCOL_FEATURES = 1L << 30;

    public static final int PROTOCOL_F_MQ = 0;
    public static final int PROTOCOL_F_LOG_SHMFD = 1;
    public static final int PROTOCOL_F_RARP = 2;
    public static final int PROTOCOL_F_REPLY_ACK = 3;
    public static final int PROTOCOL_F_MTU = 4;
    public static final int PROTOCOL_F_BACKEND_REQ = 5;
    public static final int PROTOCOL_F_CONFIG = 9;
    public static final int PROTOCOL_F_RESET_DEVICE = 13;
    public static final int PROTOCOL_F_INBAND_NOTIFICATIONS = 14;
    public static final int PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15;
    public static final int PROTOCOL_F_STATUS = 16;
}
