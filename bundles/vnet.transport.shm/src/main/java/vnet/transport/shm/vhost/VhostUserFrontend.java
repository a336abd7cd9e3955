package vnet.transport.shm.vhost;

import static vnet.transport.shm.vhost.VhostUserRequest.GET_VRING_BASE;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

import vnet.linux.Epoll;
import vnet.linux.Errno;
import vnet.linux.LinuxException;
import vnet.linux.UnixSocket;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.NetDriver;
import vnet.virtqueue.RingLayout;

/**
 * The driver side of a vhost-user virtio-net device, in Java: what a JVM uses to plug into vnet (or any other
 * vhost-user back-end, such as DPDK's {@code net_vhost}) and send and receive Ethernet frames, as a guest's
 * virtio-net driver would.
 *
 * <p>{@link #connect} (the back-end listens) or {@link #listen} (the back-end connects) opens the socket; then the
 * front-end negotiates features and protocol features, shares its memory (one memfd, or a named shared-memory file,
 * at guest physical address 0 and user address = its mapping) and starts one queue pair (receive queue 0, transmit
 * queue 1), with an eventfd kick and call per queue. {@link #send} kicks only when the device asked for it
 * (EVENT_IDX / NO_NOTIFY); {@link #receive} sleeps on the receive call eventfd (epoll) when nothing is there — no
 * busy polling. {@link #close()} stops the rings, disconnects and frees everything.
 *
 * <p>Threads: {@link #send} may run on one thread while {@link #receive} runs on another; each of them is
 * serialised with itself. {@link #close()} may be called from any thread and wakes both. The rings and buffers are
 * a {@link NetDriver}'s; nothing is allocated per frame.
 *
 * <pre>{@code
 * try (VhostUserFrontend fe = VhostUserFrontend.connect(Path.of("/run/vnet/p0.sock"),
 *         VhostUserFrontend.Options.defaults().withPacked(true))) {
 *     FrameBuffer frame = new FrameBuffer();
 *     fe.send(frame.set(bytes, 0, bytes.length));
 *     if (fe.receive(frame, Duration.ofSeconds(1))) { ... frame.buffer(), frame.length() ... }
 * }
 * }</pre>
 */
public final class VhostUserFrontend implements AutoCloseable {
    private static final Logger LOG = System.getLogger(VhostUserFrontend.class.getName());

    /** Virtio features a front-end asks for unless told otherwise (split rings; packed with {@link Options#withPacked}). */
    public static final long DEFAULT_FEATURES = Features.VERSION_1 | Features.MRG_RXBUF | Features.RING_EVENT_IDX
            | Features.RING_INDIRECT_DESC | Features.ANY_LAYOUT;

    /** Protocol features this front-end uses when the back-end offers them. */
    public static final long PROTOCOL_FEATURES = (1L << VhostUserProtocol.PROTOCOL_F_MQ)
            | (1L << VhostUserProtocol.PROTOCOL_F_REPLY_ACK);

    /** The receive queue's index. */
    static final int RX = 0;
    /** The transmit queue's index. */
    static final int TX = 1;

    /**
     * How a front-end connects and what it asks for. Immutable; start from {@link #defaults()}.
     *
     * @param features         virtio features wanted; what is negotiated is these and what the back-end offers
     * @param requiredFeatures features the back-end must offer, else connecting fails (a subset of {@code features})
     * @param queueSize        size of each virtqueue (a power of 2, 1..32768)
     * @param bufferSize       bytes per receive buffer; without MRG_RXBUF a received frame and its header must fit one
     *                         buffer, with it a frame spans as many as it needs
     * @param maxFrameSize     the largest Ethernet frame {@link #send} takes (each transmit buffer holds one, with
     *                         its header)
     * @param timeout          how long to wait for the back-end: to connect or be connected, for each reply
     * @param sendTimeout      how long {@link #send} waits for the device to free transmit buffers
     * @param memoryFile       a file (e.g. under /dev/shm) to use as guest memory instead of an anonymous memfd, or
     *                         null; it is created or extended as needed and left in place
     */
    public record Options(long features, long requiredFeatures, int queueSize, int bufferSize, int maxFrameSize,
                          Duration timeout, Duration sendTimeout, Path memoryFile) {
        /** Checks the values. */
        public Options {
            if (!RingLayout.isPowerOfTwoSize(queueSize)) {
                throw new IllegalArgumentException("queue size " + queueSize + " is not a power of 2 in 1..32768");
            }
            if (bufferSize < 64 || bufferSize > 65536 + 64 || bufferSize % 16 != 0) {
                throw new IllegalArgumentException("buffer size " + bufferSize + " is not a multiple of 16 in 64..65600");
            }
            if (maxFrameSize < 14 || maxFrameSize > FrameBuffer.DEFAULT_CAPACITY) {
                throw new IllegalArgumentException("largest frame " + maxFrameSize + " is not in 14.." + FrameBuffer.DEFAULT_CAPACITY);
            }
            if ((requiredFeatures & ~features) != 0) {
                throw new IllegalArgumentException("required features " + Features.toString(requiredFeatures & ~features)
                        + " are not among the wanted ones");
            }
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(sendTimeout, "sendTimeout");
        }

        /**
         * {@link #DEFAULT_FEATURES}, queues of 256, receive buffers of 2048 bytes, frames up to 9216 bytes, 10 s timeout,
         * 1 s send timeout, a memfd.
         */
        public static Options defaults() {
            return new Options(DEFAULT_FEATURES, 0, 256, 2048, 9216, Duration.ofSeconds(10), Duration.ofSeconds(1), null);
        }

        /** These options asking for {@code value} as virtio features. */
        public Options withFeatures(long value) {
            return new Options(value, requiredFeatures & value, queueSize, bufferSize, maxFrameSize, timeout, sendTimeout, memoryFile);
        }

        /** These options asking for packed rings (and requiring them) or not. */
        public Options withPacked(boolean packed) {
            return packed
                    ? new Options(features | Features.RING_PACKED, requiredFeatures | Features.RING_PACKED, queueSize,
                            bufferSize, maxFrameSize, timeout, sendTimeout, memoryFile)
                    : withFeatures(features & ~Features.RING_PACKED);
        }

        /** These options requiring {@code value} (added to the wanted features). */
        public Options withRequiredFeatures(long value) {
            return new Options(features | value, value, queueSize, bufferSize, maxFrameSize, timeout, sendTimeout, memoryFile);
        }

        /** These options with another queue size. */
        public Options withQueueSize(int value) {
            return new Options(features, requiredFeatures, value, bufferSize, maxFrameSize, timeout, sendTimeout, memoryFile);
        }

        /** These options with another largest frame to send. */
        public Options withMaxFrameSize(int value) {
            return new Options(features, requiredFeatures, queueSize, bufferSize, value, timeout, sendTimeout, memoryFile);
        }

        /** These options with another receive buffer size. */
        public Options withBufferSize(int value) {
            return new Options(features, requiredFeatures, queueSize, value, maxFrameSize, timeout, sendTimeout, memoryFile);
        }

        /** These options with another connect and reply timeout. */
        public Options withTimeout(Duration value) {
            return new Options(features, requiredFeatures, queueSize, bufferSize, maxFrameSize, value, sendTimeout, memoryFile);
        }

        /** These options with another send timeout. */
        public Options withSendTimeout(Duration value) {
            return new Options(features, requiredFeatures, queueSize, bufferSize, maxFrameSize, timeout, value, memoryFile);
        }

        /** These options with guest memory in the file at {@code value} (null: an anonymous memfd). */
        public Options withMemoryFile(Path value) {
            return new Options(features, requiredFeatures, queueSize, bufferSize, maxFrameSize, timeout, sendTimeout, value);
        }
    }


    // The parts, one concern each: the socket's messages, the set-up sequence (FrontendNegotiation, run once by
    // start), the shared memory with the driver's rings and buffers, and the data path with its eventfds.
    private final Options options;
    private final FrontendChannel channel;
    private final FrontendNegotiation.Negotiated agreed;
    private final FrontendMemory memory;
    private final FrontendDataPath dataPath;
    private final AtomicBoolean closing = new AtomicBoolean();

    private VhostUserFrontend(Options options, FrontendChannel channel, FrontendNegotiation.Negotiated agreed,
            FrontendMemory memory, FrontendDataPath dataPath) {
        this.options = options;
        this.channel = channel;
        this.agreed = agreed;
        this.memory = memory;
        this.dataPath = dataPath;
    }

    /**
     * Connects to a back-end listening at {@code socketPath} (vnet's {@link VhostUserPort#listen}, DPDK
     * {@code net_vhost}), retrying until {@link Options#timeout()} while the socket is missing or refuses, and starts
     * the device.
     *
     * @throws IOException if no back-end answers in time, or it refuses what this front-end needs
     */
    public static VhostUserFrontend connect(Path socketPath, Options options) throws IOException {
        long deadline = System.nanoTime() + options.timeout().toNanos();
        UnixSocket s;
        while (true) {
            try {
                s = UnixSocket.connect(socketPath);
                break;
            } catch (LinuxException e) {
                boolean retry = e.errno() == Errno.ENOENT || e.errno() == Errno.ECONNREFUSED || e.errno() == Errno.EAGAIN;
                if (!retry || System.nanoTime() - deadline > 0) {
                    throw new IOException("cannot connect to vhost-user back-end at " + socketPath + ": " + e.getMessage(), e);
                }
                sleepMillis(20);
            }
        }
        return start(socketPath, s, options);
    }

    /**
     * Listens at {@code socketPath} for one back-end to connect (vnet's {@link VhostUserPort#connect}, DPDK
     * {@code net_vhost} with {@code client=1}; as QEMU does with {@code server=on}), waiting up to
     * {@link Options#timeout()}; stops listening (removing the socket file) once it came, and starts the device.
     */
    public static VhostUserFrontend listen(Path socketPath, Options options) throws IOException {
        UnixSocket s;
        try (UnixSocket listener = UnixSocket.listen(socketPath, 1); Epoll e = Epoll.create(1)) {
            listener.setNonBlocking(true);
            e.add(listener.fd().fd(), Epoll.EPOLLIN, 0);
            long deadline = System.nanoTime() + options.timeout().toNanos();
            while ((s = listener.accept()) == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("no vhost-user back-end connected to " + socketPath + " within " + options.timeout());
                }
                e.epollWait((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
            }
        }
        return start(socketPath, s, options);
    }

    /** Runs the set-up sequence on a connected socket; on any failure frees what it made and closes the socket. */
    private static VhostUserFrontend start(Path socketPath, UnixSocket s, Options options) throws IOException {
        FrontendChannel channel = new FrontendChannel(socketPath, s);
        FrontendMemory memory = null;
        FrontendDataPath dataPath = null;
        try {
            FrontendNegotiation.Negotiated agreed = FrontendNegotiation.negotiate(channel, options);
            memory = FrontendMemory.allocate(options, agreed.features(), agreed.headerSize());
            dataPath = new FrontendDataPath(socketPath, channel.fd(), memory.driver(), options);
            FrontendNegotiation.startQueues(channel, options, agreed, memory, dataPath);
            return new VhostUserFrontend(options, channel, agreed, memory, dataPath);
        } catch (IOException | RuntimeException | Error e) {
            release(channel, dataPath, memory);
            throw e;
        }
    }

    // ---- data path --------------------------------------------------------------------------------------------------

    /**
     * Queues one Ethernet frame, with {@code frame}'s header ({@code num_buffers} sent as 0), for the device, kicking
     * it only if it asked to be kicked. Waits up to {@link Options#sendTimeout()} for the device to return transmit
     * buffers when all are in use, asleep on the transmit call eventfd.
     *
     * @return true if the frame was queued; false if no transmit buffer became free in time (nothing was sent)
     * @throws IOException if the back-end disconnected or this front-end is closed
     * @throws IllegalArgumentException if the frame is longer than {@link Options#maxFrameSize()}
     */
    public boolean send(FrameBuffer frame) throws IOException {
        return dataPath.send(frame);
    }

    /**
     * Queues {@code length} bytes of {@code frame} from {@code offset} as one Ethernet frame with an all-zero header;
     * otherwise as {@link #send(FrameBuffer)}.
     */
    public boolean send(byte[] frame, int offset, int length) throws IOException {
        return dataPath.send(frame, offset, length);
    }

    /**
     * Takes the next received frame into {@code into} (frame bytes and decoded header), waiting up to
     * {@code timeout} for one, asleep on the receive call eventfd. Frames that do not fit {@code into}, or that the
     * device returned malformed, are dropped and counted ({@link #rxDropped()}).
     *
     * @return true if a frame was received; false on timeout
     * @throws IOException if the back-end disconnected or this front-end is closed
     */
    public boolean receive(FrameBuffer into, Duration timeout) throws IOException {
        return dataPath.receive(into, timeout);
    }

    // ---- state and stats ------------------------------------------------------------------------------------------

    /** The socket path of the back-end. */
    public Path socketPath() {
        return channel.socketPath();
    }

    /** The virtio features the back-end offered (GET_FEATURES). */
    public long offeredFeatures() {
        return agreed.offeredFeatures();
    }

    /** The negotiated virtio features (SET_FEATURES), including VHOST_USER_F_PROTOCOL_FEATURES when offered. */
    public long features() {
        return agreed.features();
    }

    /** The negotiated vhost-user protocol features. */
    public long protocolFeatures() {
        return agreed.protocolFeatures();
    }

    /** Queue pairs the back-end supports (GET_QUEUE_NUM; 1 without the MQ protocol feature). This front-end uses one. */
    public int backendQueuePairs() {
        return agreed.backendQueuePairs();
    }

    /** The virtio_net_hdr size in use: 10 (legacy) or 12 bytes. */
    public int headerSize() {
        return agreed.headerSize();
    }

    /** Whether the rings are packed. */
    public boolean isPacked() {
        return (agreed.features() & Features.RING_PACKED) != 0;
    }

    /** Size of the shared guest memory in bytes. */
    public long memorySize() {
        return memory.size();
    }

    /** Frames queued by {@link #send} (read from another thread, a recent value). */
    public long framesSent() {
        return memory.driver().txFrames();
    }

    /** Frames returned by {@link #receive} (read from another thread, a recent value). */
    public long framesReceived() {
        return memory.driver().rxFrames();
    }

    /** Kicks of the transmit queue (fewer than frames sent when the device suppresses them). */
    public long txKicks() {
        return dataPath.txKicks();
    }

    /** Kicks of the receive queue (after refilling, when the device asked). */
    public long rxKicks() {
        return dataPath.rxKicks();
    }

    /** Received frames dropped: larger than the caller's buffer, or malformed by the device. */
    public long rxDropped() {
        return memory.driver().rxErrors();
    }

    /** Whether the front-end is open and the back-end has not been seen to disconnect. */
    public boolean isConnected() {
        return dataPath.isConnected();
    }

    /**
     * Stops both rings (GET_VRING_BASE, so the back-end lets go of the memory), disconnects, and frees the memory,
     * eventfds and epoll instances. Wakes a {@link #send} or {@link #receive} that waits. Idempotent.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        dataPath.wake();
        dataPath.lockAll();
        try {
            if (!dataPath.disconnected()) {
                try {
                    channel.setReceiveTimeout(Math.min(2000, Math.max(1, options.timeout().toMillis())));
                    for (int q = RX; q <= TX; q++) {
                        channel.requestVringState(GET_VRING_BASE, q);
                    }
                } catch (IOException e) {
                    LOG.log(Level.DEBUG, "vhost-user front-end {0}: stopping the rings: {1}", socketPath(), e.getMessage());
                }
            }
            release(channel, dataPath, memory);
        } finally {
            dataPath.unlockAll();
        }
    }

    /** Closes the socket, then the eventfds and epoll sets, then the memory; null parts were never made. */
    private static void release(FrontendChannel channel, FrontendDataPath dataPath, FrontendMemory memory) {
        channel.close();
        closeQuietly(dataPath);
        closeQuietly(memory);
    }

    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                // closing is best effort
            }
        }
    }

    private static void sleepMillis(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while connecting");
        }
    }

    @Override
    public String toString() {
        NetDriver driver = memory.driver();
        return "VhostUserFrontend[" + socketPath() + (isPacked() ? ", packed" : ", split") + ", header " + headerSize()
                + ", sent " + framesSent() + ", received " + framesReceived() + ", tx kicks " + txKicks() + ", rx kicks "
                + rxKicks() + ", free tx buffers " + driver.txFree() + ", rx " + driver.rxQueue() + ", tx "
                + driver.txQueue() + (isConnected() ? "" : ", closed") + "]";
    }
}
