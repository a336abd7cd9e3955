package vnet.peer;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.LinuxException;
import vnet.linux.Sched;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;

/**
 * What both ways of attaching a TAP interface share: the TX thread (it reads the TAP and writes into the virtio side)
 * started with the configured priority, the staging buffers, the offload mapping, and the counters.
 */
abstract class Bridge implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Bridge.class.getName());

    /** Frames moved per direction before the other direction gets its turn. */
    static final int BURST = 64;
    /** Largest Ethernet frame (with GSO) either side may hand over. */
    static final int MAX_FRAME = FrameBuffer.DEFAULT_CAPACITY;

    final TapInterface tap;
    final PeerOptions options;
    final PeerStats stats = new PeerStats();
    final int tapHeader;
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile Throwable startFailure;
    private volatile int txThreadId;
    private Thread txThread;

    Bridge(TapInterface tap, PeerOptions options) {
        this.tap = tap;
        this.options = options;
        this.tapHeader = tap.headerSize();
    }

    /** A direct buffer for one TAP header plus the largest frame, wrapped for Agrona. */
    static UnsafeBuffer tapBuffer(int header) {
        return new UnsafeBuffer(ByteBuffer.allocateDirect(header + MAX_FRAME));
    }

    /**
     * Starts the TX thread: it sets its nice value ({@code priority=}), reports, then runs {@link #txLoop()}.
     * Returns once the priority is applied.
     *
     * @throws IOException if the priority could not be set (the thread has then ended)
     */
    final void startTxThread() throws IOException {
        txThread = new Thread(this::txMain, "vnet-peer-" + tap.name() + "-tx");
        txThread.setDaemon(true);
        txThread.start();
        try {
            if (!started.await(10, TimeUnit.SECONDS)) {
                throw new IOException("host peer " + tap.name() + ": the TX thread did not start");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting host peer " + tap.name(), e);
        }
        Throwable failure = startFailure;
        if (failure != null) {
            throw new IOException("host peer " + tap.name() + ": cannot set the TX thread's priority=" + options.priority()
                    + ": " + failure.getMessage(), failure);
        }
    }

    private void txMain() {
        try {
            txThreadId = Sched.gettid();
            if (options.priority() != null) {
                Sched.setThreadNice(options.priority());
            }
        } catch (LinuxException | RuntimeException e) {
            startFailure = e;
            started.countDown();
            return;
        }
        started.countDown();
        try {
            txLoop();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "host peer " + tap.name() + ": TX thread failed", t);
        }
    }

    /** The TX thread's work, until {@link #close()}. */
    abstract void txLoop() throws Exception;

    /** Whether the virtio side has a running device (a guest connected, or the vnet port reached). */
    abstract boolean isConnected();

    /** The virtio_net_hdr size of the virtio side now, or 0 while not connected (or where no header is seen). */
    abstract int virtioHeaderSize();

    /** The virtio features negotiated with the guest or port now, or 0 while not connected (or where unseen). */
    abstract long virtioFeatures();

    /** The TX thread's kernel thread id (0 before it ran). */
    final int txThreadId() {
        return txThreadId;
    }

    final Thread txThread() {
        return txThread;
    }

    /** Waits for the TX thread to end (after the subclass told it to stop and woke it). */
    final void joinTxThread() {
        Thread t = txThread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.log(Level.WARNING, "host peer {0}: the TX thread did not stop within 5 s", tap.name());
            }
        }
    }

    /**
     * The TAP offloads ({@code TUN_F_*}) for frames going to a virtio side that may receive what {@code csum},
     * {@code tso4}, {@code tso6}, {@code ecn} say (negotiated feature bits of that side). Without a checksum offload
     * there is no segmentation offload either.
     */
    static int tapOffloads(long features, long csum, long tso4, long tso6, long ecn) {
        if ((features & csum) == 0) {
            return 0;
        }
        int f = TapInterface.TUN_F_CSUM;
        if ((features & tso4) != 0) {
            f |= TapInterface.TUN_F_TSO4;
        }
        if ((features & tso6) != 0) {
            f |= TapInterface.TUN_F_TSO6;
        }
        if ((f & (TapInterface.TUN_F_TSO4 | TapInterface.TUN_F_TSO6)) != 0 && (features & ecn) != 0) {
            f |= TapInterface.TUN_F_TSO_ECN;
        }
        return f;
    }

    /** Offloads for a guest's receive queue: what the driver negotiated as GUEST_*. */
    static int guestReceiveOffloads(long features) {
        return tapOffloads(features, Features.GUEST_CSUM, Features.GUEST_TSO4, Features.GUEST_TSO6, Features.GUEST_ECN);
    }

    /** Offloads for a vnet port we drive: what its device accepted as HOST_* (CSUM is the transmit checksum). */
    static int deviceTransmitOffloads(long features) {
        return tapOffloads(features, Features.CSUM, Features.HOST_TSO4, Features.HOST_TSO6, Features.HOST_ECN);
    }

    @Override
    public abstract void close();
}
