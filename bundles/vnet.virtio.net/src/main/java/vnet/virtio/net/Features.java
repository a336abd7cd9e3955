package vnet.virtio.net;

/**
 * Feature bits of the virtio network device (VIRTIO 1.2 §5.1.3) and the transport-wide bits it negotiates with
 * (§6), as {@code long} masks ({@code 1L << bit}), with negotiation and the dependency rules of §5.1.3.1.
 *
 * <p>All methods are static and allocation free except {@link #toString(long)} and {@link #describeViolations(long)}.
 */
public final class Features {

    // --- Network device bits (§5.1.3) ---------------------------------------------------------------------------

    /** Device handles packets with partial checksum (driver may send NEEDS_CSUM). Bit 0. */
    public static final long CSUM = 1L << 0;
    /** Driver handles packets with partial checksum (device may deliver NEEDS_CSUM). Bit 1. */
    public static final long GUEST_CSUM = 1L << 1;
    /** Control channel offloads reconfiguration. Bit 2. */
    public static final long CTRL_GUEST_OFFLOADS = 1L << 2;
    /** Device reports its maximum MTU in the config space. Bit 3. */
    public static final long MTU = 1L << 3;
    /** Device has given a MAC address in the config space. Bit 5. */
    public static final long MAC = 1L << 5;
    /** Legacy only: device handles packets with any GSO type. Bit 6. */
    public static final long GSO = 1L << 6;
    /** Driver can receive TSOv4. Bit 7. */
    public static final long GUEST_TSO4 = 1L << 7;
    /** Driver can receive TSOv6. Bit 8. */
    public static final long GUEST_TSO6 = 1L << 8;
    /** Driver can receive TSO with ECN. Bit 9. */
    public static final long GUEST_ECN = 1L << 9;
    /** Driver can receive UFO. Bit 10. */
    public static final long GUEST_UFO = 1L << 10;
    /** Device can receive TSOv4. Bit 11. */
    public static final long HOST_TSO4 = 1L << 11;
    /** Device can receive TSOv6. Bit 12. */
    public static final long HOST_TSO6 = 1L << 12;
    /** Device can receive TSO with ECN. Bit 13. */
    public static final long HOST_ECN = 1L << 13;
    /** Device can receive UFO. Bit 14. */
    public static final long HOST_UFO = 1L << 14;
    /** Driver can merge receive buffers ({@code num_buffers}). Bit 15. */
    public static final long MRG_RXBUF = 1L << 15;
    /** Configuration {@code status} field is available. Bit 16. */
    public static final long STATUS = 1L << 16;
    /** Control virtqueue is available. Bit 17. */
    public static final long CTRL_VQ = 1L << 17;
    /** Control channel RX mode support. Bit 18. */
    public static final long CTRL_RX = 1L << 18;
    /** Control channel VLAN filtering. Bit 19. */
    public static final long CTRL_VLAN = 1L << 19;
    /** Control channel RX extra mode support. Bit 20. */
    public static final long CTRL_RX_EXTRA = 1L << 20;
    /** Driver can send gratuitous packets. Bit 21. */
    public static final long GUEST_ANNOUNCE = 1L << 21;
    /** Multiqueue with automatic receive steering. Bit 22. */
    public static final long MQ = 1L << 22;
    /** Set MAC address through the control channel. Bit 23. */
    public static final long CTRL_MAC_ADDR = 1L << 23;
    /** Legacy only: device coalesces TCP/IPv4 packets (Windows driver). Bit 41. */
    public static final long GUEST_RSC4 = 1L << 41;
    /** Legacy only: device coalesces TCP/IPv6 packets (Windows driver). Bit 42. */
    public static final long GUEST_RSC6 = 1L << 42;
    /** Device-level statistics over the control virtqueue (VIRTIO 1.3). Bit 50. */
    public static final long DEVICE_STATS = 1L << 50;
    /** Inner header hash for encapsulated packets (VIRTIO 1.3). Bit 51. */
    public static final long HASH_TUNNEL = 1L << 51;
    /** Per-virtqueue notification coalescing (VIRTIO 1.3). Bit 52. */
    public static final long VQ_NOTF_COAL = 1L << 52;
    /** Notification coalescing. Bit 53. */
    public static final long NOTF_COAL = 1L << 53;
    /** Driver can receive USOv4. Bit 54. */
    public static final long GUEST_USO4 = 1L << 54;
    /** Driver can receive USOv6. Bit 55. */
    public static final long GUEST_USO6 = 1L << 55;
    /** Device can receive USO. Bit 56. */
    public static final long HOST_USO = 1L << 56;
    /** Device reports a per-packet hash (20-byte header). Bit 57. */
    public static final long HASH_REPORT = 1L << 57;
    /** Driver provides the exact {@code hdr_len}. Bit 59. */
    public static final long GUEST_HDRLEN = 1L << 59;
    /** Receive-side scaling with Toeplitz hash. Bit 60. */
    public static final long RSS = 1L << 60;
    /** Device reports coalesced segments and duplicated ACKs. Bit 61. */
    public static final long RSC_EXT = 1L << 61;
    /** Device may act as a standby for a primary device with the same MAC. Bit 62. */
    public static final long STANDBY = 1L << 62;
    /** Device reports speed and duplex in the config space. Bit 63. */
    public static final long SPEED_DUPLEX = 1L << 63;

    // --- Transport bits (§6) ------------------------------------------------------------------------------------

    /** Legacy only: notify even with notifications suppressed when the avail ring empties. Bit 24. */
    public static final long NOTIFY_ON_EMPTY = 1L << 24;
    /** Legacy only: the device accepts arbitrary descriptor layouts. Bit 27. */
    public static final long ANY_LAYOUT = 1L << 27;
    /** Indirect descriptor tables. Bit 28. */
    public static final long RING_INDIRECT_DESC = 1L << 28;
    /** {@code used_event} / {@code avail_event} notification suppression. Bit 29. */
    public static final long RING_EVENT_IDX = 1L << 29;
    /**
     * vhost-user's {@code VHOST_USER_F_PROTOCOL_FEATURES}, bit 30: not a virtio feature but a vhost-user one that
     * shares the feature word (and is never shown to the guest driver).
     */
    public static final long VHOST_USER_F_PROTOCOL_FEATURES = 1L << 30;
    /** Compliance with VIRTIO 1.x (little-endian, 12-byte net header). Bit 32. */
    public static final long VERSION_1 = 1L << 32;
    /** Device accesses memory through an IOMMU / platform-specific way. Bit 33. */
    public static final long ACCESS_PLATFORM = 1L << 33;
    /** Packed virtqueue layout. Bit 34. */
    public static final long RING_PACKED = 1L << 34;
    /** Buffers are used in the order they were made available. Bit 35. */
    public static final long IN_ORDER = 1L << 35;
    /** Platform memory ordering is required. Bit 36. */
    public static final long ORDER_PLATFORM = 1L << 36;
    /** Single root I/O virtualization. Bit 37. */
    public static final long SR_IOV = 1L << 37;
    /** Driver passes extra data in its notifications. Bit 38. */
    public static final long NOTIFICATION_DATA = 1L << 38;
    /** Notification data comes from the device's config. Bit 39. */
    public static final long NOTIF_CONFIG_DATA = 1L << 39;
    /** Individual virtqueue reset. Bit 40. */
    public static final long RING_RESET = 1L << 40;

    private static final String[] NAMES = new String[64];

    /** A rule of §5.1.3.1: {@code feature} requires all of {@code all} and, if non-zero, at least one of {@code any}. */
    private record Rule(long feature, long all, long any) {
    }

    private static final Rule[] RULES = {
        new Rule(GUEST_TSO4, GUEST_CSUM, 0),
        new Rule(GUEST_TSO6, GUEST_CSUM, 0),
        new Rule(GUEST_ECN, 0, GUEST_TSO4 | GUEST_TSO6),
        new Rule(GUEST_UFO, GUEST_CSUM, 0),
        new Rule(GUEST_USO4, GUEST_CSUM, 0),
        new Rule(GUEST_USO6, GUEST_CSUM, 0),
        new Rule(HOST_TSO4, CSUM, 0),
        new Rule(HOST_TSO6, CSUM, 0),
        new Rule(HOST_ECN, 0, HOST_TSO4 | HOST_TSO6),
        new Rule(HOST_UFO, CSUM, 0),
        new Rule(HOST_USO, CSUM, 0),
        new Rule(CTRL_RX, CTRL_VQ, 0),
        new Rule(CTRL_VLAN, CTRL_VQ, 0),
        new Rule(GUEST_ANNOUNCE, CTRL_VQ, 0),
        new Rule(MQ, CTRL_VQ, 0),
        new Rule(CTRL_MAC_ADDR, CTRL_VQ, 0),
        new Rule(NOTF_COAL, CTRL_VQ, 0),
        new Rule(RSC_EXT, 0, HOST_TSO4 | HOST_TSO6),
        new Rule(RSS, CTRL_VQ, 0),
        new Rule(VQ_NOTF_COAL, CTRL_VQ, 0),
        new Rule(HASH_TUNNEL, CTRL_VQ, RSS | HASH_REPORT),
        // "SHOULD NOT" rules of §5.1.4: treated as requirements, which is what a careful driver does.
        new Rule(CTRL_RX_EXTRA, CTRL_VQ, 0),
        new Rule(HASH_REPORT, CTRL_VQ, 0),
    };

    static {
        name(CSUM, "CSUM");
        name(GUEST_CSUM, "GUEST_CSUM");
        name(CTRL_GUEST_OFFLOADS, "CTRL_GUEST_OFFLOADS");
        name(MTU, "MTU");
        name(MAC, "MAC");
        name(GSO, "GSO");
        name(GUEST_TSO4, "GUEST_TSO4");
        name(GUEST_TSO6, "GUEST_TSO6");
        name(GUEST_ECN, "GUEST_ECN");
        name(GUEST_UFO, "GUEST_UFO");
        name(HOST_TSO4, "HOST_TSO4");
        name(HOST_TSO6, "HOST_TSO6");
        name(HOST_ECN, "HOST_ECN");
        name(HOST_UFO, "HOST_UFO");
        name(MRG_RXBUF, "MRG_RXBUF");
        name(STATUS, "STATUS");
        name(CTRL_VQ, "CTRL_VQ");
        name(CTRL_RX, "CTRL_RX");
        name(CTRL_VLAN, "CTRL_VLAN");
        name(CTRL_RX_EXTRA, "CTRL_RX_EXTRA");
        name(GUEST_ANNOUNCE, "GUEST_ANNOUNCE");
        name(MQ, "MQ");
        name(CTRL_MAC_ADDR, "CTRL_MAC_ADDR");
        name(NOTIFY_ON_EMPTY, "NOTIFY_ON_EMPTY");
        name(ANY_LAYOUT, "ANY_LAYOUT");
        name(RING_INDIRECT_DESC, "RING_INDIRECT_DESC");
        name(RING_EVENT_IDX, "RING_EVENT_IDX");
        name(VHOST_USER_F_PROTOCOL_FEATURES, "VHOST_USER_F_PROTOCOL_FEATURES");
        name(VERSION_1, "VERSION_1");
        name(ACCESS_PLATFORM, "ACCESS_PLATFORM");
        name(RING_PACKED, "RING_PACKED");
        name(IN_ORDER, "IN_ORDER");
        name(ORDER_PLATFORM, "ORDER_PLATFORM");
        name(SR_IOV, "SR_IOV");
        name(NOTIFICATION_DATA, "NOTIFICATION_DATA");
        name(NOTIF_CONFIG_DATA, "NOTIF_CONFIG_DATA");
        name(RING_RESET, "RING_RESET");
        name(GUEST_RSC4, "GUEST_RSC4");
        name(GUEST_RSC6, "GUEST_RSC6");
        name(DEVICE_STATS, "DEVICE_STATS");
        name(HASH_TUNNEL, "HASH_TUNNEL");
        name(VQ_NOTF_COAL, "VQ_NOTF_COAL");
        name(NOTF_COAL, "NOTF_COAL");
        name(GUEST_USO4, "GUEST_USO4");
        name(GUEST_USO6, "GUEST_USO6");
        name(HOST_USO, "HOST_USO");
        name(HASH_REPORT, "HASH_REPORT");
        name(GUEST_HDRLEN, "GUEST_HDRLEN");
        name(RSS, "RSS");
        name(RSC_EXT, "RSC_EXT");
        name(STANDBY, "STANDBY");
        name(SPEED_DUPLEX, "SPEED_DUPLEX");
    }

    private Features() {
    }

    private static void name(long mask, String name) {
        NAMES[Long.numberOfTrailingZeros(mask)] = name;
    }

    /**
     * Returns the mask of one feature bit.
     *
     * @param bit bit number, 0 to 63
     * @return {@code 1L << bit}
     */
    public static long bit(int bit) {
        if (bit < 0 || bit > 63) {
            throw new IllegalArgumentException("feature bit out of range: " + bit);
        }
        return 1L << bit;
    }

    /**
     * Tells whether every bit of {@code mask} is set in {@code features}.
     *
     * @param features a feature set
     * @param mask one or more feature masks
     * @return true if all are set
     */
    public static boolean has(long features, long mask) {
        return (features & mask) == mask;
    }

    /**
     * Returns the bits of {@code features} that violate a dependency rule of §5.1.3.1: each returned feature
     * requires a feature that is absent from the set.
     *
     * @param features a feature set
     * @return the offending features, 0 if the set is consistent
     */
    public static long violations(long features) {
        long bad = 0;
        for (Rule r : RULES) {
            if ((features & r.feature) != 0 && !satisfied(features, r)) {
                bad |= r.feature;
            }
        }
        return bad;
    }

    private static boolean satisfied(long features, Rule r) {
        return (features & r.all) == r.all && (r.any == 0 || (features & r.any) != 0);
    }

    /**
     * Tells whether the set obeys every dependency rule of §5.1.3.1.
     *
     * @param features a feature set
     * @return true if {@link #violations(long)} is 0
     */
    public static boolean isValid(long features) {
        return violations(features) == 0;
    }

    /**
     * Checks the dependency rules of §5.1.3.1, as a driver must before accepting a set (§2.2.1).
     *
     * @param features a feature set
     * @throws IllegalArgumentException naming each feature and what it lacks
     */
    public static void validate(long features) {
        if (violations(features) != 0) {
            throw new IllegalArgumentException("inconsistent virtio-net features: " + describeViolations(features));
        }
    }

    /**
     * Describes each violated rule, e.g. {@code "GUEST_TSO4 requires GUEST_CSUM"}.
     *
     * @param features a feature set
     * @return a human-readable list, empty if the set is consistent
     */
    public static String describeViolations(long features) {
        StringBuilder sb = new StringBuilder();
        for (Rule r : RULES) {
            if ((features & r.feature) != 0 && !satisfied(features, r)) {
                if (sb.length() > 0) {
                    sb.append("; ");
                }
                sb.append(toString(r.feature)).append(" requires ");
                if (r.all != 0) {
                    sb.append(toString(r.all).replace("|", " and "));
                }
                if (r.any != 0) {
                    if (r.all != 0) {
                        sb.append(" and ");
                    }
                    sb.append(toString(r.any).replace("|", " or "));
                }
            }
        }
        return sb.toString();
    }

    /**
     * Negotiates as a conforming driver would: accepts only what the device offered and the driver wants, then
     * drops, until nothing changes, every accepted feature whose requirements were not accepted.
     *
     * @param deviceOffered the device's feature set
     * @param driverRequested the features the driver would like
     * @return the accepted set, always consistent ({@link #isValid(long)})
     */
    public static long negotiate(long deviceOffered, long driverRequested) {
        long accepted = deviceOffered & driverRequested;
        long bad;
        while ((bad = violations(accepted)) != 0) {
            accepted &= ~bad;
        }
        return accepted;
    }

    /**
     * Returns the spec's name of one bit, without the {@code VIRTIO_NET_F_} / {@code VIRTIO_F_} prefix.
     *
     * @param bit bit number, 0 to 63
     * @return its name, or {@code "bit(N)"} for an unnamed bit
     */
    public static String name(int bit) {
        String n = bit >= 0 && bit < 64 ? NAMES[bit] : null;
        return n != null ? n : "bit(" + bit + ")";
    }

    /**
     * Formats a feature set as its names joined by {@code |}, lowest bit first, e.g. {@code "CSUM|MAC|VERSION_1"}.
     *
     * @param features a feature set
     * @return the names, or {@code "0"} for the empty set
     */
    public static String toString(long features) {
        if (features == 0) {
            return "0";
        }
        StringBuilder sb = new StringBuilder();
        long rest = features;
        while (rest != 0) {
            int bit = Long.numberOfTrailingZeros(rest);
            rest &= rest - 1;
            if (sb.length() > 0) {
                sb.append('|');
            }
            sb.append(name(bit));
        }
        return sb.toString();
    }
}
