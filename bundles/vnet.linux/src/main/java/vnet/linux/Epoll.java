package vnet.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An {@code epoll(7)} instance. Each watched descriptor carries a {@code long} token chosen by the caller;
 * {@link #epollWait(int)} fills the preallocated {@link #tokens()} and {@link #events()} arrays and allocates nothing.
 * Registration is thread-safe; {@code epollWait} and the arrays belong to one thread at a time.
 */
public final class Epoll implements AutoCloseable {
    /** Readable. */ public static final int EPOLLIN = 0x001;
    /** Urgent data. */ public static final int EPOLLPRI = 0x002;
    /** Writable. */ public static final int EPOLLOUT = 0x004;
    /** Error (always reported). */ public static final int EPOLLERR = 0x008;
    /** Hang-up (always reported). */ public static final int EPOLLHUP = 0x010;
    /** The peer shut down its writing half. */ public static final int EPOLLRDHUP = 0x2000;
    /** Report once, then disable until {@link #modify}. */ public static final int EPOLLONESHOT = 1 << 30;
    /** Edge triggered. */ public static final int EPOLLET = 1 << 31;

    private static final int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    private static final int EPOLL_CLOEXEC = 02000000;

    private final Fd fd;
    private final int capacity;
    private final Memory ready;
    private final long readyAddress;
    private final ByteBuffer readyView;
    private final Memory control = new Memory(16);
    private final long controlAddress = Pointer.nativeValue(control);
    private final long[] tokens;
    private final int[] events;

    private Epoll(Fd fd, int capacity) {
        this.fd = fd;
        this.capacity = capacity;
        this.ready = new Memory((long) capacity * Arch.EPOLL_EVENT_SIZE);
        this.readyAddress = Pointer.nativeValue(ready);
        this.readyView = ready.getByteBuffer(0, ready.size()).order(ByteOrder.nativeOrder());
        this.tokens = new long[capacity];
        this.events = new int[capacity];
    }

    /** A new epoll instance ({@code epoll_create1(EPOLL_CLOEXEC)}) reporting up to {@code maxEvents} per wait. */
    public static Epoll create(int maxEvents) throws LinuxException {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents " + maxEvents);
        }
        int fd = LibC.epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0) {
            throw LinuxException.last("epoll_create1");
        }
        return new Epoll(Fd.adopt(fd), maxEvents);
    }

    /** The epoll descriptor itself (epoll instances nest). */
    public Fd fd() {
        return fd;
    }

    /** Watches {@code fd} for {@code events} ({@code EPOLL*} bits), reporting {@code token} with them. */
    public void add(int fd, int events, long token) throws LinuxException {
        control(EPOLL_CTL_ADD, fd, events, token, "epoll_ctl(ADD)");
    }

    /** Changes the events and token of a watched {@code fd}. */
    public void modify(int fd, int events, long token) throws LinuxException {
        control(EPOLL_CTL_MOD, fd, events, token, "epoll_ctl(MOD)");
    }

    /** Stops watching {@code fd}. */
    public void remove(int fd) throws LinuxException {
        control(EPOLL_CTL_DEL, fd, 0, 0, "epoll_ctl(DEL)");
    }

    private synchronized void control(int op, int target, int events, long token, String call) throws LinuxException {
        control.setInt(0, events);
        control.setLong(Arch.EPOLL_DATA_OFFSET, token);
        if (LibC.epoll_ctl(fd.fd(), op, target, controlAddress) < 0) {
            throw LinuxException.last(call, "fd " + target);
        }
    }

    /**
     * Waits up to {@code timeoutMs} milliseconds (-1: forever, 0: poll) for events. Returns how many descriptors
     * are ready; their tokens and event bits are then in {@link #tokens()}{@code [0..n)} and
     * {@link #events()}{@code [0..n)}. Returns 0 on timeout, and also when a signal interrupted the wait (EINTR).
     */
    public int epollWait(int timeoutMs) throws LinuxException {
        int n = LibC.epoll_wait(fd.fd(), readyAddress, capacity, timeoutMs);
        if (n < 0) {
            int errno = Errno.last();
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw new LinuxException("epoll_wait", errno);
        }
        ByteBuffer view = readyView;
        int size = Arch.EPOLL_EVENT_SIZE;
        int dataOffset = Arch.EPOLL_DATA_OFFSET;
        for (int i = 0, at = 0; i < n; i++, at += size) {
            events[i] = view.getInt(at);
            tokens[i] = view.getLong(at + dataOffset);
        }
        return n;
    }

    /** The token of the {@code i}-th ready descriptor of the last {@link #epollWait(int)}. */
    public long token(int i) {
        return tokens[i];
    }

    /** The event bits of the {@code i}-th ready descriptor of the last {@link #epollWait(int)}. */
    public int events(int i) {
        return events[i];
    }

    /** The array {@link #epollWait(int)} fills with tokens (length {@code maxEvents}; do not modify). */
    public long[] tokens() {
        return tokens;
    }

    /** The array {@link #epollWait(int)} fills with event bits (length {@code maxEvents}; do not modify). */
    public int[] events() {
        return events;
    }

    /** Closes the epoll descriptor (idempotent). */
    @Override
    public void close() {
        fd.close();
    }
}
