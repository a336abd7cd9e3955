package vnet.transport.shm.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.MessageFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import vnet.linux.Fd;
import vnet.linux.Memfd;
import vnet.linux.UnixSocket;
import vnet.transport.shm.FileIdentity;
import vnet.transport.shm.PortSettings;
import vnet.virtio.net.Features;

/**
 * Hostile or broken front-ends: each bad message ends only its own connection, with a clear reason that is logged
 * and kept in {@link VhostUserPort#lastCloseReason()}. A bystander port keeps forwarding meanwhile, and the victim
 * port serves a well-behaved front-end right afterwards.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BadMessagesTest {
    private static final ConcurrentLinkedQueue<String> LOGGED = new ConcurrentLinkedQueue<>();
    private static final Logger CONNECTION_LOG = Logger.getLogger(VhostUserConnection.class.getName());
    private static final Handler CAPTURE = new Handler() {
        @Override
        public void publish(LogRecord r) {
            LOGGED.add(r.getParameters() == null ? r.getMessage() : MessageFormat.format(r.getMessage(), r.getParameters()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @TempDir
    static Path shared;
    @TempDir
    Path dir;

    private static VhostUserPort bystander;
    private static LoopbackDataPath bystanderLoop;
    private static VhostUserFrontend bystanderFrontend;

    private VhostUserPort victim;
    private LoopbackDataPath victimLoop;

    @BeforeAll
    static void bystander() throws IOException {
        CONNECTION_LOG.addHandler(CAPTURE);
        Path sock = shared.resolve("bystander.sock");
        bystander = VhostUserPort.listen("bystander", sock, PortSettings.defaults());
        bystanderLoop = new LoopbackDataPath(bystander);
        bystanderFrontend = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults());
    }

    @AfterAll
    static void closeBystander() {
        if (bystanderFrontend != null) {
            bystanderFrontend.close();
        }
        if (bystander != null) {
            bystander.close();
        }
        if (bystanderLoop != null) {
            bystanderLoop.close();
        }
        CONNECTION_LOG.removeHandler(CAPTURE);
    }

    @AfterEach
    void closeVictim() {
        if (victim != null) {
            victim.close();
        }
        if (victimLoop != null) {
            victimLoop.close();
        }
    }

    @Test
    void unknownRequestCode() throws Exception {
        expectRefused(PortSettings.defaults(), c -> c.send(99, 1, new byte[0]), "unknown request 99");
    }

    @Test
    void wrongVersionBits() throws Exception {
        expectRefused(PortSettings.defaults(), c -> c.send(VhostUserRequest.GET_FEATURES, 0x2, new byte[0]),
                "unsupported protocol version 2 in VHOST_USER_GET_FEATURES");
    }

    @Test
    void payloadLargerThan4096() throws Exception {
        expectRefused(PortSettings.defaults(), c -> c.sendHeader(VhostUserRequest.SET_MEM_TABLE, 1, 5000),
                "VHOST_USER_SET_MEM_TABLE announces a payload of 5000 bytes (at most 4096)");
    }

    @Test
    void memTableWithMoreRegionsThanDsMax() throws Exception {
        expectRefused(PortSettings.defaults().withDsMax(1), c -> {
            try (Fd a = Memfd.create("a", 1 << 20); Fd b = Memfd.create("b", 1 << 20)) {
                c.send(VhostUserRequest.SET_MEM_TABLE, 1, memTable(2), a.fd(), b.fd());
            }
        }, "SET_MEM_TABLE with 2 regions exceeds ds-max=1");
    }

    @Test
    void regionThatIsNotATrustedDataspaceAndOneThatIs() throws Exception {
        Path trusted = Files.createTempFile(Path.of("/dev/shm"), "vnet-trusted-", ".mem");
        try {
            PortSettings settings = PortSettings.defaults().withTrusted(Set.of(FileIdentity.of(trusted)));
            String reason = expectRefused(settings, c -> {
                try (Fd a = Memfd.create("untrusted", 1 << 20)) {
                    c.send(VhostUserRequest.SET_MEM_TABLE, 1, memTable(1), a.fd());
                }
            }, "is not one of the trusted dataspaces");
            assertTrue(reason.startsWith("dataspace refused: dataspace dev="), reason);
            // The Java front-end with its default memfd is refused the same way...
            IOException e = assertThrows(IOException.class,
                    () -> VhostUserFrontend.connect(victim.socketPath(), VhostUserFrontend.Options.defaults()).close());
            assertTrue(e.getMessage().contains("closed the connection"), e.getMessage());
            awaitReason(victim, 2, "is not one of the trusted dataspaces");
            // ...and accepted with the trusted file as its memory.
            try (VhostUserFrontend fe = VhostUserFrontend.connect(victim.socketPath(),
                    VhostUserFrontend.Options.defaults().withMemoryFile(trusted))) {
                TestFrames.exchange(fe, 50, 8, seq -> 60 + seq * 20, f -> f);
            }
        } finally {
            Files.deleteIfExists(trusted);
        }
    }

    @Test
    void vringNumNotAPowerOf2() throws Exception {
        expectRefused(PortSettings.defaults(), c -> c.send(VhostUserRequest.SET_VRING_NUM, 1, vringState(0, 100)),
                "SET_VRING_NUM 100 for vring 0: the queue size must be a power of 2 in 1..256");
    }

    @Test
    void vringNumAboveThePortsMaximum() throws Exception {
        expectRefused(PortSettings.defaults().withMaxQueueSize(128),
                c -> c.send(VhostUserRequest.SET_VRING_NUM, 1, vringState(1, 256)),
                "SET_VRING_NUM 256 for vring 1: the queue size must be a power of 2 in 1..128");
    }

    @Test
    void vringIndexOutOfRange() throws Exception {
        expectRefused(PortSettings.defaults(), c -> c.send(VhostUserRequest.SET_VRING_NUM, 1, vringState(7, 256)),
                "VHOST_USER_SET_VRING_NUM names vring 7; this port has 2 (1 queue pairs)");
    }

    @Test
    void setFeaturesWithBitsNotOffered() throws Exception {
        expectRefused(PortSettings.defaults(),
                c -> c.send(VhostUserRequest.SET_FEATURES, 1, u64(Features.VERSION_1 | Features.GUEST_RSC4)),
                "SET_FEATURES 0x20100000000 asks for features not offered (0x20000000000)");
    }

    @Test
    void truncatedPayloadThenEof() throws Exception {
        expectRefused(PortSettings.defaults(), c -> {
            c.sendHeader(VhostUserRequest.SET_FEATURES, 1, 8);
            c.socket.sendFully(new byte[3]);
            c.socket.shutdown(UnixSocket.SHUT_WR);
        }, "truncated message: recvmsg: connection closed after 3 of 8 bytes of a message");
    }

    @Test
    void truncatedHeaderThenEof() throws Exception {
        expectRefused(PortSettings.defaults(), c -> {
            c.socket.sendFully(new byte[] {1, 0, 0, 0, 1});
            c.socket.shutdown(UnixSocket.SHUT_WR);
        }, "truncated message: recvmsg: connection closed after 5 of 12 bytes of a message");
    }

    // ---- regressions found by VhostUserFuzzTest -------------------------------------------------------------------

    @Test
    void regionWithGuestAddressNear2To64() throws Exception {
        // Passed the old wrap check, then MemoryRegion threw IllegalArgumentException: "internal error".
        expectRefused(PortSettings.defaults(), c -> {
            try (Fd a = Memfd.create("a", 1 << 16)) {
                c.send(VhostUserRequest.SET_FEATURES, 1, u64(Features.VERSION_1));
                c.send(VhostUserRequest.SET_MEM_TABLE, 1, region(0xf9c928f900000000L, 1 << 16, 0x7f0000000000L, 0), a.fd());
            }
        }, "dataspace refused: malformed region gpa=0xf9c928f900000000");
    }

    @Test
    void regionReachingPastTheEndOfItsFile() throws Exception {
        // Mapped fine, but the first access past the file's end is a SIGBUS.
        expectRefused(PortSettings.defaults(), c -> {
            try (Fd a = Memfd.create("small", 4096)) {
                c.send(VhostUserRequest.SET_MEM_TABLE, 1, region(0, 1 << 16, 0x7f0000000000L, 0), a.fd());
            }
        }, "dataspace refused: region offset=0x0 size=0x10000 reaches past the end of its file (0x1000 bytes)");
    }

    @Test
    void regionBackedByADevice() throws Exception {
        expectRefused(PortSettings.defaults(), c -> {
            try (Fd a = vnet.linux.Files.open("/dev/zero", vnet.linux.Files.O_RDWR)) {
                c.send(VhostUserRequest.SET_MEM_TABLE, 1, region(0, 1 << 16, 0x7f0000000000L, 0), a.fd());
            }
        }, "dataspace refused: dataspace file is not a regular file");
    }

    @Test
    void kickThatIsNotAnEventfd() throws Exception {
        // Was accepted; the data path's epoll_ctl(ADD) then failed with EPERM and its worker died.
        expectRefused(PortSettings.defaults(), c -> {
            try (Fd a = Memfd.create("not-an-eventfd", 4096)) {
                c.send(VhostUserRequest.SET_VRING_KICK, 1, u64(0), a.fd());
            }
        }, "SET_VRING_KICK: not an eventfd: /memfd:not-an-eventfd");
    }

    @Test
    void payloadCutShortDoesNotLeakTheHeadersDescriptors() throws Exception {
        int before = openFds();
        for (int i = 0; i < 20; i++) {
            expectRefused(PortSettings.defaults(), c -> {
                try (Fd a = Memfd.create("leak", 4096)) {
                    ByteBuffer b = ByteBuffer.allocate(12 + 4).order(ByteOrder.LITTLE_ENDIAN);
                    b.putInt(VhostUserRequest.SET_MEM_TABLE).putInt(1).putInt(40).putInt(1).flip();
                    c.socket.sendFully(b, a.fd());
                    c.socket.shutdown(UnixSocket.SHUT_WR);
                }
            }, "truncated message");
            closeVictim();
            victim = null;
            victimLoop = null;
        }
        int after = openFds();
        assertTrue(after < before + 10, "descriptors before " + before + ", after " + after);
    }

    private static int openFds() {
        String[] names = new java.io.File("/proc/self/fd").list();
        return names == null ? -1 : names.length;
    }

    /** A one-region memory table. */
    private static byte[] region(long gpa, long size, long uva, long offset) {
        return ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(0)
                .putLong(gpa).putLong(size).putLong(uva).putLong(offset).array();
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    interface Attack {
        void run(RawClient client) throws Exception;
    }

    /**
     * Starts a victim port, lets {@code attack} talk to it, and checks: the port hangs up, gives {@code reason}
     * (in lastCloseReason and in the log), the bystander still forwards, and the victim serves a good front-end.
     */
    private String expectRefused(PortSettings settings, Attack attack, String reason) throws Exception {
        Path sock = dir.resolve("victim.sock");
        victim = VhostUserPort.listen("victim", sock, settings);
        victimLoop = new LoopbackDataPath(victim);
        long t0 = System.nanoTime();
        try (RawClient c = new RawClient(sock)) {
            attack.run(c);
            c.awaitHangUp();
        }
        String actual = awaitReason(victim, 1, reason);
        System.out.printf("refused in %d ms: %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), actual);
        assertTrue(LOGGED.stream().anyMatch(l -> l.contains("victim: connection closed: " + actual)),
                () -> "logged: " + List.copyOf(LOGGED));
        // Only that connection ended: the bystander keeps forwarding...
        TestFrames.exchange(bystanderFrontend, 20, 4, seq -> 100 + seq, f -> f);
        assertEquals(1, bystander.connections());
        // ...and the victim port takes the next front-end (unless it only accepts a trusted file).
        if (settings.trusted().isEmpty()) {
            try (VhostUserFrontend fe = VhostUserFrontend.connect(sock, VhostUserFrontend.Options.defaults()
                    .withQueueSize(Math.min(256, settings.maxQueueSize())))) {
                TestFrames.exchange(fe, 20, 4, seq -> 100 + seq, f -> f);
            }
        }
        return actual;
    }

    private static String awaitReason(VhostUserPort port, int connections, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((port.connections() < connections || port.isConnected() || port.lastCloseReason() == null)
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        String actual = port.lastCloseReason();
        assertNotNull(actual, "the connection was closed");
        assertTrue(actual.contains(expected), () -> "close reason \"" + actual + "\" should contain \"" + expected + "\"");
        return actual;
    }

    private static byte[] u64(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    private static byte[] vringState(int index, int num) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(index).putInt(num).array();
    }

    /** A memory table of {@code regions} regions of 1 MiB, side by side from guest address 0. */
    private static byte[] memTable(int regions) {
        ByteBuffer b = ByteBuffer.allocate(8 + 32 * regions).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(regions).putInt(0);
        for (int i = 0; i < regions; i++) {
            b.putLong((long) i << 20).putLong(1 << 20).putLong(0x7f0000000000L + ((long) i << 20)).putLong(0);
        }
        return b.array();
    }

    /** A front-end that sends whatever it is told. */
    static final class RawClient implements AutoCloseable {
        final UnixSocket socket;

        RawClient(Path path) throws IOException {
            socket = UnixSocket.connect(path);
            socket.setReceiveTimeout(10_000);
        }

        void send(int request, int flags, byte[] payload, int... fds) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(12 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(request).putInt(flags).putInt(payload.length).put(payload).flip();
            socket.sendFully(b, fds);
        }

        void sendHeader(int request, int flags, int size) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(request).putInt(flags).putInt(size).flip();
            socket.sendFully(b);
        }

        /** Reads (and drops) replies until the back-end closes the connection. */
        void awaitHangUp() throws IOException {
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (true) {
                b.clear();
                UnixSocket.Received r;
                try {
                    r = socket.recv(b, 8);
                } catch (IOException e) {
                    if (e.getMessage().contains("ECONNRESET")) {
                        return;
                    }
                    throw e;
                }
                if (r.eof()) {
                    return;
                }
                for (int fd : r.fds()) {
                    Fd.adopt(fd).close();
                }
            }
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
