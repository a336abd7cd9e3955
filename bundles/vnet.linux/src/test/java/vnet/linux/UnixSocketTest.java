package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnixSocketTest {
    @TempDir
    Path dir;

    /**
     * The vhost-user shape: a 12-byte header carrying two descriptors (a memfd and an eventfd), then the payload.
     * The receiver maps the memfd and sees the sender's bytes, and rings the eventfd the sender then drains.
     */
    @Test
    void passesAMemfdAndAnEventFdWithAHeader() throws Exception {
        Path path = dir.resolve("vhost.sock");
        byte[] payload = "SET_MEM_TABLE region 0".getBytes(StandardCharsets.US_ASCII);
        try (UnixSocket server = UnixSocket.listen(path, 1);
             Fd memfd = Memfd.create("guest-ram", 1 << 16);
             Mapping senderView = Mman.mapShared(memfd, 0, 1 << 16);
             EventFd call = EventFd.create()) {
            senderView.byteBuffer(0x1000, 5).put("hello".getBytes(StandardCharsets.US_ASCII));

            CompletableFuture<Void> client = CompletableFuture.runAsync(() -> {
                try (UnixSocket socket = UnixSocket.connect(path)) {
                    ByteBuffer header = ByteBuffer.allocateDirect(12).order(ByteOrder.LITTLE_ENDIAN);
                    header.putInt(5).putInt(1).putInt(payload.length).flip();
                    socket.sendFully(header, memfd.fd(), call.fd().fd());
                    socket.sendFully(payload);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });

            try (UnixSocket peer = server.accept()) {
                ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                UnixSocket.Received got = peer.recvExactly(header, 8);
                assertEquals(12, got.bytes());
                assertEquals(2, got.fds().length, "descriptors come with the header");
                header.flip();
                assertEquals(5, header.getInt());
                assertEquals(1, header.getInt());
                int size = header.getInt();
                byte[] body = new byte[size];
                UnixSocket.Received rest = peer.recvExactly(body, 0);
                assertEquals(size, rest.bytes());
                assertArrayEquals(payload, body);

                for (int fd : got.fds()) {
                    assertTrue(CloseOnExecTest.isCloseOnExec(fd), "MSG_CMSG_CLOEXEC: fd " + fd);
                }
                Fd[] fds = Fd.adoptAll(got.fds());
                try (Fd receivedMem = fds[0]; EventFd receivedCall = EventFd.adopt(fds[1]);
                     Mapping receiverView = Mman.mapShared(receivedMem, 0x1000, 5)) {
                    assertTrue(receivedMem.fd() != memfd.fd(), "a new descriptor for the same file");
                    assertTrue(Fstat.of(receivedMem).sameFile(Fstat.of(memfd)));
                    byte[] seen = new byte[5];
                    receiverView.byteBuffer(0, 5).get(seen);
                    assertEquals("hello", new String(seen, StandardCharsets.US_ASCII));
                    receiverView.byteBuffer(0, 1).put(0, (byte) 'j');
                    assertEquals('j', senderView.byteBuffer(0x1000, 1).get(0));

                    receivedCall.signal();
                    assertEquals(1, call.drain());
                }
                assertTrue(peer.recv(ByteBuffer.allocate(1), 0).eof(), "client closed: end of file");
            }
            client.get(10, TimeUnit.SECONDS);
        }
        assertFalse(java.nio.file.Files.exists(path), "closing the server removes its path");
    }

    @Test
    void aTruncatedMessageIsAnEofExceptionAndACleanEndIsEof() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]; EventFd e = EventFd.create()) {
            a.sendFully(new byte[] {1, 2, 3, 4, 5}, e.fd().fd());
            a.shutdown(UnixSocket.SHUT_WR);
            EOFException truncated = assertThrows(EOFException.class, () -> b.recvExactly(new byte[12], 1));
            assertTrue(truncated.getMessage().contains("after 5 of 12 bytes"), truncated.getMessage());
            assertTrue(b.recvExactly(new byte[12], 1).eof());
            assertTrue(b.recv(ByteBuffer.allocate(4), 1).eof());
        }
    }

    @Test
    void moreDescriptorsThanExpectedIsAnError() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1];
             EventFd e1 = EventFd.create(); EventFd e2 = EventFd.create(); EventFd e3 = EventFd.create()) {
            a.sendFully(new byte[] {9}, e1.fd().fd(), e2.fd().fd(), e3.fd().fd());
            IOException e = assertThrows(IOException.class, () -> b.recv(ByteBuffer.allocate(1), 1));
            assertTrue(e.getMessage().contains("MSG_CTRUNC"), e.getMessage());
        }
    }

    @Test
    void bytesSplitAcrossSendsArriveWhole() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            byte[] big = new byte[1 << 20];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 31);
            }
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try {
                    a.sendFully(ByteBuffer.allocateDirect(big.length).put(big).flip());
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ByteBuffer into = ByteBuffer.allocateDirect(big.length);
            UnixSocket.Received got = b.recvExactly(into, 0);
            sender.get(10, TimeUnit.SECONDS);
            assertEquals(big.length, got.bytes());
            byte[] back = new byte[big.length];
            into.flip().get(back);
            assertArrayEquals(big, back);
        }
    }

    @Test
    void receiveTimeoutAndNonBlockingMode() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            b.setReceiveTimeout(50);
            LinuxException timeout = assertThrows(LinuxException.class, () -> b.recv(ByteBuffer.allocate(4), 0));
            assertEquals(Errno.EAGAIN, timeout.errno());

            b.setNonBlocking(true);
            UnixSocket.Received nothing = b.recv(ByteBuffer.allocate(4), 0);
            assertEquals(0, nothing.bytes());
            assertFalse(nothing.eof());
            a.sendFully(ByteBuffer.wrap(new byte[] {7, 8}).asReadOnlyBuffer());
            ByteBuffer into = ByteBuffer.allocate(4);
            assertEquals(2, b.recv(into, 0).bytes());
            assertEquals(8, into.get(1));
        }
    }

    @Test
    void connectingToNothingNamesTheError() throws Exception {
        LinuxException missing = assertThrows(LinuxException.class, () -> UnixSocket.connect(dir.resolve("none")));
        assertEquals("ENOENT", missing.errnoName());
        assertTrue(missing.getMessage().startsWith("connect: ENOENT (No such file or directory)"), missing.getMessage());

        Path stale = dir.resolve("stale.sock");
        UnixSocket dead = UnixSocket.listen(stale, 1);
        dead.fd().close(); // the path stays, nobody listens: as after a crash
        LinuxException refused = assertThrows(LinuxException.class, () -> UnixSocket.connect(stale));
        assertEquals("ECONNREFUSED", refused.errnoName());

        try (UnixSocket again = UnixSocket.listen(stale, 1)) {
            try (UnixSocket client = UnixSocket.connect(stale); UnixSocket accepted = again.accept()) {
                client.sendFully(new byte[] {1});
                assertEquals(1, accepted.recvExactly(new byte[1], 0).bytes());
            }
            LinuxException inUse = assertThrows(LinuxException.class, () -> UnixSocket.listen(stale, 1));
            assertEquals("EADDRINUSE", inUse.errnoName());
            try (UnixSocket probe = again.accept()) {
                assertTrue(probe.recv(ByteBuffer.allocate(1), 0).eof(), "the liveness probe connects and closes");
            }
            again.setNonBlocking(true);
            assertNull(again.accept(), "non-blocking accept without a client");
        }

        LinuxException tooLong = assertThrows(LinuxException.class,
                () -> UnixSocket.listen(dir.resolve("x".repeat(120)), 1));
        assertEquals("ENAMETOOLONG", tooLong.errnoName());
    }
}
