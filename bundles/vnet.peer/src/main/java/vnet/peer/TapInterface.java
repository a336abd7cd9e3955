package vnet.peer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import vnet.linux.Fd;
import vnet.linux.Files;
import vnet.linux.Ioctl;
import vnet.linux.LinuxException;

/**
 * A Linux TAP interface opened through {@code /dev/net/tun} with {@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}
 * (Documentation/networking/tuntap.rst): every read returns, and every write takes, one virtio_net_hdr of
 * {@link #headerSize()} bytes followed by one Ethernet frame. The descriptor is non-blocking. The interface lives as
 * long as the descriptor: {@link #close()} deletes it, wherever it was moved to.
 */
final class TapInterface implements AutoCloseable {
    /** {@code _IOW('T', 202, int)}. */
    static final long TUNSETIFF = 0x400454caL;
    /** {@code _IOW('T', 208, unsigned int)}; the offload bits are passed by value. */
    static final long TUNSETOFFLOAD = 0x400454d0L;
    /** {@code _IOW('T', 216, int)}; the size is passed by pointer. */
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    /** {@code SIOCSIFHWADDR}, which the tun driver also takes on its own descriptor. */
    static final long SIOCSIFHWADDR = 0x8924;
    /** {@code SIOCGIFHWADDR}. */
    static final long SIOCGIFHWADDR = 0x8927;

    static final int IFF_TAP = 0x0002;
    static final int IFF_NO_PI = 0x1000;
    static final int IFF_VNET_HDR = 0x4000;
    /** Fail with EBUSY instead of attaching to an interface of that name that already exists. */
    static final int IFF_TUN_EXCL = 0x8000;

    /** The kernel may hand us frames with a partial checksum (NEEDS_CSUM). */
    static final int TUN_F_CSUM = 0x01;
    /** The kernel may hand us TCPv4 GSO frames. */
    static final int TUN_F_TSO4 = 0x02;
    /** The kernel may hand us TCPv6 GSO frames. */
    static final int TUN_F_TSO6 = 0x04;
    /** ... with ECN. */
    static final int TUN_F_TSO_ECN = 0x08;

    private static final int IFREQ_SIZE = 40;
    private static final int ARPHRD_ETHER = 1;

    private final Fd fd;
    private final String name;
    private final int headerSize;
    private volatile int offload = -1;

    private TapInterface(Fd fd, String name, int headerSize) {
        this.fd = fd;
        this.name = name;
        this.headerSize = headerSize;
    }

    /**
     * Creates a new TAP interface (never attaches to an existing one).
     *
     * @param name       the interface name, or a prefix with {@code %d} for the kernel to number it
     * @param headerSize virtio_net_hdr size: 10 (legacy) or 12
     * @throws LinuxException e.g. EBUSY if an interface of that name exists, EPERM without CAP_NET_ADMIN
     */
    static TapInterface create(String name, int headerSize) throws LinuxException {
        if (headerSize != 10 && headerSize != 12) {
            throw new IllegalArgumentException("virtio_net_hdr size " + headerSize + " is neither 10 nor 12");
        }
        byte[] ifr = ifreq(name);
        putShort(ifr, 16, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL);
        Fd fd = Files.open("/dev/net/tun", Files.O_RDWR | Files.O_NONBLOCK);
        try {
            Ioctl.ioctl(fd, TUNSETIFF, ifr);
            Ioctl.ioctl(fd, TUNSETVNETHDRSZ, new int[] {headerSize});
            TapInterface tap = new TapInterface(fd, nameOf(ifr), headerSize);
            tap.setOffload(0);
            return tap;
        } catch (LinuxException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** The interface name the kernel gave (with the number filled in). */
    String name() {
        return name;
    }

    /** The virtio_net_hdr size in front of every frame. */
    int headerSize() {
        return headerSize;
    }

    /** The descriptor, for epoll. */
    int fd() {
        return fd.fd();
    }

    /** Sets the MAC address ({@code SIOCSIFHWADDR} on the tun descriptor, so it works after a move to a namespace). */
    void setMac(long mac) throws LinuxException {
        byte[] ifr = ifreq(name);
        putShort(ifr, 16, ARPHRD_ETHER);
        for (int i = 0; i < 6; i++) {
            ifr[18 + i] = (byte) (mac >>> (40 - 8 * i));
        }
        Ioctl.ioctl(fd, SIOCSIFHWADDR, ifr);
    }

    /** The MAC address ({@code SIOCGIFHWADDR}). */
    long mac() throws LinuxException {
        byte[] ifr = ifreq(name);
        Ioctl.ioctl(fd, SIOCGIFHWADDR, ifr);
        long mac = 0;
        for (int i = 0; i < 6; i++) {
            mac = mac << 8 | (ifr[18 + i] & 0xFF);
        }
        return mac;
    }

    /**
     * Tells the kernel which offloads we take in frames it hands us ({@code TUN_F_*}); it segments and checksums in
     * software what we do not take. Frames we write may use any offload. Skipped when unchanged.
     */
    void setOffload(int flags) throws LinuxException {
        if (flags != offload) {
            Ioctl.ioctl(fd, TUNSETOFFLOAD, flags);
            offload = flags;
        }
    }

    /** The offloads last set. */
    int offload() {
        return offload;
    }

    /**
     * Reads one header plus frame to {@code address}.
     *
     * @return bytes read, 0 if none is queued
     * @throws LinuxException e.g. EBADFD once the interface was deleted (its namespace removed)
     */
    int read(long address, int capacity) throws LinuxException {
        return Files.read(fd.fd(), address, capacity);
    }

    /**
     * Writes one header plus frame from {@code address}.
     *
     * @return bytes written, 0 if the kernel had no room
     * @throws LinuxException e.g. EIO while the interface is down, EINVAL for a malformed header
     */
    int write(long address, int length) throws LinuxException {
        return Files.write(fd.fd(), address, length);
    }

    /** Closes the descriptor, which deletes the interface. Idempotent. */
    @Override
    public void close() {
        fd.close();
    }

    private static byte[] ifreq(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length > PeerOptions.IFNAMSIZ - 1) {
            throw new IllegalArgumentException("interface name " + name + " is longer than 15 characters");
        }
        byte[] ifr = new byte[IFREQ_SIZE];
        System.arraycopy(bytes, 0, ifr, 0, bytes.length);
        return ifr;
    }

    private static String nameOf(byte[] ifr) {
        int n = 0;
        while (n < PeerOptions.IFNAMSIZ && ifr[n] != 0) {
            n++;
        }
        return new String(ifr, 0, n, StandardCharsets.US_ASCII);
    }

    private static void putShort(byte[] b, int at, int value) {
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            b[at] = (byte) value;
            b[at + 1] = (byte) (value >>> 8);
        } else {
            b[at] = (byte) (value >>> 8);
            b[at + 1] = (byte) value;
        }
    }

    @Override
    public String toString() {
        return "TapInterface[" + name + ", header " + headerSize + ", offload 0x" + Integer.toHexString(offload) + "]";
    }
}
