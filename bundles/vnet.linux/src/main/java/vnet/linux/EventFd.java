package vnet.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * An {@code eventfd(2)} counter made with {@code EFD_NONBLOCK | EFD_CLOEXEC}: a doorbell (vhost-user kick and call)
 * that epoll can watch. {@link #signal()} is safe from any thread; {@link #drain()} is for one consumer thread at a
 * time. Neither allocates.
 */
public final class EventFd implements AutoCloseable {
    /** Non-blocking. */ public static final int EFD_NONBLOCK = 04000;
    /** Close on exec. */ public static final int EFD_CLOEXEC = 02000000;
    /** Semaphore semantics: each read takes 1. */ public static final int EFD_SEMAPHORE = 1;

    /** 8 bytes holding the value 1, read-only after class initialisation: what {@link #signal()} writes. */
    private static final Memory ONE = new Memory(8);
    private static final long ONE_ADDRESS;

    static {
        ONE.setLong(0, 1L);
        ONE_ADDRESS = Pointer.nativeValue(ONE);
    }

    private final Fd fd;
    private final Memory counter = new Memory(8);
    private final long counterAddress = Pointer.nativeValue(counter);

    private EventFd(Fd fd) {
        this.fd = fd;
    }

    /** A new eventfd with counter 0, {@code EFD_NONBLOCK | EFD_CLOEXEC}. */
    public static EventFd create() throws LinuxException {
        int fd = LibC.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) {
            throw LinuxException.last("eventfd");
        }
        return new EventFd(Fd.adopt(fd));
    }

    /**
     * Wraps a descriptor received from elsewhere (a vhost-user kick or call fd) and takes ownership. It is set
     * non-blocking, since {@link #drain()} must not block.
     */
    public static EventFd adopt(Fd fd) throws LinuxException {
        fd.setNonBlocking(true);
        return new EventFd(fd);
    }

    /** The owned descriptor (to register with {@link Epoll} or pass over a {@link UnixSocket}). */
    public Fd fd() {
        return fd;
    }

    /** Adds 1 to the counter (wakes the waiter). A counter already at its maximum is left as it is. */
    public void signal() throws LinuxException {
        try {
            write();
        } catch (InternalError e) {
            // HotSpot raises a faulting memory access of compiled code (a SIGBUS where a file mapped here was cut
            // short) as an asynchronous error at a later point of the thread, such as this native call, and there it
            // can come before the write. Write again, so that the wake-up is not lost, then let the caller handle the
            // fault: a second wake-up is harmless, a lost one leaves its waiter asleep.
            write();
            throw e;
        }
    }

    private void write() throws LinuxException {
        int f = fd.fd();
        while (LibC.write(f, ONE_ADDRESS, 8) < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN) {
                return; // saturated: the reader has a wake-up pending anyway
            }
            if (errno != Errno.EINTR) {
                throw new LinuxException("eventfd write", errno);
            }
        }
    }

    /** Reads and resets the counter: the number of signals since the last drain, or 0 if none (EAGAIN). */
    public long drain() throws LinuxException {
        int f = fd.fd();
        while (LibC.read(f, counterAddress, 8) < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN) {
                return 0;
            }
            if (errno != Errno.EINTR) {
                throw new LinuxException("eventfd read", errno);
            }
        }
        return counter.getLong(0);
    }

    /** Closes the descriptor (idempotent). */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "EventFd" + fd;
    }
}
