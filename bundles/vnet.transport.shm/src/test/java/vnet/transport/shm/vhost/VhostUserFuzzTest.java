package vnet.transport.shm.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.text.MessageFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.linux.Files;
import vnet.linux.LinuxException;
import vnet.linux.Mapping;
import vnet.linux.Memfd;
import vnet.linux.Mman;
import vnet.linux.UnixSocket;
import vnet.transport.shm.PortSettings;
import vnet.virtio.net.Features;

/**
 * A hostile front-end, over real Unix sockets: thousands of connections, each a random or mutated message sequence
 * (a valid negotiation prefix with mutated fields, then random requests; random flags, sizes, payloads, and random
 * descriptors: memfds of odd sizes, eventfds, the socket itself, /dev/null). The port must only ever refuse cleanly
 * (never an "internal error"), leak no descriptor, keep the JVM alive, leave a bystander port forwarding throughout,
 * and serve a well-behaved front-end afterwards. Seed: {@code -Dvnet.fuzz.seed=N}; connections: {@code
 * -Dvnet.fuzz.connections=N}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VhostUserFuzzTest {
    private static final int CONNECTIONS = Integer.getInteger("vnet.fuzz.connections", 10000);
    private static final long UVA = 0x7f0000000000L;
    private static final int MEM = 64 << 10;
    private static final long[] INTERESTING = {0, 1, 2, 7, 8, 0xff, 0x100, 0x101, 0x1ff, 0xfff, 0x1000, 0x1001, 0xffff,
        0x10000, 0x7fffffffL, 0x80000000L, 0xffffffffL, 0x100000000L, MEM, MEM - 1, MEM + 1, UVA, UVA + MEM - 1, UVA + MEM,
        Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, -0x1000, 1L << 40, 1L << 47, 1L << 62, Long.MAX_VALUE - 0xfff};

    @TempDir
    Path dir;

    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> closeReasons = new ConcurrentLinkedQueue<>();

    /** Records "internal error", anything logged with an exception or at SEVERE, and the fuzzed port's close reasons. */
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            String msg = r.getParameters() == null ? r.getMessage() : MessageFormat.format(r.getMessage(), r.getParameters());
            if (msg.startsWith("vhost-user fuzz: connection closed: ")) {
                closeReasons.add(msg.substring("vhost-user fuzz: connection closed: ".length()));
            }
            if (msg.contains("internal error") || r.getThrown() != null || r.getLevel() == Level.SEVERE) {
                problems.add(r.getLoggerName() + ": " + msg + (r.getThrown() != null ? " " + r.getThrown() : ""));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @Test
    void hostileFrontendsCannotHurtThePortOrItsNeighbours() throws Exception {
        long seed = Long.getLong("vnet.fuzz.seed", System.nanoTime());
        String replay = "seed " + seed + " (replay with -Dvnet.fuzz.seed=" + seed + ")";
        System.out.println("VhostUserFuzzTest: " + replay);
        List<Logger> loggers = List.of(Logger.getLogger("vnet.transport.shm"), Logger.getLogger(LoopbackDataPath.class.getName()));
        loggers.forEach(l -> l.addHandler(capture));
        Thread.UncaughtExceptionHandler oldHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> problems.add("uncaught in " + t.getName() + ": " + e));
        Path bySock = dir.resolve("bystander.sock");
        Path sock = dir.resolve("fuzz.sock");
        PortSettings settings = PortSettings.defaults().withDsMax(4).withMaxQueuePairs(2);
        long t0 = System.nanoTime();
        try (VhostUserPort bystander = VhostUserPort.listen("bystander", bySock, PortSettings.defaults());
                LoopbackDataPath bystanderLoop = new LoopbackDataPath(bystander);
                VhostUserFrontend byFe = VhostUserFrontend.connect(bySock, VhostUserFrontend.Options.defaults());
                VhostUserPort port = VhostUserPort.listen("fuzz", sock, settings);
                LoopbackDataPath loop = new LoopbackDataPath(port)) {
            // Warm up (classes, JNA, thread-locals) before counting descriptors.
            goodFrontend(port, sock, 1);
            for (int i = 0; i < 20; i++) {
                fuzzOne(sock, new Random(i));
            }
            awaitIdle(port, port.connections());
            int fdsBefore = openFds();
            List<String> fdListBefore = fdTargets();

            // The bystander forwards throughout.
            AtomicReference<Throwable> bystanderFailure = new AtomicReference<>();
            Thread byThread = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        TestFrames.exchange(byFe, 50, 8, seq -> 60 + seq * 29 % 1400, f -> f);
                    }
                } catch (Throwable e) {
                    bystanderFailure.set(e);
                }
            }, "fuzz-bystander");
            byThread.start();

            int base = port.connections();
            for (int i = 0; i < CONNECTIONS; i++) {
                long connectionSeed = seed * 1_000_003L + i;
                try {
                    fuzzOne(sock, new Random(connectionSeed));
                } catch (Exception | AssertionError e) {
                    throw new AssertionError("connection " + i + " (" + replay + ", connection seed " + connectionSeed + ")", e);
                }
                if (!problems.isEmpty()) {
                    awaitIdle(port, base + i + 1);
                    fail("connection " + i + " (" + replay + ", connection seed " + connectionSeed + "): " + List.copyOf(problems));
                }
            }
            awaitIdle(port, base + CONNECTIONS);
            long fuzzMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            byThread.interrupt();
            byThread.join(15_000);
            if (bystanderFailure.get() != null) {
                throw new AssertionError("bystander stopped forwarding (" + replay + ")", bystanderFailure.get());
            }
            TestFrames.exchange(byFe, 100, 8, seq -> 60 + seq, f -> f);
            assertEquals(1, bystander.connections(), "the bystander's front-end stayed connected");

            // The fuzzed port serves a good front-end afterwards.
            goodFrontend(port, sock, 2);
            awaitIdle(port, base + CONNECTIONS + 2);

            assertTrue(problems.isEmpty(), () -> replay + ": " + List.copyOf(problems));
            assertTrue(closeReasons.stream().noneMatch(r -> r.startsWith("internal error")), replay);
            int fdsAfter = openFds();
            System.out.printf("VhostUserFuzzTest: %d connections in %d ms; fds %d before, %d after; %d distinct reasons%n",
                    CONNECTIONS, fuzzMs, fdsBefore, fdsAfter,
                    closeReasons.stream().map(r -> r.replaceAll("[0-9]+", "N")).distinct().count());
            assertTrue(fdsAfter <= fdsBefore + 4, () -> "descriptor leak: " + fdsBefore + " before, " + fdsAfter + " after ("
                    + replay + "); before " + fdListBefore + ", after " + fdTargets());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(oldHandler);
            loggers.forEach(l -> l.removeHandler(capture));
        }
    }

    private static void goodFrontend(VhostUserPort port, Path sock, int rounds) throws IOException, InterruptedException {
        for (int i = 0; i < rounds; i++) {
            try (VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults().withPacked(i % 2 == 1))) {
                TestFrames.exchange(fe, 100, 8, seq -> 60 + seq * 13, f -> f);
            }
        }
    }

    private static void awaitIdle(VhostUserPort port, int connections) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((port.connections() < connections || port.isConnected()) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertTrue(port.connections() >= connections && !port.isConnected(),
                () -> "port idle after " + connections + " connections: " + port.connections() + ", " + port.isConnected());
        Thread.sleep(2); // lastCloseReason and the log come right after
    }

    private static List<String> fdTargets() {
        List<String> l = new ArrayList<>();
        String[] names = new File("/proc/self/fd").list();
        for (String n : names == null ? new String[0] : names) {
            try {
                l.add(n + "->" + java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/fd", n)));
            } catch (IOException e) {
                // closed meanwhile
            }
        }
        java.util.Collections.sort(l);
        return l;
    }

    private static int openFds() {
        String[] names = new File("/proc/self/fd").list();
        return names == null ? -1 : names.length;
    }

    // ---- one hostile connection ---------------------------------------------------------------------------------

    /** One connection: maybe a (mutated) valid setup, then random messages, then a hang-up; drains replies. */
    private void fuzzOne(Path sock, Random r) throws IOException {
        try (Conn c = new Conn(UnixSocket.connect(sock), r)) {
            c.socket.setReceiveTimeout(10_000);
            c.socket.setSendTimeout(10_000);
            try {
                if (r.nextInt(3) != 0) {
                    c.setup();
                }
                int n = r.nextInt(12);
                for (int i = 0; i < n && c.alive; i++) {
                    c.randomMessage();
                    if (r.nextInt(4) == 0) {
                        c.scribble();
                    }
                }
                if (r.nextInt(10) == 0 && c.alive) {
                    c.truncated();
                }
            } catch (IOException e) {
                // the back-end hung up on us: fine
            }
            c.hangUpAndDrain();
        }
    }

    /** A hostile front-end's connection and the descriptors it created. */
    private static final class Conn implements AutoCloseable {
        final UnixSocket socket;
        final Random r;
        final List<AutoCloseable> owned = new ArrayList<>();
        final List<EventFd> kicks = new ArrayList<>();
        Mapping memory;
        boolean alive = true;
        boolean packed;

        Conn(UnixSocket socket, Random r) {
            this.socket = socket;
            this.r = r;
        }

        /** A valid negotiation and ring setup; each message may have one field mutated. */
        void setup() throws IOException {
            long offered = PortSettings.defaults().features() | VhostUserProtocol.F_PROTOCOL_FEATURES;
            long features = offered & (r.nextBoolean() ? -1L : r.nextLong()) | Features.VERSION_1;
            features &= offered | (r.nextInt(20) == 0 ? r.nextLong() : 0);
            packed = (features & Features.RING_PACKED) != 0;
            send(VhostUserRequest.GET_FEATURES, flags(), new byte[0]);
            send(VhostUserRequest.SET_FEATURES, flags(), mutate(le(8).putLong(features)));
            if ((features & VhostUserProtocol.F_PROTOCOL_FEATURES) != 0) {
                send(VhostUserRequest.GET_PROTOCOL_FEATURES, flags(), new byte[0]);
                long pf = VhostUserBackend.PROTOCOL_FEATURES & (r.nextInt(3) == 0 ? r.nextLong() : -1L);
                send(VhostUserRequest.SET_PROTOCOL_FEATURES, flags(), mutate(le(8).putLong(pf)));
            }
            send(VhostUserRequest.SET_OWNER, flags(), new byte[0]);
            // Memory: usually as large as announced, sometimes smaller (the mapping would reach past the file's end).
            long fileSize = r.nextInt(8) == 0 ? pick(new long[] {0, 1, 4096, MEM / 2, MEM - 1}) : MEM;
            Fd mem = memfd(fileSize);
            if (fileSize >= MEM) {
                memory = Mman.mapShared(mem, 0, MEM);
                owned.add(0, memory);
                scribble();
            }
            ByteBuffer table = le(8 + 32).putInt(1).putInt(0).putLong(0).putLong(MEM).putLong(UVA).putLong(0);
            sendFds(VhostUserRequest.SET_MEM_TABLE, flags(), mutate(table), mem.fd());
            int rings = 2 + 2 * r.nextInt(2);
            for (int v = 0; v < rings && alive; v++) {
                int num = 1 << r.nextInt(9);
                long ring = UVA + v * 16384L;
                send(VhostUserRequest.SET_VRING_NUM, flags(), mutate(le(8).putInt(v).putInt(num)));
                send(VhostUserRequest.SET_VRING_ADDR, flags(),
                        mutate(le(40).putInt(v).putInt(0).putLong(ring).putLong(ring + 8192).putLong(ring + 4096).putLong(0)));
                send(VhostUserRequest.SET_VRING_BASE, flags(), mutate(le(8).putInt(v).putInt(r.nextInt(4) == 0 ? r.nextInt(num) : 0)));
                EventFd call = EventFd.create();
                owned.add(call);
                sendFds(VhostUserRequest.SET_VRING_CALL, flags(), mutate(le(8).putLong(v)), call.fd().fd());
                if (r.nextInt(8) == 0) {
                    send(VhostUserRequest.SET_VRING_KICK, flags(), mutate(le(8).putLong(v | VhostUserProtocol.VRING_NOFD_MASK)));
                } else {
                    EventFd kick = EventFd.create();
                    owned.add(kick);
                    kicks.add(kick);
                    sendFds(VhostUserRequest.SET_VRING_KICK, flags(), mutate(le(8).putLong(v)), kick.fd().fd());
                }
                send(VhostUserRequest.SET_VRING_ENABLE, flags(), mutate(le(8).putInt(v).putInt(1)));
            }
            kickAll();
        }

        /** One random message: a known request with a plausible but hostile payload, or plain noise. */
        void randomMessage() throws IOException {
            int request = r.nextInt(5) == 0 ? (r.nextInt(4) == 0 ? r.nextInt() : r.nextInt(46)) : pick(new int[] {
                VhostUserRequest.SET_MEM_TABLE, VhostUserRequest.SET_VRING_ADDR, VhostUserRequest.SET_VRING_NUM,
                VhostUserRequest.SET_VRING_BASE, VhostUserRequest.GET_VRING_BASE, VhostUserRequest.SET_VRING_KICK,
                VhostUserRequest.SET_VRING_CALL, VhostUserRequest.SET_VRING_ERR, VhostUserRequest.SET_VRING_ENABLE,
                VhostUserRequest.ADD_MEM_REG, VhostUserRequest.REM_MEM_REG, VhostUserRequest.GET_CONFIG,
                VhostUserRequest.SET_CONFIG, VhostUserRequest.SET_FEATURES, VhostUserRequest.SET_PROTOCOL_FEATURES,
                VhostUserRequest.RESET_DEVICE, VhostUserRequest.RESET_OWNER, VhostUserRequest.SET_STATUS,
                VhostUserRequest.GET_STATUS, VhostUserRequest.NET_SET_MTU, VhostUserRequest.GET_QUEUE_NUM});
            byte[] payload;
            switch (request) {
                case VhostUserRequest.SET_MEM_TABLE: {
                    int regions = r.nextInt(5) == 0 ? r.nextInt(12) : 1 + r.nextInt(3);
                    ByteBuffer b = le(8 + 32 * Math.min(regions, 9)).putInt(regions).putInt(r.nextInt(3) == 0 ? r.nextInt() : 0);
                    long gpa = 0;
                    for (int i = 0; i < Math.min(regions, 9); i++) {
                        long size = r.nextBoolean() ? MEM : value();
                        b.putLong(r.nextBoolean() ? gpa : value()).putLong(size).putLong(r.nextBoolean() ? UVA + gpa : value())
                                .putLong(r.nextInt(3) == 0 ? value() : 0);
                        gpa += MEM;
                    }
                    payload = b.array();
                    break;
                }
                case VhostUserRequest.ADD_MEM_REG:
                case VhostUserRequest.REM_MEM_REG:
                    payload = le(40).putLong(r.nextInt(3) == 0 ? value() : 0).putLong(r.nextBoolean() ? 0 : value())
                            .putLong(r.nextBoolean() ? MEM : value()).putLong(r.nextBoolean() ? UVA : value())
                            .putLong(r.nextBoolean() ? 0 : value()).array();
                    break;
                case VhostUserRequest.SET_VRING_ADDR: {
                    int v = ring();
                    long ring = UVA + v * 16384L;
                    payload = le(40).putInt(v).putInt(r.nextInt(4) == 0 ? r.nextInt() : 0)
                            .putLong(r.nextBoolean() ? ring : value()).putLong(r.nextBoolean() ? ring + 8192 : value())
                            .putLong(r.nextBoolean() ? ring + 4096 : value()).putLong(value()).array();
                    break;
                }
                case VhostUserRequest.SET_VRING_NUM: case VhostUserRequest.SET_VRING_BASE:
                case VhostUserRequest.GET_VRING_BASE: case VhostUserRequest.SET_VRING_ENABLE:
                case VhostUserRequest.SET_VRING_ENDIAN: case VhostUserRequest.VRING_KICK:
                    payload = le(8).putInt(ring()).putInt(r.nextBoolean() ? 1 << r.nextInt(10) : (int) value()).array();
                    break;
                case VhostUserRequest.SET_VRING_KICK: case VhostUserRequest.SET_VRING_CALL: case VhostUserRequest.SET_VRING_ERR:
                    payload = le(8).putLong(ring() | (r.nextInt(3) == 0 ? VhostUserProtocol.VRING_NOFD_MASK : 0)
                            | (r.nextInt(8) == 0 ? value() : 0)).array();
                    break;
                case VhostUserRequest.GET_CONFIG: case VhostUserRequest.SET_CONFIG: {
                    int size = r.nextBoolean() ? r.nextInt(64) : r.nextInt(4090);
                    ByteBuffer b = le(12 + size).putInt(r.nextBoolean() ? r.nextInt(32) : (int) value())
                            .putInt(r.nextInt(8) == 0 ? (int) value() : size).putInt(r.nextInt());
                    payload = b.array();
                    break;
                }
                default:
                    payload = le(8).putLong(r.nextBoolean() ? value() : r.nextLong()).array();
            }
            if (r.nextInt(6) == 0) {
                payload = noise(payload);
            }
            int[] fds = randomFds(request);
            if (r.nextInt(25) == 0) {
                // A header that announces more (or other) than comes; then hang up.
                sendRaw(request, flags(), r.nextBoolean() ? payload.length + 1 + r.nextInt(100) : r.nextInt(), payload, fds);
                alive = false;
            } else {
                sendRaw(request, flags(), payload.length, payload, fds);
            }
            if (r.nextInt(3) == 0) {
                kickAll();
            }
        }

        /** A message cut short: a partial header or payload, then end of file. */
        void truncated() throws IOException {
            byte[] header = le(12).putInt(r.nextInt(46)).putInt(1).putInt(8 + r.nextInt(64)).array();
            socket.sendFully(java.util.Arrays.copyOf(header, r.nextBoolean() ? 1 + r.nextInt(11) : 12 + r.nextInt(4)));
            alive = false;
        }

        /** Random writes into the shared memory while the device may be reading it. */
        void scribble() {
            if (memory == null) {
                return;
            }
            ByteBuffer m = memory.byteBuffer(0, MEM);
            int n = 1 + r.nextInt(64);
            for (int i = 0; i < n; i++) {
                int at = r.nextInt(MEM - 8);
                m.putLong(at, r.nextInt(4) == 0 ? r.nextLong() : r.nextInt(300));
            }
        }

        private void kickAll() {
            for (EventFd k : kicks) {
                try {
                    k.signal();
                } catch (LinuxException e) {
                    // closed: fine
                }
            }
        }

        private int[] randomFds(int request) throws IOException {
            int n;
            int roll = r.nextInt(10);
            if (roll < 4) {
                n = 0;
            } else if (roll < 8) {
                n = 1;
            } else {
                n = r.nextInt(11); // up to 10: more than the 8 a message may carry
            }
            int[] fds = new int[n];
            for (int i = 0; i < n; i++) {
                switch (r.nextInt(5)) {
                    case 0:
                        fds[i] = memfd(pick(new long[] {0, 1, 100, 4096, MEM, 1 << 20})).fd();
                        break;
                    case 1: {
                        EventFd e = EventFd.create();
                        owned.add(e);
                        fds[i] = e.fd().fd();
                        break;
                    }
                    case 2:
                        fds[i] = socket.fd().fd();
                        break;
                    case 3: {
                        Fd f = Files.open("/dev/null", Files.O_RDWR);
                        owned.add(f);
                        fds[i] = f.fd();
                        break;
                    }
                    default: {
                        Fd f = Files.open("/dev/zero", Files.O_RDWR);
                        owned.add(f);
                        fds[i] = f.fd();
                    }
                }
            }
            return fds;
        }

        private Fd memfd(long size) throws LinuxException {
            Fd f = Memfd.create("fuzz", size);
            owned.add(f);
            return f;
        }

        private int ring() {
            return r.nextInt(6) == 0 ? (int) value() & (r.nextBoolean() ? 0xff : -1) : r.nextInt(5);
        }

        private long value() {
            switch (r.nextInt(4)) {
                case 0: return r.nextLong();
                case 1: return r.nextInt(1 << 20);
                default: return INTERESTING[r.nextInt(INTERESTING.length)] + (r.nextInt(4) == 0 ? r.nextInt(17) - 8 : 0);
            }
        }

        private int flags() {
            int roll = r.nextInt(20);
            if (roll == 0) {
                return r.nextInt();
            }
            if (roll == 1) {
                return r.nextInt(4); // maybe another version
            }
            return VhostUserProtocol.VERSION | (r.nextBoolean() ? VhostUserProtocol.FLAG_NEED_REPLY : 0)
                    | (r.nextInt(10) == 0 ? VhostUserProtocol.FLAG_REPLY : 0);
        }

        /** With a small chance, one random field (u32 or u64) of the payload replaced. */
        private byte[] mutate(ByteBuffer b) {
            byte[] p = b.array();
            if (r.nextInt(8) == 0 && p.length >= 4) {
                ByteBuffer m = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
                if (r.nextBoolean() && p.length >= 8) {
                    m.putLong(8 * r.nextInt(p.length / 8), value());
                } else {
                    m.putInt(4 * r.nextInt(p.length / 4), (int) value());
                }
            }
            return p;
        }

        private byte[] noise(byte[] p) {
            byte[] q = java.util.Arrays.copyOf(p, r.nextInt(4) == 0 ? r.nextInt(200) : p.length);
            for (int i = 0, n = 1 + r.nextInt(4); i < n && q.length > 0; i++) {
                q[r.nextInt(q.length)] = (byte) r.nextInt();
            }
            return q;
        }

        private void send(int request, int flags, byte[] payload) throws IOException {
            sendFds(request, flags, payload);
        }

        private void sendFds(int request, int flags, byte[] payload, int... fds) throws IOException {
            if (!alive) {
                return;
            }
            if (r.nextInt(40) == 0) {
                fds = randomFds(request); // the wrong descriptors
            }
            sendRaw(request, flags, payload.length, payload, fds);
        }

        private void sendRaw(int request, int flags, int size, byte[] payload, int[] fds) throws IOException {
            ByteBuffer b = le(12 + payload.length).putInt(request).putInt(flags).putInt(size).put(payload).flip();
            socket.sendFully(b, fds);
        }

        /** Ends our sending side and reads (and drops) replies until the back-end closes. */
        void hangUpAndDrain() throws IOException {
            try {
                socket.shutdown(UnixSocket.SHUT_WR);
            } catch (IOException e) {
                // already reset
            }
            ByteBuffer b = ByteBuffer.allocate(8192);
            while (true) {
                b.clear();
                UnixSocket.Received got;
                try {
                    got = socket.recv(b, 8);
                } catch (IOException e) {
                    if (e.getMessage() != null && (e.getMessage().contains("ECONNRESET") || e.getMessage().contains("MSG_CTRUNC"))) {
                        return;
                    }
                    throw e;
                }
                for (int fd : got.fds()) {
                    Fd.adopt(fd).close();
                }
                if (got.eof()) {
                    return;
                }
            }
        }

        @Override
        public void close() {
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception e) {
                    // best effort
                }
            }
            socket.close();
        }

        private <T> T pick(T[] values) {
            return values[r.nextInt(values.length)];
        }

        private int pick(int[] values) {
            return values[r.nextInt(values.length)];
        }

        private long pick(long[] values) {
            return values[r.nextInt(values.length)];
        }
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
