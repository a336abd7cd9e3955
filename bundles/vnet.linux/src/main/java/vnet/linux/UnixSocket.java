package vnet.linux;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;

/**
 * A Unix domain stream socket ({@code AF_UNIX, SOCK_STREAM, SOCK_CLOEXEC}) that passes file descriptors with its
 * bytes ({@code SCM_RIGHTS}): what vhost-user needs and Java's own socket channels cannot do.
 * <p>
 * A server {@link #listen}s and {@link #accept}s; a client {@link #connect}s. Sending and receiving may run in two
 * threads at once; two senders (or two receivers) are serialised. Received descriptors are opened close-on-exec
 * ({@code MSG_CMSG_CLOEXEC}) and belong to the caller. Calls interrupted by a signal (EINTR) are retried.
 */
public final class UnixSocket implements AutoCloseable {
    /** {@code shutdown} the receiving half. */ public static final int SHUT_RD = 0;
    /** {@code shutdown} the sending half (the peer then reads end of file). */ public static final int SHUT_WR = 1;
    /** {@code shutdown} both halves. */ public static final int SHUT_RDWR = 2;
    /** The kernel's limit of descriptors in one message (SCM_MAX_FD). */ public static final int MAX_FDS = 253;

    private static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1, SCM_RIGHTS = 1, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21;
    private static final int MSG_CTRUNC = 0x8, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SUN_PATH_MAX = 108;

    // struct msghdr, iovec and cmsghdr on LP64 Linux.
    private static final int MSG_IOV = 16, MSG_IOVLEN = 24, MSG_CONTROL = 32, MSG_CONTROLLEN = 40, MSG_FLAGS = 48;
    private static final int MSGHDR_SIZE = 56, IOVEC_SIZE = 16, CMSG_HDR = 16;
    private static final int CONTROL_OFFSET = MSGHDR_SIZE + IOVEC_SIZE;
    private static final int SCRATCH_SIZE = CONTROL_OFFSET + CMSG_HDR + align8(4 * MAX_FDS);

    private final Fd fd;
    private final Path boundPath;
    private final Object sendLock = new Object();
    private final Object recvLock = new Object();
    private final Scratch sendScratch = new Scratch();
    private final Scratch recvScratch = new Scratch();
    private volatile boolean nonBlocking;

    /**
     * What one receive brought: {@code bytes} read (-1 at end of file; 0 when non-blocking and nothing was there)
     * and the descriptors that came with them, which the caller now owns.
     */
    public record Received(int bytes, int[] fds) {
        /** Whether the peer closed the connection (or shut down its sending half) before any byte. */
        public boolean eof() {
            return bytes < 0;
        }
    }

    private static final int[] NO_FDS = new int[0];
    private static final Received EOF = new Received(-1, NO_FDS);
    private static final Received NOTHING = new Received(0, NO_FDS);

    private UnixSocket(Fd fd, Path boundPath) {
        this.fd = fd;
        this.boundPath = boundPath;
    }

    /**
     * A listening server socket bound to {@code path}. A stale socket file left there by a dead server (one that
     * refuses connections) is removed first; a live one, or a file that is not a socket, fails with EADDRINUSE.
     * (Finding a server alive takes a connection, which that server then sees open and close at once.)
     */
    public static UnixSocket listen(Path path, int backlog) throws IOException {
        byte[] address = sockaddr(path);
        removeStale(path, address);
        Fd fd = newSocket();
        try {
            if (LibC.bind(fd.fd(), address, address.length) < 0) {
                throw LinuxException.last("bind", path.toString());
            }
            if (LibC.listen(fd.fd(), backlog) < 0) {
                throw LinuxException.last("listen", path.toString());
            }
        } catch (IOException | RuntimeException e) {
            fd.close();
            throw e;
        }
        return new UnixSocket(fd, path);
    }

    /** A client socket connected to the server listening at {@code path} (ENOENT or ECONNREFUSED if none). */
    public static UnixSocket connect(Path path) throws LinuxException {
        byte[] address = sockaddr(path);
        Fd fd = newSocket();
        try {
            connect(fd.fd(), address, path);
        } catch (LinuxException | RuntimeException e) {
            fd.close();
            throw e;
        }
        return new UnixSocket(fd, null);
    }

    /** Two connected sockets ({@code socketpair(2)}). */
    public static UnixSocket[] pair() throws LinuxException {
        int[] sv = new int[2];
        if (LibC.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            throw LinuxException.last("socketpair");
        }
        return new UnixSocket[] {new UnixSocket(Fd.adopt(sv[0]), null), new UnixSocket(Fd.adopt(sv[1]), null)};
    }

    /** Wraps a connected Unix stream socket received from elsewhere, taking ownership. */
    public static UnixSocket adopt(Fd fd) throws LinuxException {
        UnixSocket socket = new UnixSocket(fd, null);
        socket.nonBlocking = fd.isNonBlocking();
        return socket;
    }

    /**
     * Accepts the next connection (blocking unless {@link #setNonBlocking non-blocking}, when it returns
     * {@code null} if none is pending). The new socket is blocking.
     */
    public UnixSocket accept() throws LinuxException {
        while (true) {
            int client = LibC.accept4(fd.fd(), 0, 0, SOCK_CLOEXEC);
            if (client >= 0) {
                return new UnixSocket(Fd.adopt(client), null);
            }
            int errno = Errno.last();
            if (errno == Errno.EAGAIN && nonBlocking) {
                return null;
            }
            if (errno != Errno.EINTR && errno != Errno.ECONNABORTED) {
                throw new LinuxException("accept4", errno);
            }
        }
    }

    /** The socket's descriptor (to watch with {@link Epoll}). */
    public Fd fd() {
        return fd;
    }

    /** The path this server socket is bound to, or {@code null} for connected sockets. */
    public Path path() {
        return boundPath;
    }

    /**
     * Sets {@code O_NONBLOCK}: then {@link #accept()} returns {@code null}, {@link #recv} returns 0 bytes and
     * {@link #send} 0 instead of waiting.
     */
    public void setNonBlocking(boolean nonBlocking) throws LinuxException {
        fd.setNonBlocking(nonBlocking);
        this.nonBlocking = nonBlocking;
    }

    /** Blocking receives give up after {@code millis} ms with EAGAIN ({@code SO_RCVTIMEO}); 0 waits forever. */
    public void setReceiveTimeout(long millis) throws LinuxException {
        setTimeout(SO_RCVTIMEO, millis, "setsockopt(SO_RCVTIMEO)");
    }

    /** Blocking sends give up after {@code millis} ms with EAGAIN ({@code SO_SNDTIMEO}); 0 waits forever. */
    public void setSendTimeout(long millis) throws LinuxException {
        setTimeout(SO_SNDTIMEO, millis, "setsockopt(SO_SNDTIMEO)");
    }

    private void setTimeout(int option, long millis, String call) throws LinuxException {
        if (millis < 0) {
            throw new IllegalArgumentException("negative timeout " + millis);
        }
        long[] timeval = {millis / 1000, (millis % 1000) * 1000};
        if (LibC.setsockopt(fd.fd(), SOL_SOCKET, option, timeval, 16) < 0) {
            throw LinuxException.last(call);
        }
    }

    /** Shuts down one or both halves ({@link #SHUT_RD}, {@link #SHUT_WR}, {@link #SHUT_RDWR}). */
    public void shutdown(int how) throws LinuxException {
        if (LibC.shutdown(fd.fd(), how) < 0) {
            throw LinuxException.last("shutdown");
        }
    }

    /**
     * One {@code sendmsg}: sends as many of {@code data}'s remaining bytes as the socket takes, with {@code fds}
     * attached (they stay open here; the peer gets duplicates), and advances {@code data}'s position.
     *
     * @return bytes sent; 0 if non-blocking and the socket is full
     */
    public int send(ByteBuffer data, int... fds) throws LinuxException {
        if (fds.length > MAX_FDS) {
            throw new IllegalArgumentException(fds.length + " descriptors, more than " + MAX_FDS);
        }
        if (fds.length > 0 && !data.hasRemaining()) {
            throw new IllegalArgumentException("descriptors need at least one byte of data to travel with");
        }
        synchronized (sendLock) {
            Scratch s = sendScratch;
            int length = data.remaining();
            long buffer = s.dataAddress(data, length, true);
            s.header(buffer, length, fds.length);
            for (int i = 0; i < fds.length; i++) {
                s.memory.setInt(CONTROL_OFFSET + CMSG_HDR + 4L * i, fds[i]);
            }
            if (fds.length > 0) {
                s.memory.setLong(CONTROL_OFFSET, CMSG_HDR + 4L * fds.length); // cmsg_len = CMSG_LEN
                s.memory.setInt(CONTROL_OFFSET + 8, SOL_SOCKET);
                s.memory.setInt(CONTROL_OFFSET + 12, SCM_RIGHTS);
            }
            while (true) {
                long n = LibC.sendmsg(fd.fd(), s.address, MSG_NOSIGNAL);
                if (n >= 0) {
                    data.position(data.position() + (int) n);
                    return (int) n;
                }
                int errno = Errno.last();
                if (errno == Errno.EAGAIN && nonBlocking) {
                    return 0;
                }
                if (errno != Errno.EINTR) {
                    throw new LinuxException("sendmsg", errno);
                }
            }
        }
    }

    /**
     * Sends all of {@code data}'s remaining bytes, {@code fds} attached to the first part. For blocking sockets
     * (a send timeout fails with EAGAIN).
     */
    public void sendFully(ByteBuffer data, int... fds) throws LinuxException {
        if (nonBlocking) {
            throw new IllegalStateException("sendFully needs a blocking socket");
        }
        synchronized (sendLock) {
            send(data, fds);
            while (data.hasRemaining()) {
                send(data);
            }
        }
    }

    /** {@link #sendFully(ByteBuffer, int...)} of a whole array. */
    public void sendFully(byte[] data, int... fds) throws LinuxException {
        sendFully(ByteBuffer.wrap(data), fds);
    }

    /**
     * One {@code recvmsg} into {@code into}'s remaining bytes (advancing its position), accepting up to
     * {@code maxFds} descriptors. More descriptors than that is an error (the kernel drops the excess; those that
     * came are closed). A receive timeout fails with EAGAIN.
     *
     * @return the bytes and descriptors received; {@link Received#eof()} at end of file; 0 bytes if non-blocking
     *         and nothing is there
     */
    public Received recv(ByteBuffer into, int maxFds) throws IOException {
        if (maxFds < 0 || maxFds > MAX_FDS) {
            throw new IllegalArgumentException("maxFds " + maxFds);
        }
        if (!into.hasRemaining()) {
            throw new IllegalArgumentException("no room to receive into");
        }
        synchronized (recvLock) {
            Scratch s = recvScratch;
            int length = into.remaining();
            long buffer = s.dataAddress(into, length, false);
            s.header(buffer, length, maxFds);
            long n;
            while (true) {
                n = LibC.recvmsg(fd.fd(), s.address, MSG_CMSG_CLOEXEC);
                if (n >= 0) {
                    break;
                }
                int errno = Errno.last();
                if (errno == Errno.EAGAIN && nonBlocking) {
                    return NOTHING;
                }
                if (errno == Errno.EAGAIN) {
                    throw new LinuxException("recvmsg", errno, "receive timeout");
                }
                if (errno != Errno.EINTR) {
                    throw new LinuxException("recvmsg", errno);
                }
            }
            int[] fds = s.receivedFds();
            if ((s.memory.getInt(MSG_FLAGS) & MSG_CTRUNC) != 0 || fds.length > maxFds) {
                closeAll(fds);
                throw new IOException("recvmsg: more file descriptors than the " + maxFds
                        + " expected (MSG_CTRUNC); received ones closed");
            }
            if (n == 0) {
                closeAll(fds);
                return EOF;
            }
            s.copyBack(into, (int) n);
            into.position(into.position() + (int) n);
            return new Received((int) n, fds);
        }
    }

    /**
     * Receives exactly {@code into}'s remaining bytes, however many {@code recvmsg} calls they take, with up to
     * {@code maxFds} descriptors in all (those of vhost-user come with the message's first bytes). For blocking
     * sockets.
     *
     * @return the bytes (all of them) and the descriptors; {@link Received#eof()} if the connection ended before
     *         the first byte
     * @throws EOFException if it ended part way (a truncated message); descriptors received are then closed
     */
    public Received recvExactly(ByteBuffer into, int maxFds) throws IOException {
        if (nonBlocking) {
            throw new IllegalStateException("recvExactly needs a blocking socket");
        }
        synchronized (recvLock) {
            int wanted = into.remaining();
            int got = 0;
            int[] fds = NO_FDS;
            try {
                while (into.hasRemaining()) {
                    Received part = recv(into, maxFds - fds.length);
                    if (part.eof()) {
                        if (got == 0) {
                            return EOF;
                        }
                        throw new EOFException("recvmsg: connection closed after " + got + " of " + wanted
                                + " bytes of a message");
                    }
                    got += part.bytes();
                    if (part.fds().length > 0) {
                        int[] more = Arrays.copyOf(fds, fds.length + part.fds().length);
                        System.arraycopy(part.fds(), 0, more, fds.length, part.fds().length);
                        fds = more;
                    }
                }
            } catch (IOException | RuntimeException e) {
                closeAll(fds);
                throw e;
            }
            return new Received(got, fds);
        }
    }

    /** {@link #recvExactly(ByteBuffer, int)} filling the whole array. */
    public Received recvExactly(byte[] into, int maxFds) throws IOException {
        return recvExactly(ByteBuffer.wrap(into), maxFds);
    }

    /** Closes the socket (idempotent); a listening socket's path is removed. */
    @Override
    public void close() {
        if (fd.isOpen()) {
            fd.close();
            if (boundPath != null) {
                try {
                    java.nio.file.Files.deleteIfExists(boundPath);
                } catch (IOException ignored) {
                    // someone else's now, or gone with its directory
                }
            }
        }
    }

    @Override
    public String toString() {
        return "UnixSocket[" + fd + (boundPath != null ? " " + boundPath : "") + "]";
    }

    private static Fd newSocket() throws LinuxException {
        int fd = LibC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw LinuxException.last("socket");
        }
        return Fd.adopt(fd);
    }

    private static void connect(int fd, byte[] address, Path path) throws LinuxException {
        while (LibC.connect(fd, address, address.length) < 0) {
            int errno = Errno.last();
            if (errno == Errno.EISCONN) {
                return; // an interrupted connect completed meanwhile
            }
            if (errno != Errno.EINTR && errno != Errno.EALREADY) {
                throw new LinuxException("connect", errno, path.toString());
            }
        }
    }

    /** {@code struct sockaddr_un} for {@code path}, family first (little endian), path NUL-terminated. */
    private static byte[] sockaddr(Path path) throws LinuxException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH_MAX) {
            throw new LinuxException("sockaddr_un", Errno.ENAMETOOLONG,
                    path + " is " + name.length + " bytes, at most " + (SUN_PATH_MAX - 1) + " fit");
        }
        byte[] address = new byte[2 + name.length + 1];
        address[0] = (byte) AF_UNIX;
        System.arraycopy(name, 0, address, 2, name.length);
        return address;
    }

    private static void removeStale(Path path, byte[] address) throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = java.nio.file.Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (!attributes.isOther()) {
            return; // not a socket: leave it, bind reports EADDRINUSE
        }
        try (Fd probe = newSocket()) {
            if (LibC.connect(probe.fd(), address, address.length) == 0) {
                throw new LinuxException("bind", Errno.EADDRINUSE, path + ": a server is listening there");
            }
            int errno = Errno.last();
            if (errno != Errno.ECONNREFUSED) {
                throw new LinuxException("connect", errno, "probing " + path);
            }
        }
        Files.unlink(path.toString());
    }

    private static void closeAll(int[] fds) {
        for (int received : fds) {
            LibC.close(received);
        }
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }

    /** Native memory for one direction's msghdr, iovec and control data, plus a bounce buffer for heap buffers. */
    private static final class Scratch {
        final Memory memory = new Memory(SCRATCH_SIZE);
        final long address = Pointer.nativeValue(memory);
        Memory bounce;

        /** The native address of {@code length} bytes of {@code buffer} from its position. */
        long dataAddress(ByteBuffer buffer, int length, boolean copyIn) {
            if (buffer.isDirect()) {
                return Pointer.nativeValue(Native.getDirectBufferPointer(buffer)) + buffer.position();
            }
            if (bounce == null || bounce.size() < length) {
                bounce = new Memory(Math.max(length, 4096));
            }
            if (copyIn && buffer.hasArray()) {
                bounce.write(0, buffer.array(), buffer.arrayOffset() + buffer.position(), length);
            } else if (copyIn) { // a read-only heap buffer
                byte[] bytes = new byte[length];
                buffer.duplicate().get(bytes);
                bounce.write(0, bytes, 0, length);
            }
            return Pointer.nativeValue(bounce);
        }

        /** After a receive into a heap buffer, copies the bytes from the bounce buffer. */
        void copyBack(ByteBuffer buffer, int n) {
            if (!buffer.isDirect()) {
                bounce.read(0, buffer.array(), buffer.arrayOffset() + buffer.position(), n);
            }
        }

        /** Fills msghdr and iovec for one buffer and room for {@code fds} descriptors. */
        void header(long buffer, int length, int fds) {
            memory.clear(SCRATCH_SIZE);
            memory.setLong(MSGHDR_SIZE, buffer);
            memory.setLong(MSGHDR_SIZE + 8, length);
            memory.setLong(MSG_IOV, address + MSGHDR_SIZE);
            memory.setLong(MSG_IOVLEN, 1);
            if (fds > 0) {
                memory.setLong(MSG_CONTROL, address + CONTROL_OFFSET);
                memory.setLong(MSG_CONTROLLEN, CMSG_HDR + align8(4 * fds)); // CMSG_SPACE
            }
        }

        /** The SCM_RIGHTS descriptors in the control data recvmsg filled. */
        int[] receivedFds() {
            long controlLength = memory.getLong(MSG_CONTROLLEN);
            int[] fds = NO_FDS;
            long at = 0;
            while (at + CMSG_HDR <= controlLength) {
                long length = memory.getLong(CONTROL_OFFSET + at);
                if (length < CMSG_HDR || at + length > controlLength) {
                    break;
                }
                int level = memory.getInt(CONTROL_OFFSET + at + 8);
                int type = memory.getInt(CONTROL_OFFSET + at + 12);
                if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                    int count = (int) ((length - CMSG_HDR) / 4);
                    int[] more = Arrays.copyOf(fds, fds.length + count);
                    for (int i = 0; i < count; i++) {
                        more[fds.length + i] = memory.getInt(CONTROL_OFFSET + at + CMSG_HDR + 4L * i);
                    }
                    fds = more;
                }
                at += align8((int) length);
            }
            return fds;
        }
    }
}
