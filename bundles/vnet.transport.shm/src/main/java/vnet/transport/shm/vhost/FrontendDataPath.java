package vnet.transport.shm.vhost;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.Epoll;
import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.linux.LinuxException;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.NetDriver;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DriverQueue;

/**
 * The front-end's data path: sending and receiving frames through the {@link NetDriver}, refilling the receive queue,
 * kicking the device only when it asks, and sleeping on the call eventfds (epoll) when a queue has nothing to give.
 * Owns the kick and call eventfds of both queues, the wake eventfd that {@link #wake()} uses to stop a sleeper, and the
 * two epoll sets; counts the kicks. Send and receive each hold a lock of their own; nothing is allocated per frame.
 */
final class FrontendDataPath implements AutoCloseable {
    private static final long TOKEN_CALL = 1;
    private static final long TOKEN_WAKE = 2;
    private static final long TOKEN_SOCKET = 3;
    private static final byte[] NO_BYTES = new byte[0];

    private final Path socketPath;
    private final NetDriver driver;
    private final int maxFrameSize;
    private final long sendTimeoutNanos;
    private final ReentrantLock rxLock = new ReentrantLock();
    private final ReentrantLock txLock = new ReentrantLock();
    private final VirtioNetHeader zeroHeader = new VirtioNetHeader();
    private final UnsafeBuffer heapFrame = new UnsafeBuffer(NO_BYTES);

    private final EventFd rxKick;
    private final EventFd rxCall;
    private final EventFd txKick;
    private final EventFd txCall;
    private final EventFd wake;
    private final Epoll rxEpoll;
    private final Epoll txEpoll;

    private volatile boolean closed;
    private volatile String disconnectReason;
    private volatile long txKicks;
    private volatile long rxKicks;

    /**
     * Makes the eventfds and epoll sets; each epoll set also watches {@code socket} so that a sleeper sees the back-end
     * hang up.
     */
    FrontendDataPath(Path socketPath, Fd socket, NetDriver driver, VhostUserFrontend.Options options) throws LinuxException {
        this.socketPath = socketPath;
        this.driver = driver;
        this.maxFrameSize = options.maxFrameSize();
        this.sendTimeoutNanos = options.sendTimeout().toNanos();
        EventFd[] fds = new EventFd[5];
        Epoll rx = null;
        Epoll tx = null;
        try {
            for (int i = 0; i < fds.length; i++) {
                fds[i] = EventFd.create();
            }
            rx = waitSet(fds[1], fds[4], socket);
            tx = waitSet(fds[3], fds[4], socket);
        } catch (LinuxException | RuntimeException e) {
            VhostUserFrontend.closeQuietly(rx);
            for (EventFd fd : fds) {
                VhostUserFrontend.closeQuietly(fd);
            }
            throw e;
        }
        rxKick = fds[0];
        rxCall = fds[1];
        txKick = fds[2];
        txCall = fds[3];
        wake = fds[4];
        rxEpoll = rx;
        txEpoll = tx;
    }

    private static Epoll waitSet(EventFd callFd, EventFd wake, Fd socket) throws LinuxException {
        Epoll e = Epoll.create(3);
        try {
            e.add(callFd.fd().fd(), Epoll.EPOLLIN, TOKEN_CALL);
            e.add(wake.fd().fd(), Epoll.EPOLLIN, TOKEN_WAKE);
            e.add(socket.fd(), Epoll.EPOLLIN | Epoll.EPOLLRDHUP, TOKEN_SOCKET);
            return e;
        } catch (LinuxException | RuntimeException ex) {
            VhostUserFrontend.closeQuietly(e);
            throw ex;
        }
    }

    /** The kick eventfd of queue {@code q} (0 receive, 1 transmit), for SET_VRING_KICK. */
    EventFd kick(int q) {
        return q == VhostUserFrontend.RX ? rxKick : txKick;
    }

    /** The call eventfd of queue {@code q}, for SET_VRING_CALL. */
    EventFd call(int q) {
        return q == VhostUserFrontend.RX ? rxCall : txCall;
    }

    /**
     * Puts the receive buffers in before the rings are enabled, so the device finds them at once, and turns the
     * device's calls off until a sleeper wants them.
     */
    void prepare() {
        driver.postRxBuffers();
        driver.rxQueue().publish();
        driver.rxQueue().disableInterrupts();
        driver.txQueue().disableInterrupts();
    }

    /** Tells the device that the receive queue has buffers (once the rings are enabled). */
    void kickReceiveQueue() throws LinuxException {
        rxKick.signal();
        rxKicks++;
    }

    /** See {@link VhostUserFrontend#send(FrameBuffer)}. */
    boolean send(FrameBuffer frame) throws IOException {
        txLock.lock();
        try {
            return sendLocked(frame.header(), frame.buffer(), 0, frame.length());
        } finally {
            txLock.unlock();
        }
    }

    /** See {@link VhostUserFrontend#send(byte[], int, int)}. */
    boolean send(byte[] frame, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, frame.length);
        txLock.lock();
        try {
            heapFrame.wrap(frame);
            return sendLocked(zeroHeader, heapFrame, offset, length);
        } finally {
            heapFrame.wrap(NO_BYTES); // do not keep the caller's array reachable
            txLock.unlock();
        }
    }

    private boolean sendLocked(VirtioNetHeader header, DirectBuffer src, int offset, int length) throws IOException {
        checkOpen();
        if (length > maxFrameSize) {
            throw new IllegalArgumentException("a frame of " + length + " bytes exceeds the largest frame, "
                    + maxFrameSize + " bytes");
        }
        DriverQueue tx = driver.txQueue();
        long deadline = 0;
        boolean waited = false;
        while (!driver.send(header, src, offset, length)) {
            checkQueue(tx, "transmit");
            if (!waited) {
                deadline = System.nanoTime() + sendTimeoutNanos;
                waited = true;
            }
            if (tx.enableInterrupts()) {
                tx.disableInterrupts();
                continue; // completions arrived meanwhile
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                tx.disableInterrupts();
                return false;
            }
            await(txEpoll, txCall, left);
            tx.disableInterrupts();
        }
        if (driver.kickTx()) {
            txKick.signal();
            txKicks++;
        }
        return true;
    }

    /** See {@link VhostUserFrontend#receive}. */
    boolean receive(FrameBuffer into, Duration timeout) throws IOException {
        rxLock.lock();
        try {
            checkOpen();
            DriverQueue rx = driver.rxQueue();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                int length = driver.receive(into);
                if (length != NetDriver.NONE) {
                    refillReceiveQueue();
                    if (length >= 0) {
                        return true;
                    }
                    continue; // dropped one; look for the next
                }
                checkQueue(rx, "receive");
                if (rx.enableInterrupts()) {
                    rx.disableInterrupts();
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    rx.disableInterrupts();
                    return false;
                }
                await(rxEpoll, rxCall, left);
                rx.disableInterrupts();
            }
        } finally {
            rxLock.unlock();
        }
    }

    /** Posts every free receive buffer and kicks if the device asks. Under rxLock. */
    private void refillReceiveQueue() throws LinuxException {
        driver.postRxBuffers();
        if (driver.kickRx()) {
            rxKick.signal();
            rxKicks++;
        }
    }

    private static void checkQueue(DriverQueue q, String which) throws IOException {
        if (q.isBroken()) {
            throw new IOException(which + " queue broken by the device: " + q.brokenReason());
        }
    }

    /** Sleeps on {@code epoll} until the call rings, {@link #wake()} wakes us, or the back-end hangs up. */
    private void await(Epoll epoll, EventFd callFd, long nanos) throws IOException {
        int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (nanos + 999_999) / 1_000_000));
        int n = epoll.epollWait(ms);
        for (int i = 0; i < n; i++) {
            if (epoll.token(i) == TOKEN_SOCKET) {
                disconnectReason = "back-end at " + socketPath + " closed the connection";
            }
        }
        callFd.drain();
        checkOpen();
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException("vhost-user front-end " + socketPath + " is closed");
        }
        String reason = disconnectReason;
        if (reason != null) {
            throw new IOException(reason);
        }
    }

    /** Marks the data path closed and wakes a sender or receiver that sleeps; they then fail with "is closed". */
    void wake() {
        closed = true;
        try {
            wake.signal();
        } catch (LinuxException e) {
            // the waiters also time out
        }
    }

    /** Takes both locks: no send or receive runs until {@link #unlockAll()}. */
    void lockAll() {
        rxLock.lock();
        txLock.lock();
    }

    void unlockAll() {
        txLock.unlock();
        rxLock.unlock();
    }

    /** Whether the back-end has been seen to hang up. */
    boolean disconnected() {
        return disconnectReason != null;
    }

    boolean isConnected() {
        return !closed && disconnectReason == null;
    }

    NetDriver driver() {
        return driver;
    }

    long txKicks() {
        return txKicks;
    }

    long rxKicks() {
        return rxKicks;
    }

    /** Closes the epoll sets and eventfds. */
    @Override
    public void close() {
        closed = true;
        VhostUserFrontend.closeQuietly(rxEpoll);
        VhostUserFrontend.closeQuietly(txEpoll);
        VhostUserFrontend.closeQuietly(rxKick);
        VhostUserFrontend.closeQuietly(rxCall);
        VhostUserFrontend.closeQuietly(txKick);
        VhostUserFrontend.closeQuietly(txCall);
        VhostUserFrontend.closeQuietly(wake);
    }
}
