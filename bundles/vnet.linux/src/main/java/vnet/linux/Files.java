package vnet.linux;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * {@code open(2)}, {@code read(2)} and {@code write(2)} on raw descriptors: for device files such as
 * {@code /dev/net/tun} and for TAP frames. (Not {@link java.nio.file.Files}; import one of the two by full name.)
 * <p>
 * The read and write methods take the descriptor's number (from {@link Fd#fd()}), follow the channel convention
 * (bytes moved; 0 when a non-blocking descriptor has nothing; -1 at end of file), retry on EINTR and allocate
 * nothing.
 */
public final class Files {
    /** Read only. */ public static final int O_RDONLY = 0;
    /** Write only. */ public static final int O_WRONLY = 1;
    /** Read and write. */ public static final int O_RDWR = 2;
    /** Create if missing (with mode 0600). */ public static final int O_CREAT = 0100;
    /** Non-blocking I/O. */ public static final int O_NONBLOCK = 04000;
    /** Close on exec (always added by {@link #open}). */ public static final int O_CLOEXEC = 02000000;

    private Files() {}

    /** Opens {@code path} with {@code flags} ({@code O_*}) plus {@link #O_CLOEXEC}. */
    public static Fd open(Path path, int flags) throws LinuxException {
        return open(path.toString(), flags);
    }

    /** Opens {@code path} with {@code flags} ({@code O_*}) plus {@link #O_CLOEXEC}. */
    public static Fd open(String path, int flags) throws LinuxException {
        byte[] cPath = Strings.cString(path);
        while (true) {
            int fd = LibC.open(cPath, flags | O_CLOEXEC, 0600);
            if (fd >= 0) {
                return Fd.adopt(fd);
            }
            if (Errno.last() != Errno.EINTR) {
                throw LinuxException.last("open", path);
            }
        }
    }

    /**
     * Reads into {@code buffer}'s remaining bytes (direct or heap) and advances its position.
     *
     * @return bytes read; 0 if non-blocking and nothing to read (EAGAIN); -1 at end of file
     */
    public static int read(int fd, ByteBuffer buffer) throws LinuxException {
        int remaining = buffer.remaining();
        while (true) {
            long n = LibC.read(fd, buffer, remaining);
            if (n > 0) {
                buffer.position(buffer.position() + (int) n);
                return (int) n;
            }
            if (n == 0) {
                return remaining == 0 ? 0 : -1;
            }
            if (!retry("read")) {
                return 0;
            }
        }
    }

    /**
     * Writes {@code buffer}'s remaining bytes (direct, or heap but not read-only), as many as the descriptor takes,
     * and advances its position.
     *
     * @return bytes written; 0 if non-blocking and full (EAGAIN)
     */
    public static int write(int fd, ByteBuffer buffer) throws LinuxException {
        if (!buffer.isDirect() && !buffer.hasArray()) {
            throw new IllegalArgumentException("a read-only heap buffer has no array to pass: use a direct buffer");
        }
        while (true) {
            long n = LibC.write(fd, buffer, buffer.remaining());
            if (n >= 0) {
                buffer.position(buffer.position() + (int) n);
                return (int) n;
            }
            if (!retry("write")) {
                return 0;
            }
        }
    }

    /**
     * Reads up to {@code length} bytes to native memory at {@code address} (a {@link Mapping} or direct buffer).
     *
     * @return bytes read; 0 if non-blocking and nothing to read (EAGAIN); -1 at end of file
     */
    public static int read(int fd, long address, int length) throws LinuxException {
        while (true) {
            long n = LibC.read(fd, address, length);
            if (n > 0) {
                return (int) n;
            }
            if (n == 0) {
                return length == 0 ? 0 : -1;
            }
            if (!retry("read")) {
                return 0;
            }
        }
    }

    /**
     * Writes up to {@code length} bytes from native memory at {@code address}.
     *
     * @return bytes written; 0 if non-blocking and full (EAGAIN)
     */
    public static int write(int fd, long address, int length) throws LinuxException {
        while (true) {
            long n = LibC.write(fd, address, length);
            if (n >= 0) {
                return (int) n;
            }
            if (!retry("write")) {
                return 0;
            }
        }
    }

    /**
     * After a failed {@code op}: true to try again (EINTR), false if a non-blocking descriptor cannot move bytes
     * now (EAGAIN); any other errno is thrown.
     */
    private static boolean retry(String op) throws LinuxException {
        int errno = Errno.last();
        if (errno == Errno.EAGAIN) {
            return false;
        }
        if (errno != Errno.EINTR) {
            throw new LinuxException(op, errno);
        }
        return true;
    }

    /** Removes {@code path} ({@code unlink(2)}). */
    public static void unlink(String path) throws LinuxException {
        if (LibC.unlink(Strings.cString(path)) < 0) {
            throw LinuxException.last("unlink", path);
        }
    }
}
