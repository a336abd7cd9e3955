package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class FilesIoctlTest {
    private static final long FIONREAD = 0x541B;
    private static final long TUNSETIFF = 0x400454caL;

    @Test
    void readAndWriteDirectHeapAndAddress() throws Exception {
        try (Fd zero = Files.open("/dev/zero", Files.O_RDONLY); Fd nul = Files.open("/dev/null", Files.O_RDWR)) {
            ByteBuffer direct = ByteBuffer.allocateDirect(64);
            direct.put(new byte[] {1, 1, 1, 1}).position(2);
            assertEquals(62, Files.read(zero.fd(), direct));
            assertEquals(64, direct.position());
            direct.flip();
            assertEquals(1, direct.get(0));
            assertEquals(1, direct.get(1));
            assertEquals(0, direct.get(2), "read started at the position");

            ByteBuffer heap = ByteBuffer.wrap(new byte[] {5, 5, 5, 5, 5, 5}, 1, 3);
            assertEquals(3, Files.read(zero.fd(), heap));
            assertEquals(5, heap.array()[0]);
            assertEquals(0, heap.array()[1]);
            assertEquals(5, heap.array()[4]);

            assertEquals(64, Files.write(nul.fd(), direct));
            assertEquals(-1, Files.read(nul.fd(), ByteBuffer.allocate(8)), "end of file");
            try (Memory m = new Memory(16)) {
                m.setLong(0, -1);
                assertEquals(16, Files.read(zero.fd(), Pointer.nativeValue(m), 16));
                assertEquals(0, m.getLong(0));
            }
        }
    }

    @Test
    void openErrorsNameThePath() {
        LinuxException e = assertThrows(LinuxException.class, () -> Files.open("/nonexistent/x", Files.O_RDONLY));
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("/nonexistent/x"), e.getMessage());
    }

    @Test
    void ioctlWithAnIntPointer() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            a.sendFully(new byte[] {1, 2, 3, 4, 5});
            int[] pending = {-1};
            Ioctl.ioctl(b.fd(), FIONREAD, pending);
            assertEquals(5, pending[0]);
        }
    }

    @Test
    void ioctlOnTheWrongDeviceIsEnottyOrEinval() throws Exception {
        try (Fd nul = Files.open("/dev/null", Files.O_RDWR)) {
            byte[] ifreq = new byte[40];
            LinuxException e = assertThrows(LinuxException.class, () -> Ioctl.ioctl(nul, TUNSETIFF, ifreq));
            assertEquals("ENOTTY", e.errnoName());
            assertTrue(e.getMessage().startsWith("ioctl(0x400454ca): ENOTTY"), e.getMessage());
            assertThrows(LinuxException.class, () -> Ioctl.ioctl(nul, TUNSETIFF, ByteBuffer.allocateDirect(40)));
            assertThrows(LinuxException.class, () -> Ioctl.ioctl(nul, FIONREAD, 0L));
        }
    }
}
