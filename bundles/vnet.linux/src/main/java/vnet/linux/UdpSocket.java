package vnet.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * IPv4 datagram sockets with batched I/O ({@code recvmmsg}, {@code sendmmsg}) over a {@link DatagramBatch}: what
 * Java's DatagramChannel lacks. Two kinds: a UDP socket bound to an address and port ({@link #bind}) that receives,
 * and a raw UDP socket ({@link #rawSender}) that sends datagrams whose UDP header the caller writes, so each may
 * carry its own source port (a tunnel's flow entropy); the kernel adds the IP header. A raw socket would also see a
 * copy of every UDP datagram the host receives; a socket filter that accepts nothing keeps its queue empty.
 * Close-on-exec; allocates nothing per call.
 */
public final class UdpSocket implements AutoCloseable {
    private static final int AF_INET = 2, SOCK_DGRAM = 2, SOCK_RAW = 3, IPPROTO_UDP = 17;
    private static final int SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_ATTACH_FILTER = 26,
            SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33;
    private static final int MSG_DONTWAIT = 0x40;
    /** BPF_RET | BPF_K with k = 0: keep no byte of any packet. */
    private static final short BPF_RET_K = 0x06;

    private final Fd fd;
    private final String name;
    private final Memory option = new Memory(32);

    private UdpSocket(Fd fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /**
     * A non-blocking UDP socket bound to {@code ipv4} (host order) and {@code port}.
     *
     * @throws LinuxException e.g. EADDRNOTAVAIL when the address is not this host's, EADDRINUSE
     */
    public static UdpSocket bind(int ipv4, int port) throws LinuxException {
        UdpSocket s = open(SOCK_DGRAM | SOCK_NONBLOCK, 0, "udp " + format(ipv4) + ":" + port);
        s.bindTo(ipv4, port);
        return s;
    }

    /** A raw UDP socket bound to the source address {@code ipv4} (host order), receiving nothing; sends block. */
    public static UdpSocket rawSender(int ipv4) throws LinuxException {
        UdpSocket s = open(SOCK_RAW, IPPROTO_UDP, "raw udp " + format(ipv4));
        try {
            s.bindTo(ipv4, 0);
            Memory filter = s.option;
            filter.clear();
            filter.setShort(16, BPF_RET_K); // struct sock_filter at 16: code, jt, jf, k = 0
            filter.setShort(0, (short) 1); // struct sock_fprog: len = 1, filter = &filter[16]
            filter.setLong(8, Pointer.nativeValue(filter) + 16);
            if (LibC.setsockopt(s.fd.fd(), SOL_SOCKET, SO_ATTACH_FILTER, Pointer.nativeValue(filter), 16) < 0) {
                throw LinuxException.last("setsockopt(SO_ATTACH_FILTER)", s.name);
            }
        } catch (LinuxException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private static UdpSocket open(int type, int protocol, String name) throws LinuxException {
        int fd = LibC.socket(AF_INET, type | SOCK_CLOEXEC, protocol);
        if (fd < 0) {
            throw LinuxException.last("socket", name);
        }
        return new UdpSocket(Fd.adopt(fd), name);
    }

    private void bindTo(int ipv4, int port) throws LinuxException {
        byte[] sa = new byte[16];
        sa[0] = AF_INET; // sin_family, little-endian on x86_64 and aarch64
        sa[2] = (byte) (port >>> 8);
        sa[3] = (byte) port;
        sa[4] = (byte) (ipv4 >>> 24);
        sa[5] = (byte) (ipv4 >>> 16);
        sa[6] = (byte) (ipv4 >>> 8);
        sa[7] = (byte) ipv4;
        if (LibC.bind(fd.fd(), sa, sa.length) < 0) {
            try {
                throw LinuxException.last("bind", name);
            } finally {
                close();
            }
        }
    }

    /**
     * Asks for kernel buffers of these sizes (as root beyond {@code rmem_max}/{@code wmem_max}); 0 leaves one as is.
     */
    public void bufferSizes(int receive, int send) throws LinuxException {
        if (receive > 0) {
            setInt(SO_RCVBUFFORCE, SO_RCVBUF, receive);
        }
        if (send > 0) {
            setInt(SO_SNDBUFFORCE, SO_SNDBUF, send);
        }
    }

    private void setInt(int forced, int plain, int value) throws LinuxException {
        option.setInt(0, value);
        long at = Pointer.nativeValue(option);
        if (LibC.setsockopt(fd.fd(), SOL_SOCKET, forced, at, 4) < 0
                && LibC.setsockopt(fd.fd(), SOL_SOCKET, plain, at, 4) < 0) {
            throw LinuxException.last("setsockopt", name);
        }
    }

    /** The descriptor, to wait on with epoll. */
    public int fd() {
        return fd.fd();
    }

    /**
     * Receives up to {@code count} datagrams without waiting into the first messages of {@code batch}; each message's
     * {@link DatagramBatch#length} and source are then set.
     *
     * @return how many came; 0 if none was waiting
     */
    public int receive(DatagramBatch batch, int count) throws LinuxException {
        int n = Math.min(count, batch.capacity());
        batch.resetNames(n);
        while (true) {
            int got = LibC.recvmmsg(fd.fd(), batch.headerAddress(0), n, MSG_DONTWAIT, 0);
            if (got >= 0) {
                return got;
            }
            int errno = Errno.last();
            if (errno == Errno.EAGAIN) {
                return 0;
            }
            if (errno != Errno.EINTR) {
                throw new LinuxException("recvmmsg", errno, name);
            }
        }
    }

    /**
     * Sends messages {@code from .. from+count-1} of {@code batch}.
     *
     * @return how many were sent (fewer than {@code count} if one failed: the caller counts and skips the next one),
     *         or {@code -errno} when the first one failed
     */
    public int send(DatagramBatch batch, int from, int count) {
        while (true) {
            int sent = LibC.sendmmsg(fd.fd(), batch.headerAddress(from), count, 0);
            if (sent >= 0) {
                return sent;
            }
            int errno = Errno.last();
            if (errno != Errno.EINTR) {
                return -errno;
            }
        }
    }

    /** Closes the socket (idempotent). */
    @Override
    public void close() {
        fd.close();
    }

    /** Dotted quad of a host-order IPv4 address. */
    public static String format(int ipv4) {
        return (ipv4 >>> 24) + "." + (ipv4 >>> 16 & 0xFF) + "." + (ipv4 >>> 8 & 0xFF) + "." + (ipv4 & 0xFF);
    }

    @Override
    public String toString() {
        return name;
    }
}
