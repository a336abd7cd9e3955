package vnet.linux;

import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Owns one Linux file descriptor and closes it once. {@link #close()} is idempotent and thread-safe; after it,
 * {@link #fd()} throws.
 */
public final class Fd implements AutoCloseable {
    private static final int F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030;
    private static final int O_NONBLOCK = 04000;

    private final AtomicInteger fd;

    private Fd(int fd) {
        this.fd = new AtomicInteger(fd);
    }

    /** Takes ownership of the open descriptor {@code fd} (from a call of this package, or received by SCM_RIGHTS). */
    public static Fd adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd);
        }
        return new Fd(fd);
    }

    /** Like {@link #adopt(int)} for each of {@code fds}. */
    public static Fd[] adoptAll(int[] fds) {
        Fd[] owned = new Fd[fds.length];
        for (int i = 0; i < fds.length; i++) {
            owned[i] = adopt(fds[i]);
        }
        return owned;
    }

    /** The descriptor's number; throws {@link IllegalStateException} once closed or released. */
    public int fd() {
        int value = fd.get();
        if (value < 0) {
            throw new IllegalStateException("file descriptor closed");
        }
        return value;
    }

    /** Whether the descriptor is still owned and open. */
    public boolean isOpen() {
        return fd.get() >= 0;
    }

    /** A new descriptor for the same open file ({@code fcntl(F_DUPFD_CLOEXEC)}), owned by the returned {@code Fd}. */
    public Fd dup() throws LinuxException {
        int copy = LibC.fcntl(fd(), F_DUPFD_CLOEXEC, 0);
        if (copy < 0) {
            throw LinuxException.last("dup");
        }
        return new Fd(copy);
    }

    /** Gives up ownership without closing (after handing the descriptor to someone else) and returns its number. */
    public int release() {
        int value = fd.getAndSet(-1);
        if (value < 0) {
            throw new IllegalStateException("file descriptor closed");
        }
        return value;
    }

    /** {@code F_SEAL_SHRINK}: the file may no longer be made smaller ({@code memfd_create(2)} seals). */
    public static final int F_SEAL_SHRINK = 0x0002;
    private static final int F_ADD_SEALS = 1033;
    private static final int F_GET_SEALS = 1034;

    /**
     * Adds file seals ({@code fcntl(F_ADD_SEALS)}). Returns false where the file cannot take them (not a memfd,
     * created without {@code MFD_ALLOW_SEALING}, or already sealed against new seals); true once they are set.
     */
    public boolean addSeals(int seals) {
        if (LibC.fcntl(fd(), F_ADD_SEALS, seals) == 0) {
            return true;
        }
        int got = LibC.fcntl(fd(), F_GET_SEALS, 0);
        return got >= 0 && (got & seals) == seals;
    }

    /** Sets or clears {@code O_NONBLOCK} ({@code fcntl(F_SETFL)}). */
    public void setNonBlocking(boolean nonBlocking) throws LinuxException {
        int flags = LibC.fcntl(fd(), F_GETFL, 0);
        if (flags < 0) {
            throw LinuxException.last("fcntl(F_GETFL)");
        }
        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags && LibC.fcntl(fd(), F_SETFL, wanted) < 0) {
            throw LinuxException.last("fcntl(F_SETFL)");
        }
    }

    /** Whether {@code O_NONBLOCK} is set. */
    public boolean isNonBlocking() throws LinuxException {
        int flags = LibC.fcntl(fd(), F_GETFL, 0);
        if (flags < 0) {
            throw LinuxException.last("fcntl(F_GETFL)");
        }
        return (flags & O_NONBLOCK) != 0;
    }

    /**
     * Closes the descriptor; later calls do nothing. EINTR counts as closed (Linux releases the descriptor anyway);
     * any other failure is thrown as an {@link UncheckedIOException} around a {@link LinuxException}.
     */
    @Override
    public void close() {
        int value = fd.getAndSet(-1);
        if (value >= 0 && LibC.close(value) < 0) {
            int errno = Errno.last();
            if (errno != Errno.EINTR) {
                throw new UncheckedIOException(new LinuxException("close", errno));
            }
        }
    }

    @Override
    public String toString() {
        int value = fd.get();
        return value >= 0 ? "Fd[" + value + "]" : "Fd[closed]";
    }
}
