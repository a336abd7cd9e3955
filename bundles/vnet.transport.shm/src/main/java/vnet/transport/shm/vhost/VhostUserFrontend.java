package vnet.transport.shm.vhost;

import static vnet.transport.shm.vhost.VhostUserRequest.GET_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.GET_PROTOCOL_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.GET_QUEUE_NUM;
import static vnet.transport.shm.vhost.VhostUserRequest.GET_VRING_BASE;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_MEM_TABLE;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_OWNER;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_PROTOCOL_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_ADDR;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_BASE;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_CALL;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_ENABLE;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_KICK;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_NUM;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.Epoll;
import vnet.linux.Errno;
import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.linux.Files;
import vnet.linux.LinuxException;
import vnet.linux.Mapping;
import vnet.linux.Memfd;
import vnet.linux.Mman;
import vnet.linux.UnixSocket;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.NetDriver;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DriverQueue;
import vnet.virtqueue.GuestMemory;
import vnet.virtqueue.MemoryRegion;
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

    private static final int RX = 0;
    private static final int TX = 1;
    private static final long TOKEN_CALL = 1;
    private static final long TOKEN_WAKE = 2;
    private static final long TOKEN_SOCKET = 3;
    private static final long PAGE = 4096;
    private static final byte[] NO_BYTES = new byte[0];

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

    private final Path socketPath;
    private final UnixSocket socket;
    private final Options options;
    private final VhostUserMessage message = new VhostUserMessage();
    private final ReentrantLock rxLock = new ReentrantLock();
    private final ReentrantLock txLock = new ReentrantLock();

    private long offeredFeatures;
    private long features;
    private long protocolFeatures;
    private int backendQueuePairs = 1;
    private int headerSize;

    private Fd memoryFd;
    private Mapping mapping;
    private long memorySize;
    private NetDriver driver;
    private final EventFd[] kick = new EventFd[2];
    private final EventFd[] call = new EventFd[2];
    private EventFd wake;
    private Epoll rxEpoll;
    private Epoll txEpoll;
    private final VirtioNetHeader zeroHeader = new VirtioNetHeader();
    private final UnsafeBuffer heapFrame = new UnsafeBuffer(NO_BYTES);

    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;
    private volatile String disconnectReason;
    private volatile long txKicks;
    private volatile long rxKicks;

    private VhostUserFrontend(Path socketPath, UnixSocket socket, Options options) {
        this.socketPath = socketPath;
        this.socket = socket;
        this.options = options;
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

    private static VhostUserFrontend start(Path socketPath, UnixSocket s, Options options) throws IOException {
        VhostUserFrontend f = new VhostUserFrontend(socketPath, s, options);
        try {
            f.negotiate();
            return f;
        } catch (IOException | RuntimeException | Error e) {
            f.release();
            throw e;
        }
    }

    // ---- control plane: negotiation -------------------------------------------------------------------------------

    private void negotiate() throws IOException {
        socket.setReceiveTimeout(Math.max(1, options.timeout().toMillis()));
        socket.setSendTimeout(Math.max(1, options.timeout().toMillis()));

        offeredFeatures = requestU64(GET_FEATURES);
        if ((offeredFeatures & VhostUserProtocol.F_PROTOCOL_FEATURES) != 0) {
            long offeredProtocol = requestU64(GET_PROTOCOL_FEATURES);
            protocolFeatures = offeredProtocol & PROTOCOL_FEATURES;
            sendU64(SET_PROTOCOL_FEATURES, protocolFeatures);
        }
        sendNone(SET_OWNER);
        if (hasProtocolFeature(VhostUserProtocol.PROTOCOL_F_MQ)) {
            long n = requestU64(GET_QUEUE_NUM);
            if (n < 1 || n > 0x8000) {
                throw new VhostUserException("back-end reports " + Long.toUnsignedString(n) + " queue pairs");
            }
            backendQueuePairs = (int) n;
        }

        long missing = options.requiredFeatures() & ~offeredFeatures;
        if (missing != 0) {
            throw new VhostUserException("back-end at " + socketPath + " does not offer required features "
                    + Features.toString(missing) + " (offers " + Features.toString(offeredFeatures) + ")");
        }
        long accepted = Features.negotiate(offeredFeatures, options.features() & ~VhostUserProtocol.F_PROTOCOL_FEATURES);
        if ((accepted & Features.VERSION_1) == 0) {
            accepted &= ~(Features.RING_PACKED); // a VIRTIO 1.x feature
        }
        features = accepted | (offeredFeatures & VhostUserProtocol.F_PROTOCOL_FEATURES);
        headerSize = VirtioNetHeader.headerSize(features);
        sendU64(SET_FEATURES, features);

        allocateMemory();
        sendMemTable();
        for (int q = RX; q <= TX; q++) {
            DriverQueue dq = q == RX ? driver.rxQueue() : driver.txQueue();
            sendVringState(SET_VRING_NUM, q, options.queueSize());
            sendVringState(SET_VRING_BASE, q, dq.availIndex());
            sendVringAddr(q, dq.layout());
            kick[q] = EventFd.create();
            call[q] = EventFd.create();
            sendVringFd(SET_VRING_KICK, q, kick[q]);
            sendVringFd(SET_VRING_CALL, q, call[q]);
        }
        wake = EventFd.create();
        rxEpoll = waitSet(call[RX]);
        txEpoll = waitSet(call[TX]);
        // Receive buffers go in before the rings are enabled, so the device finds them at once.
        driver.postRxBuffers();
        driver.rxQueue().publish();
        driver.rxQueue().disableInterrupts();
        driver.txQueue().disableInterrupts();
        if ((features & VhostUserProtocol.F_PROTOCOL_FEATURES) != 0) {
            for (int q = RX; q <= TX; q++) {
                sendVringState(SET_VRING_ENABLE, q, 1);
            }
        }
        kick[RX].signal();
        rxKicks++;
        socket.setReceiveTimeout(0);
        LOG.log(Level.DEBUG, "vhost-user front-end {0}: running, features {1}, protocol features 0x{2}, {3}-byte header",
                socketPath, Features.toString(features), Long.toHexString(protocolFeatures), headerSize);
    }

    /**
     * Guest memory, from guest physical address 0: receive ring | transmit ring | buffer area (receive buffers, then
     * transmit buffers), all in one memfd (or the configured file). The rings and buffers are {@link NetDriver}'s.
     */
    private void allocateMemory() throws IOException {
        int n = options.queueSize();
        boolean packed = (features & Features.RING_PACKED) != 0;
        boolean mergeable = (features & Features.MRG_RXBUF) != 0;
        boolean indirect = (features & Features.RING_INDIRECT_DESC) != 0;
        // Legacy devices without ANY_LAYOUT want the header in a descriptor of its own.
        boolean splitHeader = (features & (Features.VERSION_1 | Features.ANY_LAYOUT)) == 0;
        // Big receive buffers (no MRG_RXBUF) go in as a chain of two, through an indirect table when negotiated.
        int rxSegments = !mergeable && indirect ? 2 : 1;
        RingLayout rxLayout = packed ? RingLayout.packed(0, n, rxSegments > 1 ? rxSegments : 0)
                : RingLayout.split(0, n, rxSegments > 1 ? rxSegments : 0);
        long txBase = align(rxLayout.end(), 64);
        RingLayout txLayout = packed ? RingLayout.packed(txBase, n) : RingLayout.split(txBase, n);
        long buffers = align(txLayout.end(), PAGE);
        int rxBufferSize = options.bufferSize();
        int txBufferSize = headerSize + options.maxFrameSize();
        memorySize = align(buffers + NetDriver.bufferAreaSize(n, rxBufferSize, n, txBufferSize), PAGE);
        if (memorySize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("guest memory of " + memorySize + " bytes exceeds 2 GiB: use smaller queues or buffers");
        }
        if (options.memoryFile() != null) {
            try (RandomAccessFile f = new RandomAccessFile(options.memoryFile().toFile(), "rw")) {
                if (f.length() < memorySize) {
                    f.setLength(memorySize);
                }
            }
            memoryFd = Files.open(options.memoryFile(), Files.O_RDWR);
        } else {
            memoryFd = Memfd.create("vnet-vhost-user-frontend", memorySize);
        }
        mapping = Mman.mapShared(memoryFd, 0, memorySize);
        GuestMemory memory = GuestMemory.of(MemoryRegion.ofAddress(0, memorySize, mapping.address(), mapping.address()));
        memory.fill(0, memorySize, (byte) 0);
        driver = new NetDriver(DriverQueue.create(memory, rxLayout, features), DriverQueue.create(memory, txLayout, features),
                features, buffers, rxBufferSize, rxSegments, txBufferSize, splitHeader);
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    private Epoll waitSet(EventFd callFd) throws LinuxException {
        Epoll e = Epoll.create(3);
        e.add(callFd.fd().fd(), Epoll.EPOLLIN, TOKEN_CALL);
        e.add(wake.fd().fd(), Epoll.EPOLLIN, TOKEN_WAKE);
        e.add(socket.fd().fd(), Epoll.EPOLLIN | Epoll.EPOLLRDHUP, TOKEN_SOCKET);
        return e;
    }

    private boolean hasProtocolFeature(int bit) {
        return (protocolFeatures & (1L << bit)) != 0;
    }

    private boolean replyAck() {
        return hasProtocolFeature(VhostUserProtocol.PROTOCOL_F_REPLY_ACK);
    }

    private long requestU64(int request) throws IOException {
        message.beginRequest(request, 0, 0);
        transmit(request);
        return receiveU64(request);
    }

    private void sendNone(int request) throws IOException {
        message.beginRequest(request, flagsForSet(), 0);
        transmit(request);
        awaitAck(request);
    }

    private void sendU64(int request, long value) throws IOException {
        // SET_PROTOCOL_FEATURES itself is never acknowledged: REPLY_ACK only holds once it is set.
        message.beginRequest(request, request == SET_PROTOCOL_FEATURES ? 0 : flagsForSet(), 8);
        message.putU64(0, value);
        transmit(request);
        if (request != SET_PROTOCOL_FEATURES) {
            awaitAck(request);
        }
    }

    private void sendVringState(int request, int index, int num) throws IOException {
        message.beginRequest(request, flagsForSet(), 8);
        message.putU32(0, index);
        message.putU32(4, num);
        transmit(request);
        awaitAck(request);
    }

    private void sendVringAddr(int index, RingLayout layout) throws IOException {
        long base = mapping.address();
        message.beginRequest(SET_VRING_ADDR, flagsForSet(), 40);
        message.putU32(0, index);
        message.putU32(4, 0);
        message.putU64(8, base + layout.descTable());
        message.putU64(16, base + layout.deviceArea());
        message.putU64(24, base + layout.driverArea());
        message.putU64(32, 0);
        transmit(SET_VRING_ADDR);
        awaitAck(SET_VRING_ADDR);
    }

    private void sendVringFd(int request, int index, EventFd fd) throws IOException {
        message.beginRequest(request, flagsForSet(), 8);
        message.putU64(0, index);
        transmit(request, fd.fd().fd());
        awaitAck(request);
    }

    private void sendMemTable() throws IOException {
        message.beginRequest(SET_MEM_TABLE, flagsForSet(), 8 + 32);
        message.putU32(0, 1);
        message.putU32(4, 0);
        message.putU64(8, 0);
        message.putU64(16, memorySize);
        message.putU64(24, mapping.address());
        message.putU64(32, 0);
        transmit(SET_MEM_TABLE, memoryFd.fd());
        awaitAck(SET_MEM_TABLE);
    }

    private int flagsForSet() {
        return replyAck() ? VhostUserProtocol.FLAG_NEED_REPLY : 0;
    }

    private void transmit(int request, int... fds) throws IOException {
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(message.length());
        LOG.log(Level.TRACE, "vhost-user front-end {0}: sending {1}", socketPath, VhostUserRequest.nameOf(request));
        try {
            socket.sendFully(bytes, fds);
        } catch (LinuxException e) {
            throw new VhostUserException("cannot send " + VhostUserRequest.nameOf(request) + " to " + socketPath + ": " + e.getMessage());
        }
    }

    private void awaitAck(int request) throws IOException {
        if ((message.flags() & VhostUserProtocol.FLAG_NEED_REPLY) == 0) {
            return;
        }
        long status = receiveU64(request);
        if (status != 0) {
            throw new VhostUserException("back-end at " + socketPath + " refused " + VhostUserRequest.nameOf(request)
                    + " (status " + status + ")");
        }
    }

    /** Receives the reply to {@code request}, a u64. */
    private long receiveU64(int request) throws IOException {
        String name = VhostUserRequest.nameOf(request);
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(VhostUserProtocol.HEADER_SIZE);
        UnixSocket.Received header;
        try {
            header = socket.recvExactly(bytes, 0);
        } catch (LinuxException e) {
            throw new VhostUserException("no reply to " + name + " from " + socketPath + ": " + e.getMessage());
        }
        if (header.eof()) {
            throw new VhostUserException("back-end at " + socketPath + " closed the connection instead of replying to " + name);
        }
        String bad = message.validateHeader();
        if (bad != null) {
            throw new VhostUserException("bad reply to " + name + ": " + bad);
        }
        if (message.request() != request || (message.flags() & VhostUserProtocol.FLAG_REPLY) == 0) {
            throw new VhostUserException("expected the reply to " + name + ", got " + VhostUserRequest.nameOf(message.request())
                    + " with flags 0x" + Integer.toHexString(message.flags()));
        }
        int size = message.size();
        if (size > 0) {
            bytes.limit(VhostUserProtocol.HEADER_SIZE + size);
            if (socket.recvExactly(bytes, 0).eof()) {
                throw new VhostUserException("reply to " + name + " ended before its payload");
            }
        }
        if (size != 8) {
            throw new VhostUserException("reply to " + name + " has " + size + " payload bytes, expected 8");
        }
        return message.u64(0);
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
        txLock.lock();
        try {
            return sendLocked(frame.header(), frame.buffer(), 0, frame.length());
        } finally {
            txLock.unlock();
        }
    }

    /**
     * Queues {@code length} bytes of {@code frame} from {@code offset} as one Ethernet frame with an all-zero header;
     * otherwise as {@link #send(FrameBuffer)}.
     */
    public boolean send(byte[] frame, int offset, int length) throws IOException {
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
        if (length > options.maxFrameSize()) {
            throw new IllegalArgumentException("a frame of " + length + " bytes exceeds the largest frame, "
                    + options.maxFrameSize() + " bytes");
        }
        DriverQueue tx = driver.txQueue();
        long deadline = 0;
        boolean waited = false;
        while (!driver.send(header, src, offset, length)) {
            checkQueue(tx, "transmit");
            if (!waited) {
                deadline = System.nanoTime() + options.sendTimeout().toNanos();
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
            await(txEpoll, call[TX], left);
            tx.disableInterrupts();
        }
        if (driver.kickTx()) {
            kick[TX].signal();
            txKicks++;
        }
        return true;
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
                await(rxEpoll, call[RX], left);
                rx.disableInterrupts();
            }
        } finally {
            rxLock.unlock();
        }
    }

    /** Posts every free receive buffer and kicks if the device asks. Under rxLock (or during setup). */
    private void refillReceiveQueue() throws LinuxException {
        driver.postRxBuffers();
        if (driver.kickRx()) {
            kick[RX].signal();
            rxKicks++;
        }
    }

    private static void checkQueue(DriverQueue q, String which) throws IOException {
        if (q.isBroken()) {
            throw new IOException(which + " queue broken by the device: " + q.brokenReason());
        }
    }

    /** Sleeps on {@code epoll} until the call rings, {@link #close()} wakes us, or the back-end hangs up. */
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

    // ---- state --------------------------------------------------------------------------------------------------

    /** The socket path of the back-end. */
    public Path socketPath() {
        return socketPath;
    }

    /** The virtio features the back-end offered (GET_FEATURES). */
    public long offeredFeatures() {
        return offeredFeatures;
    }

    /** The negotiated virtio features (SET_FEATURES), including VHOST_USER_F_PROTOCOL_FEATURES when offered. */
    public long features() {
        return features;
    }

    /** The negotiated vhost-user protocol features. */
    public long protocolFeatures() {
        return protocolFeatures;
    }

    /** Queue pairs the back-end supports (GET_QUEUE_NUM; 1 without the MQ protocol feature). This front-end uses one. */
    public int backendQueuePairs() {
        return backendQueuePairs;
    }

    /** The virtio_net_hdr size in use: 10 (legacy) or 12 bytes. */
    public int headerSize() {
        return headerSize;
    }

    /** Whether the rings are packed. */
    public boolean isPacked() {
        return (features & Features.RING_PACKED) != 0;
    }

    /** Size of the shared guest memory in bytes. */
    public long memorySize() {
        return memorySize;
    }

    /** Frames queued by {@link #send} (read from another thread, a recent value). */
    public long framesSent() {
        NetDriver d = driver;
        return d == null ? 0 : d.txFrames();
    }

    /** Frames returned by {@link #receive} (read from another thread, a recent value). */
    public long framesReceived() {
        NetDriver d = driver;
        return d == null ? 0 : d.rxFrames();
    }

    /** Kicks of the transmit queue (fewer than frames sent when the device suppresses them). */
    public long txKicks() {
        return txKicks;
    }

    /** Kicks of the receive queue (after refilling, when the device asked). */
    public long rxKicks() {
        return rxKicks;
    }

    /** Received frames dropped: larger than the caller's buffer, or malformed by the device. */
    public long rxDropped() {
        NetDriver d = driver;
        return d == null ? 0 : d.rxErrors();
    }

    /** Whether the front-end is open and the back-end has not been seen to disconnect. */
    public boolean isConnected() {
        return !closed && disconnectReason == null;
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
        closed = true;
        if (wake != null) {
            try {
                wake.signal();
            } catch (LinuxException e) {
                // the waiters also time out
            }
        }
        rxLock.lock();
        txLock.lock();
        try {
            if (disconnectReason == null && driver != null) {
                try {
                    socket.setReceiveTimeout(Math.min(2000, Math.max(1, options.timeout().toMillis())));
                    for (int q = RX; q <= TX; q++) {
                        message.beginRequest(GET_VRING_BASE, 0, 8);
                        message.putU32(0, q);
                        message.putU32(4, 0);
                        transmit(GET_VRING_BASE);
                        receiveVringState(GET_VRING_BASE);
                    }
                } catch (IOException e) {
                    LOG.log(Level.DEBUG, "vhost-user front-end {0}: stopping the rings: {1}", socketPath, e.getMessage());
                }
            }
            release();
        } finally {
            txLock.unlock();
            rxLock.unlock();
        }
    }

    private void receiveVringState(int request) throws IOException {
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(VhostUserProtocol.HEADER_SIZE);
        if (socket.recvExactly(bytes, 0).eof()) {
            throw new VhostUserException("back-end closed the connection");
        }
        if (message.validateHeader() != null || message.request() != request || message.size() != 8) {
            throw new VhostUserException("bad reply to " + VhostUserRequest.nameOf(request));
        }
        bytes.limit(VhostUserProtocol.HEADER_SIZE + 8);
        socket.recvExactly(bytes, 0);
    }

    private void release() {
        closed = true;
        socket.close();
        closeQuietly(rxEpoll);
        closeQuietly(txEpoll);
        for (int q = RX; q <= TX; q++) {
            closeQuietly(kick[q]);
            closeQuietly(call[q]);
        }
        closeQuietly(wake);
        if (mapping != null) {
            mapping.close();
        }
        closeQuietly(memoryFd);
    }

    private static void closeQuietly(AutoCloseable c) {
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
        return "VhostUserFrontend[" + socketPath + (isPacked() ? ", packed" : ", split") + ", header " + headerSize
                + ", sent " + framesSent() + ", received " + framesReceived() + ", tx kicks " + txKicks + ", rx kicks "
                + rxKicks + (driver == null ? "" : ", free tx buffers " + driver.txFree() + ", rx " + driver.rxQueue()
                + ", tx " + driver.txQueue()) + (isConnected() ? "" : ", closed") + "]";
    }
}
