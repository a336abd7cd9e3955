package vnet.peer;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.Epoll;
import vnet.linux.Errno;
import vnet.linux.EventFd;
import vnet.linux.LinuxException;
import vnet.virtio.net.Checksums;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.VirtioNetHeader;

/**
 * {@code peer=}: the host peer is the driver side of a vnet port, reached through a connection of type {@code C} (a
 * vhost-user front-end for a socket path, an in-framework endpoint for {@code <link>:<port>}). Two threads: the TX
 * thread sleeps in epoll on the TAP and hands what the host stack transmits to the port; the RX thread reaches the port
 * (and again whenever it goes away, every {@link #RECONNECT_DELAY} or at once after {@link #retryNow()}), then waits
 * for the port's frames and writes them to the TAP. Subclasses say how a port is reached, fed and read.
 *
 * @param <C> a connection to the port
 */
abstract class DriverBridge<C> extends Bridge {
    private static final Logger LOG = System.getLogger(DriverBridge.class.getName());

    private static final long TOKEN_WAKE = 0;
    private static final long TOKEN_TAP = 1;
    private static final int IDLE_WAIT_MS = 1000;
    /** Pause between attempts to reach the port. */
    static final Duration RECONNECT_DELAY = Duration.ofMillis(250);

    private final EventFd wakeup;
    private final Epoll epoll;
    private final Thread rxThread;
    private final Object retryLock = new Object();
    private boolean retrySoon;
    private volatile C connection;
    private volatile boolean running = true;
    private volatile String lastError;
    private volatile int connections;
    private volatile boolean tapDead;

    /** TX thread's: TAP staging (header then frame) and the header read. */
    final UnsafeBuffer fromTap;
    private final VirtioNetHeader tapHeaderIn = new VirtioNetHeader();
    /** RX thread's: TAP staging, header then frame. */
    final UnsafeBuffer toTap;

    DriverBridge(TapInterface tap, PeerOptions options) throws LinuxException {
        super(tap, options);
        this.wakeup = EventFd.create();
        this.epoll = Epoll.create(2);
        this.fromTap = tapBuffer(tapHeader);
        this.toTap = tapBuffer(tapHeader);
        this.rxThread = new Thread(this::rxLoop, "vnet-peer-" + tap.name() + "-rx");
        rxThread.setDaemon(true);
    }

    /** Starts both threads (the port is reached in the background); on failure closes this bridge. */
    final void startThreads() throws IOException {
        try {
            epoll.add(wakeup.fd().fd(), Epoll.EPOLLIN, TOKEN_WAKE);
            epoll.add(tap.fd(), Epoll.EPOLLIN, TOKEN_TAP);
            startTxThread();
            rxThread.start();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    // ---- what subclasses say ------------------------------------------------------------------------------------

    /**
     * Reaches the port (RX thread).
     *
     * @throws InterruptedIOException when interrupted by {@link #close()}
     * @throws IOException            if the port is not there or refuses; noted in {@link #lastError()}, tried again
     */
    abstract C connect() throws IOException;

    /** Just reached (RX thread): set the TAP's offloads and the like. */
    abstract void connected(C c);

    /**
     * Waits a bounded time (about a second) for frames from the port and writes each to the TAP with
     * {@link #writeTap(int)} (RX thread).
     *
     * @return false once the connection is over
     * @throws IOException when the connection failed
     */
    abstract boolean receive(C c) throws IOException;

    /** Largest frame {@code c} takes. */
    abstract int maxSendFrame(C c);

    /**
     * Whether the port took transmit TSO, so the TAP hands us GSO frames of the types negotiated (TUNSETOFFLOAD
     * follows the features); false unless a bridge says otherwise.
     */
    boolean sendsGso(C c) {
        return false;
    }

    /**
     * Sends the frame of {@code length} bytes at {@link #tapHeader} in {@link #fromTap}, whose TAP header is {@code h}
     * (not GSO), completing a partial checksum the port cannot take (TX thread). Never blocks.
     *
     * @return whether the port took it
     */
    abstract boolean send(C c, VirtioNetHeader h, int length);

    /** Whether {@code c} still runs the port's device. */
    abstract boolean isConnected(C c);

    /** Closes {@code c}, waking a {@link #receive} in progress. Idempotent, from any thread. */
    abstract void disconnect(C c);

    /** What the peer attaches to, for messages. */
    String target() {
        return options.target();
    }

    // ---- state -------------------------------------------------------------------------------------------------

    @Override
    final boolean isConnected() {
        C c = connection;
        return c != null && isConnected(c);
    }

    /** The current connection, or null while the port is not reached. */
    final C connection() {
        return connection;
    }

    /** Why the last attempt to reach the port, or the last connection, failed; or null. */
    final String lastError() {
        return lastError;
    }

    /** How many times the port was reached. */
    final int connections() {
        return connections;
    }

    /** Makes an RX thread that waits to reach the port try again now. */
    final void retryNow() {
        synchronized (retryLock) {
            retrySoon = true;
            retryLock.notifyAll();
        }
    }

    // ---- TX: TAP → port -------------------------------------------------------------------------------------------

    @Override
    final void txLoop() {
        while (running) {
            int frames = 0;
            int n;
            while (frames < BURST && (n = readTap()) > 0) {
                frames++;
                send(n);
            }
            if (frames == 0 && running) {
                try {
                    int ready = epoll.epollWait(IDLE_WAIT_MS);
                    for (int i = 0; i < ready; i++) {
                        if (epoll.token(i) == TOKEN_WAKE) {
                            wakeup.drain();
                        }
                    }
                } catch (LinuxException | IllegalStateException e) {
                    if (running) {
                        LOG.log(Level.ERROR, "host peer " + tap.name() + ": epoll failed", e);
                        pause(Duration.ofMillis(100)); // do not spin on a lasting failure
                    }
                }
            }
        }
    }

    private int readTap() {
        if (tapDead) {
            return 0;
        }
        try {
            int n = tap.read(fromTap.addressOffset(), fromTap.capacity());
            if (n > 0) {
                stats.tapFramesRead++;
            }
            return Math.max(n, 0);
        } catch (LinuxException e) {
            tapDead = true;
            LOG.log(Level.WARNING, "host peer {0}: the TAP interface is gone ({1})", tap.name(), e.getMessage());
            try {
                epoll.remove(tap.fd());
            } catch (LinuxException | IllegalStateException ignored) {
                // closed already
            }
            return 0;
        }
    }

    /** Sends the frame of {@code n} bytes (with its TAP header) in {@link #fromTap}, or counts it dropped. */
    private void send(int n) {
        C c = connection;
        int length = n - tapHeader;
        if (c == null || length < NetDevice.ETH_HEADER_LENGTH || length > maxSendFrame(c)) {
            stats.toVirtioDropped++;
            return;
        }
        VirtioNetHeader h = tapHeaderIn.decode(fromTap, 0, tapHeader);
        if (h.isGso() && !sendsGso(c)) {
            stats.toVirtioDropped++; // TSO is not enabled on the TAP towards this port; a stale frame
            return;
        }
        if (send(c, h, length)) {
            stats.toVirtio++;
        } else {
            stats.toVirtioDropped++;
        }
    }

    /**
     * Completes the partial checksum {@code h} asks for in the frame at {@code offset}; false (frame untouched) if its
     * offsets do not fit the frame.
     */
    final boolean completeChecksum(MutableDirectBuffer frame, int offset, int length, VirtioNetHeader h) {
        if (!Checksums.complete(frame, offset, length, h.csumStart(), h.csumOffset())) {
            return false;
        }
        stats.checksumsCompleted++;
        return true;
    }

    // ---- RX: port → TAP, and the connection -------------------------------------------------------------------

    private void rxLoop() {
        while (running) {
            C c;
            try {
                c = connect();
            } catch (InterruptedIOException e) {
                break;
            } catch (IOException | RuntimeException e) {
                noteError(String.valueOf(e.getMessage()));
                awaitRetry();
                continue;
            }
            if (!running) {
                disconnect(c);
                break;
            }
            connected(c);
            connection = c;
            connections++;
            try {
                while (running && receive(c)) {
                    // each round writes what arrived
                }
            } catch (IOException | RuntimeException e) {
                if (running) {
                    noteError(String.valueOf(e.getMessage()));
                }
            }
            connection = null;
            disconnect(c);
            if (running) {
                LOG.log(Level.DEBUG, "host peer {0}: lost {1}", tap.name(), target());
                awaitRetry();
            }
        }
    }

    /** Writes the frame of {@code length} bytes at {@link #tapHeader} in {@link #toTap} (header in front) to the TAP. */
    final void writeTap(int length) {
        if (tapDead || length > MAX_FRAME) {
            stats.toTapDropped++;
            return;
        }
        try {
            if (tap.write(toTap.addressOffset(), tapHeader + length) == tapHeader + length) {
                stats.toTap++;
                return;
            }
        } catch (LinuxException e) {
            if (e.errno() == Errno.EBADFD) {
                tapDead = true; // also seen by the TX thread through its own read
            }
        }
        stats.toTapDropped++;
    }

    final void noteError(String message) {
        if (!message.equals(lastError)) {
            LOG.log(Level.DEBUG, "host peer {0}: {1}", tap.name(), message);
        }
        lastError = message;
    }

    /** Waits {@link #RECONNECT_DELAY}, or less if {@link #retryNow()} or {@link #close()} come. */
    private void awaitRetry() {
        synchronized (retryLock) {
            if (!retrySoon && running) {
                try {
                    retryLock.wait(RECONNECT_DELAY.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            retrySoon = false;
        }
    }

    static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Disconnects from the port and stops both threads; the TAP is the caller's. */
    @Override
    public final void close() {
        running = false;
        C c = connection;
        if (c != null) {
            disconnect(c); // wakes a receive
        }
        rxThread.interrupt(); // wakes a connect retry
        retryNow();
        try {
            wakeup.signal();
        } catch (LinuxException | IllegalStateException ignored) {
            // closed
        }
        joinTxThread();
        if (rxThread.getState() != Thread.State.NEW) {
            try {
                rxThread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (rxThread.isAlive()) {
                LOG.log(Level.WARNING, "host peer {0}: the RX thread did not stop within 5 s", tap.name());
            }
        }
        c = connection;
        if (c != null) {
            disconnect(c);
        }
        epoll.close();
        wakeup.close();
    }
}
